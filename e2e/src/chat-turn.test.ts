import { randomUUID } from 'node:crypto';
import {
  AUDIO_ERROR_MESSAGES,
  createBullmqQueue,
  createQueue,
  enqueue,
  queueCatalog,
  redisKeys,
} from '@xiaoyue/shared';
import { fakeAudioFor, testRedisClient } from '@xiaoyue/test-support';
import { describe, expect, it } from 'vitest';
import { useSystemWithFakes } from './system.js';

const env = useSystemWithFakes();

async function connect(userId = `learner-${randomUUID().slice(0, 8)}`, query = '') {
  return env.connect(userId, query);
}

function tutorReply(chinese: string, extra: Record<string, unknown> = {}) {
  return {
    emotion: 'happy',
    chinese_content: chinese,
    pinyin: 'pīnyīn',
    vietnamese_display: 'bản dịch',
    action: 'none',
    quiz_list: [],
    user_tone: 'polite',
    thought: 'thinking',
    ...extra,
  };
}

describe('a chat turn through gateway, agent worker and TTS worker', () => {
  it('greets, then answers a message in character with her voice', async () => {
    const client = await connect('first-learner');
    const welcome = await client.next('welcome');
    expect(welcome).toMatchObject({
      status: 'success',
      data: { user_id: 'first-learner', sulking_level: 0, history_length: 0, last_seq: 0, mode: 'online' },
    });

    env.gemini.enqueue({ kind: 'reply', body: tutorReply('师兄好！很高兴见到你！') });
    client.send({ action: 'chat', message: '你好', request_id: 'r-1' });
    const typing = await client.next('typing');
    expect(typing).toMatchObject({ status: 'success', request_id: 'r-1', data: { is_typing: true } });

    const reply = await client.next('reply');
    expect(reply).toMatchObject({
      status: 'success',
      request_id: 'r-1',
      seq: 1,
      data: {
        chinese_content: '师兄好！很高兴见到你！',
        // The trusted readings, not the model's own (here deliberately wrong) pinyin.
        pinyin: 'Shī xiōng hǎo! Hěn gāo xìng jiàn dào nǐ!',
        vietnamese_display: 'bản dịch',
        emotion: 'happy',
        action: 'none',
        quiz_list: [],
        sulking_level: 0,
        turn_id: typing.data.turn_id,
      },
    });
    expect(Buffer.from(reply.data.audio_base64, 'base64').equals(fakeAudioFor('师兄好！很高兴见到你！'))).toBe(true);
    // When each of her words is spoken, over her line's characters, in order: what lights them up.
    const timings = reply.data.word_boundaries as {
      text: string;
      start_ms: number;
      char_start: number;
      char_end: number;
    }[];
    expect(timings.length).toBeGreaterThan(2);
    for (const word of timings) expect('师兄好！很高兴见到你！'.slice(word.char_start, word.char_end)).toBe(word.text);
    expect(timings.map((w) => w.start_ms)).toEqual([...timings.map((w) => w.start_ms)].sort((a, b) => a - b));
    expect(new Date(reply.data.timestamp).toISOString()).toBe(reply.data.timestamp);
    // Trusted readings, aligned with her words: every character covered, punctuation on its own.
    const tokens = reply.data.pinyin_tokens as { hanzi: string; pinyin: string }[];
    expect(tokens.map((t) => t.hanzi).join('')).toBe('师兄好！很高兴见到你！');
    expect(
      tokens
        .map((t) => t.pinyin)
        .filter(Boolean)
        .join(' '),
    ).toBe('shī xiōng hǎo hěn gāo xìng jiàn dào nǐ');
    expect(tokens.filter((t) => t.hanzi === '！')).toEqual([
      { hanzi: '！', pinyin: '' },
      { hanzi: '！', pinyin: '' },
    ]);
    expect(reply.data.fallback).toBeUndefined();
    // Her happy voice: the seed's preset reached Edge.
    expect(env.edge.requests.at(-1)).toMatchObject({ text: '师兄好！很高兴见到你！', rate: '+5%', volume: '+5%' });
  });

  it("sends the first turn in the second turn's Gemini request, and keeps both in the state", async () => {
    const client = await connect();
    await client.next('welcome');
    env.gemini.enqueue({ kind: 'reply', body: tutorReply('你叫什么名字？') });
    client.send({ action: 'chat', message: '我是阿明', user_role: '师弟' });
    await client.next('reply');
    env.gemini.enqueue({ kind: 'reply', body: tutorReply('阿明，欢迎你！') });
    client.send({ action: 'chat', message: '我想学中文' });
    await client.next('reply');

    const second = env.gemini.requests.at(-1)?.body;
    const texts = JSON.stringify(second.contents);
    expect(second.contents.map((c: { role: string }) => c.role)).toEqual(['user', 'model', 'user']);
    expect(texts).toContain('我是阿明');
    expect(texts).toContain('你叫什么名字？');
    expect(texts).toContain('我想学中文');
    expect(JSON.stringify(env.gemini.requests.at(-2)?.body.systemInstruction)).toContain('师弟');

    const state = await client.request({ action: 'get_state' }, 'state');
    expect(state.data.history_length).toBe(2);
    expect(state.data.history.map((t: { user_message: string }) => t.user_message)).toEqual(['我是阿明', '我想学中文']);
    expect(state.data.history[0]).toMatchObject({ chinese_content: '你叫什么名字？', user_role: '师弟' });
  });

  it('sets the sulking level, lets rudeness raise it, and resets', async () => {
    const client = await connect();
    await client.next('welcome');
    const set = await client.request({ action: 'set_sulking', level: 2 }, 'sulking_set');
    expect(set.data).toMatchObject({ sulking_level: 2 });

    env.gemini.enqueue({ kind: 'reply', body: tutorReply('哼！', { emotion: 'sulking', user_tone: 'rude' }) });
    client.send({ action: 'chat', message: '你真笨' });
    const reply = await client.next('reply');
    expect(reply.data.sulking_level).toBe(3);
    expect((await client.request({ action: 'get_state' }, 'state')).data.sulking_reason).toBe('the learner was rude');
    expect(JSON.stringify(env.gemini.requests.at(-1)?.body.systemInstruction)).toContain('2/3');
    // Sulking voice preset.
    expect(env.edge.requests.at(-1)).toMatchObject({ rate: '-5%', volume: '-5%' });

    const reset = await client.request({ action: 'reset' }, 'reset');
    expect(reset.data).toEqual({ sulking_level: 0, sulking_reason: null, history_length: 0 });
    const state = await client.request({ action: 'get_state' }, 'state');
    expect(state.data).toMatchObject({ sulking_level: 0, history_length: 0, history: [] });
  });

  it('speaks with her sulking voice at level 2 and above, whatever her emotion', async () => {
    const client = await connect();
    await client.next('welcome');
    await client.request({ action: 'set_sulking', level: 2 }, 'sulking_set');
    env.gemini.enqueue({
      kind: 'reply',
      body: tutorReply('好吧，我听着。', { emotion: 'happy', user_tone: 'neutral' }),
    });
    client.send({ action: 'chat', message: '我们聊聊吧' });
    const reply = await client.next('reply');
    expect(reply.data).toMatchObject({ emotion: 'happy', sulking_level: 2 });
    expect(env.edge.requests.at(-1)).toMatchObject({ text: '好吧，我听着。', rate: '-5%', volume: '-5%' });
  });

  it('answers malformed frames with clear errors and keeps the connection', async () => {
    const client = await connect();
    await client.next('welcome');
    // Frames the client's types would refuse: sent as text through its socket.
    const cases: [unknown, string][] = [
      ['{nope', 'invalid_json'],
      [{ action: 'fly' }, 'unknown_action'],
      [{ action: 'chat', message: 7 }, 'invalid_message'],
      [{ action: 'set_sulking', level: 9 }, 'invalid_message'],
      [{ action: 'chat', message: '长'.repeat(501) }, 'message_too_long'],
      [{ action: 'chat', message: 'x'.repeat(20_000) }, 'frame_too_large'],
    ];
    for (const [frame, code] of cases) {
      client.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
      const error = await client.next('error');
      expect(error).toMatchObject({ status: 'error', data: { code } });
      expect(error.data.message).toEqual(expect.any(String));
    }
    client.socket.send(Buffer.from([1, 2, 3]));
    expect((await client.next('error')).data.code).toBe('invalid_message');
    // Still usable.
    const state = await client.request({ action: 'get_state' }, 'state');
    expect(state.status).toBe('success');
  });

  it('closes a socket that sends invalid UTF-8 with 1007, and logs it as the client\u2019s fault, not an error', async () => {
    const client = await connect();
    await client.next('welcome');
    // A text frame whose bytes are not UTF-8: the WebSocket layer refuses it before our code sees it.
    const tcp = (client.socket as unknown as { _socket: { write(bytes: Buffer): void } })._socket;
    tcp.write(Buffer.from([0x81, 0x83, 1, 2, 3, 4, 0xff ^ 1, 0xfe ^ 2, 0xfd ^ 3])); // masked, as clients must
    expect((await client.closed).code).toBe(1007);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const errors = env.system.gateway
      .output()
      .split('\n')
      .filter((line) => line.includes('"level":50'));
    expect(errors).toEqual([]);
  });

  it('answers busy to a second message while the first is in flight', async () => {
    const client = await connect();
    await client.next('welcome');
    env.gemini.enqueue({ kind: 'reply', body: tutorReply('好的。'), delayMs: 500 });
    client.send({ action: 'chat', message: '第一句' });
    client.send({ action: 'chat', message: '第二句', request_id: 'second' });
    await client.next('typing');
    const busy = await client.next('error');
    expect(busy).toMatchObject({ request_id: 'second', data: { code: 'busy' } });
    await client.next('reply');
    // After the reply the learner may talk again.
    client.send({ action: 'chat', message: '第三句' });
    await client.next('typing');
    await client.next('reply');
  });

  it('answers with her fallback line when Gemini keeps failing', async () => {
    const client = await connect();
    await client.next('welcome');
    env.gemini.enqueue({ kind: 'error', status: 500 }, { kind: 'error', status: 503 }, { kind: 'garbage' });
    client.send({ action: 'chat', message: '你好' });
    const reply = await client.next('reply');
    expect(reply.data).toMatchObject({ fallback: true, sulking_level: 0 });
    expect(reply.data.chinese_content).toMatch(/[\u4e00-\u9fff]/);
    expect(reply.data.vietnamese_display.length).toBeGreaterThan(0);
    expect(reply.data.audio_base64).toEqual(expect.any(String));
    expect(env.gemini.requests.length).toBe(3);
  });

  it('pauses the queue on a 429 and answers for real once Gemini lets her', async () => {
    const client = await connect();
    await client.next('welcome');
    env.gemini.enqueue({ kind: 'error', status: 429 }, { kind: 'reply', body: tutorReply('久等了，师兄！') });
    client.send({ action: 'chat', message: '你好' });
    const reply = await client.next('reply');
    expect(reply.data).toMatchObject({ chinese_content: '久等了，师兄！' });
    expect(reply.data.fallback).toBeUndefined();
    // The 429 cost no attempt and no fallback: the turn went back to the queue and was asked again.
    expect(env.gemini.requests.slice(-2).map((r) => r.body.contents.at(-1).parts[0].text)).toEqual(['你好', '你好']);
    const metrics = await (await fetch(`${env.system.probes.agent}/metrics`)).text();
    expect(metrics).toMatch(/^xiaoyue_llm_rate_limit_pauses_total\{[^}]*\} [1-9]/m);
  });

  it('delivers the reply without audio when speech fails', async () => {
    const client = await connect();
    await client.next('welcome');
    env.gemini.enqueue({ kind: 'reply', body: tutorReply('今天练剑了吗？') });
    env.edge.enqueue({ kind: 'reject', status: 403 });
    client.send({ action: 'chat', message: '早上好' });
    const reply = await client.next('reply');
    expect(reply.data).toMatchObject({ chinese_content: '今天练剑了吗？', audio_base64: null });
    // A code and a sentence for the learner; Edge's own words (HTTP 403) stay in the logs.
    expect(reply.data).toMatchObject({
      audio_error_code: 'tts_unavailable',
      audio_error: AUDIO_ERROR_MESSAGES.tts_unavailable,
    });
    expect(JSON.stringify(reply.data)).not.toMatch(/403|Edge|speech failed/);
  });

  it('answers within the turn deadline when Gemini hangs', async () => {
    const client = await connect();
    await client.next('welcome');
    env.gemini.enqueue({ kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' });
    const started = Date.now();
    client.send({ action: 'chat', message: '你在吗？' });
    const reply = await client.next('reply', 12_000);
    expect(Date.now() - started).toBeLessThan(8_000 + 1_000);
    expect(reply.data.fallback).toBe(true);
  });

  it('answers a turn whose deadline a gateway of the previous release queued as a delayed job (rolling deploy)', async () => {
    const userId = `old-gateway-${randomUUID().slice(0, 8)}`;
    const client = await connect(userId);
    await client.next('welcome');
    // What an old gateway did: the turn's lock and a delayed turn-deadline job; its chat job was lost.
    // A client of whatever topology the test Redis has (a plain one got MOVED on the cluster).
    const redis = testRedisClient(env.redis);
    const queue = createQueue(queueCatalog.turnDeadline, redis, env.system.prefix);
    try {
      const turnId = randomUUID();
      await redis.set(redisKeys(env.system.prefix).activeTurn(userId), turnId, 'PX', 30_000);
      const deadline = { turn_id: turnId, user_id: userId, user_message: '你好', user_role: '师兄' };
      await enqueue(queue, queueCatalog.turnDeadline, deadline, { delay: 300 });
      const reply = await client.next('reply', 5_000);
      expect(reply.data).toMatchObject({ turn_id: turnId, fallback: true, audio_base64: null });
      expect(await redis.get(redisKeys(env.system.prefix).activeTurn(userId))).toBeNull();
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('answers chat and tts jobs that the previous release queued in BullMQ (rolling deploy)', async () => {
    const userId = `old-release-${randomUUID().slice(0, 8)}`;
    const client = await connect(userId);
    await client.next('welcome');
    // What an old gateway did: the turn's lock and a BullMQ chat job (chat and tts are streams now).
    const redis = testRedisClient(env.redis);
    const chat = createBullmqQueue(queueCatalog.chat, redis, env.system.prefix);
    const tts = createBullmqQueue(queueCatalog.tts, redis, env.system.prefix);
    try {
      const turnId = randomUUID();
      const now = Date.now();
      await redis.set(redisKeys(env.system.prefix).activeTurn(userId), turnId, 'PX', 30_000);
      env.gemini.enqueue({ kind: 'reply', body: tutorReply('老版本的消息也有回答。') });
      const job = { turn_id: turnId, user_id: userId, message: '你好', user_role: '师兄' };
      await enqueue(chat, queueCatalog.chat, { ...job, deadline_at: now + 30_000, enqueued_at: now });
      const reply = await client.next('reply', 10_000);
      expect(reply.data).toMatchObject({ turn_id: turnId, chinese_content: '老版本的消息也有回答。' });
      expect(Buffer.from(reply.data.audio_base64, 'base64').equals(fakeAudioFor('老版本的消息也有回答。'))).toBe(true);

      // An old agent's speech job for a replay of that line.
      await enqueue(tts, queueCatalog.tts, {
        turn_id: turnId,
        user_id: userId,
        text: '老版本的消息也有回答。',
        emotion: 'happy',
        deadline_at: Date.now() + 30_000,
        replay: { rate: 'slow', id: 'old-1' },
      });
      const replay = await client.next('replay_audio', 10_000);
      expect(replay.data).toMatchObject({ turn_id: turnId, rate: 'slow', chinese_content: '老版本的消息也有回答。' });
    } finally {
      await Promise.all([chat.close(), tts.close()]);
      redis.disconnect();
    }
  });

  it('replays a missed reply to a client that reconnects with last_seq', async () => {
    const userId = `resume-${randomUUID().slice(0, 8)}`;
    const first = await connect(userId);
    const welcome = await first.next('welcome');
    env.gemini.enqueue({ kind: 'reply', body: tutorReply('你回来了！'), delayMs: 300 });
    first.send({ action: 'chat', message: '我先走了' });
    await first.next('typing');
    first.close();
    await first.closed;
    await new Promise((r) => setTimeout(r, 1_000)); // the reply is delivered while nobody listens

    const again = await connect(userId, `?last_seq=${welcome.data.last_seq}`);
    const rewelcome = await again.next('welcome');
    expect(rewelcome.data.last_seq).toBe(welcome.data.last_seq + 1);
    const reply = await again.next('reply');
    expect(reply).toMatchObject({ seq: welcome.data.last_seq + 1, data: { chinese_content: '你回来了！' } });

    // A fresh connection without last_seq does not replay old events.
    const fresh = await connect(userId);
    await fresh.next('welcome');
    await expect(fresh.next('reply', 500)).rejects.toThrow(/no matching frame/);
  });

  it('answers liveness and readiness probes in every service', async () => {
    for (const base of Object.values(env.system.probes)) {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ status: 'ready' });
    }
  });

  it('refuses a malformed user id with HTTP 400 before the upgrade', async () => {
    for (const bad of ['bad id', 'x'.repeat(65), 'a/b']) {
      const client = await connect(bad);
      expect(await client.closed).toMatchObject({ code: 1006, status: 400 });
    }
  });

  it('exposes Prometheus metrics of what happened, in every service', async () => {
    const scrape = async (base: string) => (await fetch(`${base}/metrics`)).text();
    /** The value of one sample, e.g. value(text, 'xiaoyue_turn_done_seconds_count', 'mode="seed"'). */
    const value = (text: string, name: string, label = '') =>
      Number(new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    const gateway = await scrape(env.system.probes.gatewayMetrics);
    expect(value(gateway, 'xiaoyue_turn_done_seconds_count', 'mode="seed"')).toBeGreaterThanOrEqual(8);
    expect(value(gateway, 'xiaoyue_turn_first_audio_seconds_count', 'mode="seed"')).toBeGreaterThanOrEqual(5);
    expect(value(gateway, 'xiaoyue_client_errors_total', 'code="busy"')).toBeGreaterThanOrEqual(1);
    expect(value(gateway, 'xiaoyue_gateway_sockets')).toBeGreaterThanOrEqual(0);
    const agent = await scrape(env.system.probes.agent);
    expect(value(agent, 'xiaoyue_llm_first_token_seconds_count', 'provider="gemini"')).toBeGreaterThanOrEqual(5);
    expect(value(agent, 'xiaoyue_fallback_replies_total', 'reason="llm_failed"')).toBeGreaterThanOrEqual(2);
    expect(value(agent, 'xiaoyue_queue_wait_seconds_count', 'queue="chat"')).toBeGreaterThanOrEqual(8);
    expect(value(agent, 'xiaoyue_queue_depth', 'queue="chat",state="wait"')).toBe(0);
    const tts = await scrape(env.system.probes.tts);
    expect(value(tts, 'xiaoyue_tts_duration_seconds_count', 'outcome="ok"')).toBeGreaterThanOrEqual(5);
    expect(value(tts, 'xiaoyue_tts_failures_total', 'provider="edge"')).toBeGreaterThanOrEqual(1);
    expect(value(tts, 'xiaoyue_tts_cache_lookups_total', 'result="miss"')).toBeGreaterThanOrEqual(5);
  });

  it('shuts every service down cleanly on SIGTERM', async () => {
    const client = await connect();
    await client.next('welcome');
    const codes = await Promise.all([env.system.gateway.stop(), env.system.agent.stop(), env.system.tts.stop()]);
    expect(codes).toEqual([0, 0, 0]);
    // The gateway told the client to reconnect elsewhere.
    expect((await client.closed).code).toBe(1012);
  });
});
