import { startFakeEdgeTts, startFakeGemini, uniquePrefix } from '@xiaoyue/test-support';
import { bareTwoHops } from '../baseline.js';
import { isReplyWithAudio, Learner } from '../learner.js';
import type { BenchContext, Row, Scenario } from '../report.js';
import { percentile, round, summarize } from '../stats.js';
import { startBenchSystem } from '../system.js';

export const turns: Scenario = { ids: ['P1', 'P2'], run };

/** P1 overhead per turn and P2 sustained turns/s, with zero-latency fakes. */
async function run({ redisUrl, quick, wanted }: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  const [gemini, edge] = await Promise.all([startFakeGemini(), startFakeEdgeTts()]);
  const system = await startBenchSystem(redisUrl, gemini, edge);
  const baseline = await bareTwoHops(redisUrl, uniquePrefix('baseline'));
  try {
    if (wanted('P1')) {
      const turns = quick ? 100 : 500;
      const learner = await Learner.connect(system.baseUrl, 'p1-learner');
      for (let i = 0; i < 30; i++) await learner.turn(`热身 ${i}`, isReplyWithAudio); // warm up JIT and pools
      const times: number[] = [];
      for (let i = 0; i < turns; i++)
        times.push(await learner.turn(process.env.P1_SAME ? '你好' : `你好 ${i}`, isReplyWithAudio));
      learner.close();
      await baseline.latency(50);
      const bare = await baseline.latency(turns);
      const ours = summarize(times);
      const base = summarize(bare);
      rows.push({
        id: 'P1',
        what: 'overhead per turn, zero-latency fakes (WS in → reply with audio out)',
        result: `p50 ${ours.p50} ms, p99 ${ours.p99} ms (${turns} turns)`,
        baseline: `bare 2 BullMQ hops + PUBLISH: p50 ${base.p50} ms, p99 ${base.p99} ms`,
        target: 'p50 ≤ 2.5× baseline; p99 ≤ 15 ms',
        met: ours.p50 <= 2.5 * base.p50 && ours.p99 <= 15,
        data: { ours, baseline: base, ratioP50: round(ours.p50 / base.p50) },
      });
    }
    if (wanted('P2')) {
      const users = quick ? 50 : 200;
      const seconds = quick ? 5 : 15;
      const learners = await Promise.all(
        Array.from({ length: users }, (_, i) => Learner.connect(system.baseUrl, `p2-${i}`)),
      );
      const until = performance.now() + seconds * 1000;
      let sent = 0;
      let delivered = 0;
      let failed = 0;
      const times: number[] = [];
      await Promise.all(
        learners.map(async (learner, u) => {
          for (let i = 0; performance.now() < until; i++) {
            sent++;
            try {
              times.push(await learner.turn(`用户${u}第${i}句`, isReplyWithAudio));
              delivered++;
            } catch {
              failed++;
            }
          }
        }),
      );
      for (const learner of learners) learner.close();
      const base = await baseline.throughput(users, seconds);
      const perSecond = delivered / seconds;
      rows.push({
        id: 'P2',
        what: `sustained turns/s, zero-latency fakes, ${users} users for ${seconds} s`,
        result: `${round(perSecond, 0)} turns/s, ${delivered} delivered, ${sent - delivered} lost (${failed} failed), p99 ${round(percentile(times, 99))} ms`,
        baseline: `bare 2 hops: ${round(base.perSecond, 0)} round trips/s, p99 ${round(base.p99)} ms`,
        target: '≥ 2,000 turns/s, 0 lost',
        met: perSecond >= 2000 && sent === delivered,
        data: { users, seconds, sent, delivered, failed, perSecond, p99: percentile(times, 99), baseline: base },
      });
    }
  } finally {
    await baseline.close();
    await system.stop();
    await Promise.all([gemini.close(), edge.close()]);
  }
  return rows;
}
