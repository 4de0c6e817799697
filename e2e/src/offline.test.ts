import { startTestRedis, type TestRedis } from '@xiaoyue/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Learner } from './learner.js';
import { type RunningSystem, startSystem } from './system.js';

let redis: TestRedis;
let system: RunningSystem;
let client: Learner;

beforeAll(async () => {
  redis = await startTestRedis();
  system = await startSystem({ redisUrl: redis.url });
  client = await system.connect('newcomer');
});
afterAll(async () => {
  client?.close();
  await system?.stop();
  await redis?.stop();
});

const isMp3 = (base64: string) => {
  const audio = Buffer.from(base64, 'base64');
  return (
    audio.length > 1_000 &&
    (audio.toString('ascii', 0, 3) === 'ID3' || (audio[0] === 0xff && ((audio[1] ?? 0) & 0xe0) === 0xe0))
  );
};

describe('offline practice mode: no API keys, no network', () => {
  it('says it is offline in the welcome', async () => {
    expect((await client.next('welcome')).data).toMatchObject({ user_id: 'newcomer', mode: 'offline' });
  });

  it('answers in character and speaks with espeak', async () => {
    client.send({ action: 'chat', message: '你好' });
    const reply = await client.next('reply');
    expect(reply.data).toMatchObject({ chinese_content: '师兄好！今天也来练功吗？', emotion: 'happy' });
    expect(reply.data.pinyin).toMatch(/^Shī xiōng hǎo!/);
    expect(reply.data.fallback).toBeUndefined();
    expect(isMp3(reply.data.audio_base64)).toBe(true);
  });

  it('corrects a common mistake', async () => {
    client.send({ action: 'chat', message: '我是很好' });
    const reply = await client.next('reply');
    expect(reply.data).toMatchObject({ action: 'correction' });
    expect(reply.data.chinese_content).toContain('我很好');
  });

  it('quizzes on request', async () => {
    client.send({ action: 'chat', message: '考考我' });
    const reply = await client.next('reply');
    expect(reply.data.action).toBe('quiz');
    expect(reply.data.quiz_list.length).toBe(3);
  });

  it('sulks when treated badly and forgives an apology', async () => {
    client.send({ action: 'chat', message: '你真笨' });
    expect((await client.next('reply')).data).toMatchObject({ sulking_level: 1, emotion: 'sulking' });
    client.send({ action: 'chat', message: '你真笨' });
    expect((await client.next('reply')).data.sulking_level).toBe(2);
    client.send({ action: 'chat', message: '对不起' });
    expect((await client.next('reply')).data.sulking_level).toBe(1);
  });
});
