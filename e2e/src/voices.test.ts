import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useSystemWithFakes } from './system.js';
import { tutorReply } from './tutor-replies.js';

/** Her voices with Edge (the local fake, which records each request's voice). */
const env = useSystemWithFakes();

const learner = () => `voice-${randomUUID().slice(0, 8)}`;

describe('her voices', () => {
  it("lists Edge's Chinese voices, and speaks replies, streamed sentences and replays in the learner's", async () => {
    const client = await env.connect(learner());
    await client.next('welcome');
    const voices = await client.request({ action: 'get_voices' }, 'voices');
    expect(voices.data.current).toBe('zh-CN-XiaoxiaoNeural');
    expect(voices.data.voices.map((voice: { name: string }) => voice.name)).toContain('zh-CN-XiaoyiNeural');

    const set = await client.request({ action: 'set_voice', voice: 'zh-CN-XiaoyiNeural' }, 'voice_set');
    expect(set.data).toEqual({ voice: 'zh-CN-XiaoyiNeural' });

    env.gemini.enqueue({ kind: 'reply', body: tutorReply({ action: 'none', chinese_content: '师兄，换个声音吧。' }) });
    client.send({ action: 'chat', message: '你好' });
    const reply = (await client.next('reply', 15_000)).data;
    expect(env.edge.requests.at(-1)).toMatchObject({ text: '师兄，换个声音吧。', voice: 'zh-CN-XiaoyiNeural' });

    client.send({ action: 'replay', turn_id: reply.turn_id, rate: 'slow' });
    await client.next('replay_audio', 15_000);
    expect(env.edge.requests.at(-1)).toMatchObject({ rate: '-25%', voice: 'zh-CN-XiaoyiNeural' });

    // Kept across reset.
    await client.request({ action: 'reset' }, 'reset');
    expect((await client.request({ action: 'get_voices' }, 'voices')).data.current).toBe('zh-CN-XiaoyiNeural');
  });

  it("speaks a streamed reply's sentences in the learner's voice", async () => {
    const id = learner();
    const plain = await env.connect(id);
    await plain.next('welcome');
    await plain.request({ action: 'set_voice', voice: 'zh-TW-HsiaoChenNeural' }, 'voice_set');
    const streaming = await env.connect(id, '?stream=1');
    await streaming.next('welcome');
    env.gemini.enqueue({
      kind: 'reply',
      body: tutorReply({ action: 'none', chinese_content: '师兄早上好！今天我们一起去后山练剑吧。' }),
    });
    streaming.send({ action: 'chat', message: '早' });
    await streaming.next('reply_done', 15_000);
    // The fake forgets requests after each test: these are the turn's sentences.
    expect(env.edge.requests.map((request) => request.text).join('')).toBe('师兄早上好！今天我们一起去后山练剑吧。');
    expect(new Set(env.edge.requests.map((request) => request.voice))).toEqual(new Set(['zh-TW-HsiaoChenNeural']));
  });

  it('leaves another learner with her default voice, and refuses an unknown one', async () => {
    const client = await env.connect(learner());
    await client.next('welcome');
    const refused = await client.request({ action: 'set_voice', voice: 'en-US-AriaNeural' }, 'error');
    expect(refused.data.code).toBe('invalid_message');
    env.gemini.enqueue({ kind: 'reply', body: tutorReply({ action: 'none', chinese_content: '师兄好。' }) });
    client.send({ action: 'chat', message: '你好' });
    await client.next('reply', 15_000);
    expect(env.edge.requests.at(-1)).toMatchObject({ text: '师兄好。', voice: 'zh-CN-XiaoxiaoNeural' });
  });
});
