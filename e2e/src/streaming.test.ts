import { type Frame, fakeAudioFor } from '@xiaoyue/test-support';
import { describe, expect, it } from 'vitest';
import type { Learner } from './learner.js';
import { useSystemWithFakes } from './system.js';

const env = useSystemWithFakes();

async function connect(userId: string, query = '?stream=1') {
  const client = await env.connect(userId, query);
  await client.next('welcome');
  return client;
}

const SENTENCES = ['师兄早上好！', '今天我们一起去后山练剑吧。', '师父说你进步很大！'];
const reply = {
  emotion: 'excited',
  chinese_content: SENTENCES.join(''),
  pinyin: 'Shīxiōng zǎoshang hǎo! …',
  vietnamese_display: 'Chào buổi sáng sư huynh! …',
  action: 'praise',
  quiz_list: [],
  user_tone: 'polite',
  thought: '',
};

/** Collects a streamed turn's frames up to its reply_done. */
async function streamedTurn(client: Learner): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (;;) {
    const frame = await client.next((f) => f.type.startsWith('reply'), 15_000);
    frames.push(frame);
    if (frame.type === 'reply_done') return frames;
  }
}

describe('streamed replies (?stream=1)', () => {
  it('sends her emotion, each sentence with pinyin and its audio, then the whole reply, in seq order', async () => {
    const client = await connect('streamer');
    env.gemini.enqueue({ kind: 'reply', body: reply, chunks: 12 });
    client.send({ action: 'chat', message: '早上好', request_id: 's1' });
    const frames = await streamedTurn(client);

    const seqs = frames.map((f) => f.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
    expect(frames[0]).toMatchObject({ type: 'reply_start', request_id: 's1', data: { emotion: 'excited' } });
    const texts = frames.filter((f) => f.type === 'reply_text');
    expect(texts.map((f) => [f.data.index, f.data.chinese])).toEqual(SENTENCES.map((s, i) => [i, s]));
    expect(texts[0]?.data.pinyin).toBe('Shī xiōng zǎo shang hǎo!');
    const audio = frames.filter((f) => f.type === 'reply_audio');
    expect(audio.map((f) => f.data.index)).toEqual([0, 1, 2]);
    audio.forEach((f, i) => {
      expect(Buffer.from(f.data.audio_base64, 'base64').equals(fakeAudioFor(SENTENCES[i] as string))).toBe(true);
    });
    // Word boundaries point at the characters being spoken.
    const [first] = audio[0]?.data.word_boundaries ?? [];
    expect(first).toMatchObject({ text: '师兄', char_start: 0, char_end: 2, start_ms: 50 });
    const done = frames.at(-1);
    // The whole reply, with the trusted readings in place of the model's sloppy pinyin.
    expect(done?.data).toMatchObject({
      ...reply,
      pinyin: 'Shī xiōng zǎo shang hǎo! Jīn tiān wǒ men yì qǐ qù hòu shān liàn jiàn ba. Shī fu shuō nǐ jìn bù hěn dà!',
      sentences: 3,
      sulking_level: 0,
      audio_base64: null,
    });
    // Every sentence was spoken with her excited voice.
    expect(env.edge.requests.map((r) => r.rate)).toEqual(['+10%', '+10%', '+10%']);
  });

  it('keeps audio in sentence order when a later sentence is spoken first', async () => {
    const client = await connect('orderly');
    env.edge.enqueue({ kind: 'speak', delayMs: 700 }, { kind: 'speak' }, { kind: 'speak' });
    const fresh = ['第一句话比较慢。', '第二句很快！', '第三句也很快！'];
    env.gemini.enqueue({ kind: 'reply', body: { ...reply, chinese_content: fresh.join('') }, chunks: 1 });
    client.send({ action: 'chat', message: '你好' });
    const frames = await streamedTurn(client);
    expect(env.edge.requests.map((r) => r.text)).toEqual(fresh);
    const audio = frames.filter((f) => f.type === 'reply_audio');
    expect(audio.map((f) => f.data.index)).toEqual([0, 1, 2]);
    expect(
      audio.map((f) => Buffer.from(f.data.audio_base64, 'base64').equals(fakeAudioFor(fresh[f.data.index] as string))),
    ).toEqual([true, true, true]);
  });

  it('streams her fallback line when Gemini fails', async () => {
    const client = await connect('fallback-streamer');
    env.gemini.enqueue({ kind: 'error', status: 500 }, { kind: 'error', status: 500 }, { kind: 'error', status: 500 });
    client.send({ action: 'chat', message: '你好' });
    const frames = await streamedTurn(client);
    expect(frames.filter((f) => f.type === 'reply_text').length).toBeGreaterThan(0);
    expect(frames.at(-1)?.data.fallback).toBe(true);
  });

  it('lets a new message interrupt her: the sentences said are kept, the rest dropped, the new turn answered', async () => {
    const client = await connect('interrupter');
    const long = ['我们先练基本功。', '然后学一套新的剑法。', '最后还要练习轻功和内功。'];
    env.gemini.enqueue({
      kind: 'reply',
      body: { ...reply, chinese_content: long.join('') },
      chunks: 16,
      intervalMs: 150,
    });
    client.send({ action: 'chat', message: '今天练什么？' });
    await client.next('reply_text');
    client.send({ action: 'chat', message: '等一下！', request_id: 'second' });

    const interrupted = await client.next('reply_done');
    expect(interrupted.data.interrupted).toBe(true);
    expect(interrupted.data.sentences).toBeGreaterThanOrEqual(1);
    expect(interrupted.data.sentences).toBeLessThan(3);
    expect(long.join('').startsWith(interrupted.data.chinese_content)).toBe(true);

    const next = await client.next((f) => f.type === 'reply_done');
    expect(next).toMatchObject({ request_id: 'second' });
    expect(next.data.interrupted).toBeUndefined();

    const state = await client.request({ action: 'get_state' }, 'state');
    expect(
      state.data.history.map((t: { user_message: string; interrupted?: boolean }) => [
        t.user_message,
        t.interrupted ?? false,
      ]),
    ).toEqual([
      ['今天练什么？', true],
      ['等一下！', false],
    ]);
    // Speech for the dropped sentences never reached her voice.
    expect(env.edge.requests.map((r) => r.text)).not.toContain(long[2]);
    const metrics = await (await fetch(`${env.system.probes.agent}/metrics`)).text();
    expect(metrics).toMatch(/^xiaoyue_cancelled_turns_total\{[^}]*\} [1-9]/m);
  });

  it('leaves connections without ?stream=1 with the single seed reply', async () => {
    const client = await connect('seed-client', '');
    client.send({ action: 'chat', message: '你好' });
    const frame = await client.next((f) => f.type.startsWith('reply'));
    expect(frame.type).toBe('reply');
    expect(frame.data.audio_base64).toEqual(expect.any(String));
  });
});
