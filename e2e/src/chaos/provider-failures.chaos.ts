import {
  type FakeEdgeBehaviour,
  type FakeGeminiBehaviour,
  startFakeEdgeTts,
  startFakeGemini,
  startTestRedis,
} from '@xiaoyue/test-support';
import { expect, it } from 'vitest';
import { startSystem } from '../system.js';

const reply = {
  emotion: 'neutral',
  chinese_content: '好的。',
  pinyin: 'Hǎo de.',
  vietnamese_display: 'Được.',
  action: 'none',
  quiz_list: [],
  user_tone: 'neutral',
  thought: '',
};

it('R4: LLM 429/500/timeout/invalid JSON and TTS 403/hang/truncated: every turn answered within its deadline, 0 crashes', async () => {
  const [redis, gemini, edge] = await Promise.all([startTestRedis(), startFakeGemini(), startFakeEdgeTts()]);
  let n = 0;
  const llmFaults: FakeGeminiBehaviour[] = [
    { kind: 'reply', body: reply },
    { kind: 'error', status: 429 },
    { kind: 'error', status: 500 },
    { kind: 'hang' },
    { kind: 'garbage' },
    { kind: 'reply', body: { ...reply, chinese_content: '' } },
  ];
  gemini.setDefault(() => llmFaults[n++ % llmFaults.length] as FakeGeminiBehaviour);
  const ttsFaults: FakeEdgeBehaviour[] = [
    { kind: 'speak' },
    { kind: 'reject', status: 403 },
    { kind: 'hang' },
    { kind: 'truncate' },
  ];
  for (let i = 0; i < 400; i++) edge.enqueue(ttsFaults[i % ttsFaults.length] as FakeEdgeBehaviour);
  const turnTimeoutMs = 8_000;
  const system = await startSystem({
    redisUrl: redis.url,
    gemini,
    edge,
    env: { TURN_TIMEOUT_MS: String(turnTimeoutMs) },
  });
  try {
    const turns = 60;
    const outcomes = await Promise.all(
      Array.from({ length: turns }, async (_, i) => {
        const client = await system.connect(`r4-${i}`, '');
        await client.next('welcome');
        const started = Date.now();
        client.send({ action: 'chat', message: `第${i}次` });
        const answer = await client.next('reply', turnTimeoutMs + 5_000);
        client.close();
        return {
          ms: Date.now() - started,
          fallback: answer.data.fallback === true,
          audio: answer.data.audio_base64 !== null,
        };
      }),
    );
    const late = outcomes.filter((o) => o.ms > turnTimeoutMs + 1_000).length;
    const fallbacks = outcomes.filter((o) => o.fallback).length;
    const silent = outcomes.filter((o) => !o.audio).length;
    console.log(
      `CHAOS R4 provider failures: ${turns} turns, ${turns} answered, ${fallbacks} fallback lines, ${silent} without audio, ${late} late, slowest ${Math.max(...outcomes.map((o) => o.ms))} ms, crashes 0`,
    );
    expect(late).toBe(0);
    expect(fallbacks).toBeGreaterThan(0);
    expect(silent).toBeGreaterThan(0);
    for (const service of [system.gateway, system.agent, system.tts]) expect(service.process.exitCode).toBeNull();
  } finally {
    await system.stop();
    await Promise.all([gemini.close(), edge.close()]);
    await redis.stop();
  }
});
