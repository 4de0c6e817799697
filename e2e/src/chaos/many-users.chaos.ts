import { startFakeEdgeTts, startFakeGemini, startTestRedis } from '@xiaoyue/test-support';
import { expect, it } from 'vitest';
import { startSystem } from '../system.js';
import { ResilientLearner, tally } from './harness.js';

const USERS = Number(process.env.CHAOS_R7_USERS ?? 1_000);
const SECONDS = Number(process.env.CHAOS_R7_SECONDS ?? 60);

it(`R7: ${USERS} simulated learners for ${SECONDS} s with fake providers: 0 lost, 0 duplicated, p99 reported`, async () => {
  const [redis, gemini, edge] = await Promise.all([startTestRedis(), startFakeGemini(), startFakeEdgeTts()]);
  const system = await startSystem({
    redisUrl: redis.url,
    gemini,
    edge,
    env: { AGENT_CONCURRENCY: '200', TTS_CONCURRENCY: '100' },
  });
  const url = system.baseUrl;
  const learners = Array.from({ length: USERS }, (_, i) => new ResilientLearner(`r7-${i}`, [url]));
  const times: number[] = [];
  try {
    for (let i = 0; i < learners.length; i += 100)
      await Promise.all(learners.slice(i, i + 100).map((l) => l.connect()));
    const until = Date.now() + SECONDS * 1000;
    await Promise.all(
      learners.map(async (learner, i) => {
        // Learners think between messages (2-6 s), like people typing.
        await new Promise((r) => setTimeout(r, (i * 37) % 4_000));
        for (let n = 0; Date.now() < until; n++) {
          const started = Date.now();
          await learner.chat(`第${n}句`);
          await learner.settle(30_000);
          times.push(Date.now() - started);
          await new Promise((r) => setTimeout(r, 2_000 + ((i * 7919 + n * 104729) % 4_000)));
        }
      }),
    );
    await Promise.all(learners.map((l) => l.settle(30_000)));
    const result = tally(`R7 ${USERS} learners for ${SECONDS} s`, learners);
    const sorted = [...times].sort((a, b) => a - b);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    console.log(
      `CHAOS R7 turn time: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms over ${sorted.length} turns (${Math.round(sorted.length / SECONDS)} turns/s)`,
    );
    expect(result).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(result.accepted).toBeGreaterThan(USERS);
  } finally {
    for (const l of learners) l.stop();
    await system.stop();
    await Promise.all([gemini.close(), edge.close()]);
    await redis.stop();
  }
});
