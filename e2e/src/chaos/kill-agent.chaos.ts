import {
  freePort,
  GENEROUS_CONNECT_LIMITS,
  startFakeEdgeTts,
  startFakeGemini,
  startService,
  startTestRedis,
  uniquePrefix,
} from '@xiaoyue/test-support';
import { expect, it } from 'vitest';
import { ResilientLearner, tally } from './harness.js';

it('R1: kill -9 an agent worker mid-turn while 100 turns run: 100 delivered, 0 lost, 0 duplicated', async () => {
  const [redis, gemini, edge] = await Promise.all([startTestRedis(), startFakeGemini(), startFakeEdgeTts()]);
  // Each reply takes a while, so the kill lands in the middle of many turns.
  gemini.setDefault({
    kind: 'reply',
    body: {
      emotion: 'happy',
      chinese_content: '好的，师兄！',
      pinyin: '',
      vietnamese_display: 'Vâng',
      action: 'none',
      quiz_list: [],
      user_tone: 'polite',
      thought: '',
    },
    delayMs: 1_500,
  });
  const port = await freePort();
  const common = { REDIS_URL: redis.url, QUEUE_PREFIX: uniquePrefix('r1'), TURN_TIMEOUT_MS: '30000' };
  const agentEnv = { ...common, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: gemini.url, LLM_TIMEOUT_MS: '5000' };
  const services = await Promise.all([
    startService('gateway', {
      ...common,
      PORT: String(port),
      HOST: '127.0.0.1',
      AUTH_MODE: 'dev',
      RATE_LIMIT_BURST: '100',
      ...GENEROUS_CONNECT_LIMITS,
    }),
    startService('agent-worker', agentEnv, { label: 'agent-1' }),
    startService('agent-worker', agentEnv, { label: 'agent-2' }),
    startService('tts-worker', { ...common, EDGE_TTS_URL: edge.url, TTS_FALLBACK: 'none' }),
  ]);
  const [, victim] = services;
  const learners = Array.from({ length: 100 }, (_, i) => new ResilientLearner(`r1-${i}`, [`ws://127.0.0.1:${port}`]));
  try {
    await Promise.all(learners.map((l) => l.connect()));
    await Promise.all(learners.map((l, i) => l.chat(`第${i}句`)));
    await new Promise((r) => setTimeout(r, 500));
    await victim?.kill();
    await Promise.all(learners.map((l) => l.settle(40_000)));
    const result = tally('R1 kill -9 agent', learners);
    expect(result).toMatchObject({ accepted: 100, delivered: 100, lost: 0, duplicated: 0, outOfOrder: 0 });
  } finally {
    for (const l of learners) l.stop();
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all([gemini.close(), edge.close()]);
    await redis.stop();
  }
});
