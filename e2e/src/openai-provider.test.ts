import { randomUUID } from 'node:crypto';
import { lastUserMessage, systemPromptOf } from '@xiaoyue/test-support';
import { describe, expect, it } from 'vitest';
import { useSystemWithFakes } from './system.js';
import { QUIZZES, tutorReply } from './tutor-replies.js';

/** The whole system with an OpenAI-compatible server as her mind (LLM_PROVIDER=openai, the local fake). */
const env = useSystemWithFakes({ llm: 'openai' });

const learner = () => `oai-${randomUUID().slice(0, 8)}`;

async function connect(query = '') {
  const client = await env.connect(learner(), query);
  const welcome = await client.next('welcome');
  return { client, welcome };
}

const SENTENCES = ['师兄早上好！', '今天我们一起去后山练剑吧。', '师父说你进步很大！'];

describe('an OpenAI-compatible model as her mind', () => {
  it('answers a seed-mode turn, and the server gets the persona, the message and the strict schema', async () => {
    const { client, welcome } = await connect();
    // The wire keeps the values the client knows: an LLM is `online`.
    expect(welcome.data.mode).toBe('online');
    env.openai.enqueue({ kind: 'reply', body: tutorReply({ chinese_content: '师兄好！', action: 'none' }) });
    client.send({ action: 'chat', message: '你好' });
    const reply = (await client.next('reply')).data;
    expect(reply).toMatchObject({ chinese_content: '师兄好！', user_tone: 'polite' });
    expect(reply.fallback).toBeUndefined();
    expect(reply.audio_base64).not.toBeNull();

    const [request] = env.openai.requests;
    expect(request).toMatchObject({ model: 'fake-chat-1', stream: false, authorization: 'Bearer test-key' });
    expect(systemPromptOf(request?.body)).toContain('当前生气程度：0/3');
    expect(request?.body.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user']);
    expect(lastUserMessage(request?.body)).toBe('你好');
    expect(request?.body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'xiaoyue_reply', strict: true },
    });
  });

  it('sends the history as user and assistant turns', async () => {
    const { client } = await connect();
    env.openai.enqueue(
      { kind: 'reply', body: tutorReply({ chinese_content: '我叫小月。', action: 'none' }) },
      { kind: 'reply', body: tutorReply({ chinese_content: '记住啦。', action: 'none' }) },
    );
    client.send({ action: 'chat', message: '你叫什么名字？' });
    await client.next('reply');
    client.send({ action: 'chat', message: '我叫阿明。' });
    await client.next('reply');
    const messages = env.openai.requests.at(-1)?.body.messages as { role: string; content: string }[];
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[1]?.content).toBe('你叫什么名字？');
    expect(messages[2]?.content).toContain('我叫小月。');
    expect(messages[3]?.content).toBe('我叫阿明。');
  });

  it('streams (?stream=1): her voice starts before the model finishes, sentences in order, no thinking shown', async () => {
    const { client } = await connect('?stream=1');
    const think = '师兄说早上好，我要高兴地回答。';
    env.openai.enqueue({
      kind: 'reply',
      body: tutorReply({ emotion: 'excited', chinese_content: SENTENCES.join(''), action: 'praise' }),
      think,
      reasoning: '推理内容不能给师兄看',
      chunks: 16,
      intervalMs: 150,
      usage: true,
    });
    client.send({ action: 'chat', message: '早上好' });
    await client.next('reply_audio', 15_000);
    const firstAudioAt = Date.now();
    await client.next('reply_done', 15_000);
    // The fake sends the role, 3 reasoning deltas, then 16 content deltas, 150 ms apart.
    const lastContentAt = (env.openai.requests.at(-1)?.receivedAt ?? 0) + (1 + 3 + 15) * 150;
    expect(firstAudioAt).toBeLessThan(lastContentAt);

    const frames = client.frames.filter((f) => f.type.startsWith('reply'));
    expect(frames[0]).toMatchObject({ type: 'reply_start', data: { emotion: 'excited' } });
    const seqs = frames.map((f) => f.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
    const texts = frames.filter((f) => f.type === 'reply_text');
    expect(texts.map((f) => [f.data.index, f.data.chinese])).toEqual(SENTENCES.map((s, i) => [i, s]));
    expect(frames.filter((f) => f.type === 'reply_audio').map((f) => f.data.index)).toEqual([0, 1, 2]);
    expect(frames.at(-1)).toMatchObject({
      type: 'reply_done',
      data: { chinese_content: SENTENCES.join(''), sentences: 3 },
    });
    expect(env.openai.requests.at(-1)).toMatchObject({ stream: true });
    const everything = JSON.stringify(client.frames);
    for (const hidden of ['推理内容', think, '<think>']) expect(everything).not.toContain(hidden);
  });

  it('lets rudeness raise her sulk, and the next prompt carries it', async () => {
    const { client } = await connect();
    env.openai.enqueue(
      {
        kind: 'reply',
        body: tutorReply({ chinese_content: '哼！', emotion: 'sulking', user_tone: 'rude', action: 'none' }),
      },
      { kind: 'reply', body: tutorReply({ chinese_content: '哼。', emotion: 'sulking', action: 'none' }) },
    );
    client.send({ action: 'chat', message: '你真笨' });
    expect((await client.next('reply')).data.sulking_level).toBe(1);
    client.send({ action: 'chat', message: '好吧' });
    await client.next('reply');
    expect(systemPromptOf(env.openai.requests.at(-1)?.body)).toContain('当前生气程度：1/3');
  });

  it('grades its quizzes, and a translation the rules call wrong is judged by the same model', async () => {
    const { client } = await connect();
    env.openai.enqueue({ kind: 'reply', body: tutorReply({ quiz_list: QUIZZES }) });
    client.send({ action: 'chat', message: '考考我' });
    const [choice, , translate] = (await client.next('reply')).data.quiz_list;
    const right = await client.request({ action: 'answer', quiz_id: choice.id, answer: 'B' }, 'quiz_result');
    expect(right.data).toMatchObject({ correct: true, expected: 'ngân hàng' });

    env.openai.enqueue({ kind: 'reply', body: { correct: true, explanation: 'Đúng: "mình vui lắm" cũng đúng.' } });
    client.send({ action: 'answer', quiz_id: translate.id, answer: 'Mình vui lắm' });
    const judged = (await client.next('quiz_result')).data;
    expect(judged).toMatchObject({ correct: true, graded_by: 'llm', explanation: expect.stringContaining('mình vui') });
    const request = env.openai.requests.at(-1)?.body;
    expect(request.response_format.json_schema).toMatchObject({ name: 'translation_verdict', strict: true });
    expect(lastUserMessage(request)).toContain('Mình vui lắm');
  });

  it('answers with her fallback line when the server keeps failing, and waits out a 429', async () => {
    const { client } = await connect();
    env.openai.enqueue({ kind: 'error', status: 500 }, { kind: 'garbage' }, { kind: 'error', status: 503 });
    client.send({ action: 'chat', message: '在吗？' });
    const fallback = (await client.next('reply')).data;
    expect(fallback.fallback).toBe(true);
    expect(fallback.chinese_content.length).toBeGreaterThan(0);

    const asked = env.openai.requests.length;
    env.openai.enqueue(
      { kind: 'error', status: 429, retryAfter: '1' },
      { kind: 'reply', body: tutorReply({ chinese_content: '来啦！', action: 'none' }) },
    );
    client.send({ action: 'chat', message: '在吗？' });
    const after = (await client.next('reply')).data;
    expect(after).toMatchObject({ chinese_content: '来啦！' });
    expect(after.fallback).toBeUndefined();
    const [limited, retried] = env.openai.requests.slice(asked);
    // The turn went back to the paused queue for at least the server's retry-after.
    expect((retried?.receivedAt ?? 0) - (limited?.receivedAt ?? 0)).toBeGreaterThanOrEqual(950);
  });
});
