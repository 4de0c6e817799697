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

it('R2: two gateways, 200 learners mid-conversation, kill one gateway: all resume on the other, every reply once, in order', async () => {
  const [redis, gemini, edge] = await Promise.all([startTestRedis(), startFakeGemini(), startFakeEdgeTts()]);
  gemini.setDefault({
    kind: 'reply',
    body: {
      emotion: 'happy',
      chinese_content: '我在这儿！',
      pinyin: '',
      vietnamese_display: 'Muội đây!',
      action: 'none',
      quiz_list: [],
      user_tone: 'polite',
      thought: '',
    },
    delayMs: 1_000,
  });
  const [portA, portB] = await Promise.all([freePort(), freePort()]);
  const common = { REDIS_URL: redis.url, QUEUE_PREFIX: uniquePrefix('r2'), TURN_TIMEOUT_MS: '30000' };
  const gatewayEnv = {
    ...common,
    HOST: '127.0.0.1',
    AUTH_MODE: 'dev',
    RATE_LIMIT_BURST: '100',
    ...GENEROUS_CONNECT_LIMITS,
  };
  const services = await Promise.all([
    startService('gateway', { ...gatewayEnv, PORT: String(portA) }, { label: 'gateway-a' }),
    startService('gateway', { ...gatewayEnv, PORT: String(portB) }, { label: 'gateway-b' }),
    startService('agent-worker', {
      ...common,
      GEMINI_API_KEY: 'k',
      GEMINI_BASE_URL: gemini.url,
      AGENT_CONCURRENCY: '200',
    }),
    startService('tts-worker', { ...common, EDGE_TTS_URL: edge.url, TTS_FALLBACK: 'none', TTS_CONCURRENCY: '100' }),
  ]);
  const [gatewayA] = services;
  const a = `ws://127.0.0.1:${portA}`;
  const b = `ws://127.0.0.1:${portB}`;
  const learners = Array.from(
    { length: 200 },
    (_, i) => new ResilientLearner(`r2-${i}`, i % 2 === 0 ? [a, b] : [b, a]),
  );
  try {
    await Promise.all(learners.map((l) => l.connect()));
    // Mid-conversation: a first exchange completes, the second is in flight when A dies.
    await Promise.all(learners.map((l) => l.chat('第一句')));
    await Promise.all(learners.map((l) => l.settle(20_000)));
    await Promise.all(learners.map((l) => l.chat('第二句')));
    await new Promise((r) => setTimeout(r, 300));
    await gatewayA?.kill();
    await Promise.all(learners.map((l) => l.settle(30_000)));
    const result = tally('R2 kill -9 gateway', learners);
    expect(result).toMatchObject({ accepted: 400, delivered: 400, lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(result.reconnects).toBeGreaterThanOrEqual(100);
  } finally {
    for (const l of learners) l.stop();
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all([gemini.close(), edge.close()]);
    await redis.stop();
  }
});
