import { type LocalRedisCluster, startFakeEdgeTts, startFakeGemini, startRedisCluster } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import { isReplyWithAudio, Learner } from '../learner.js';
import type { BenchContext, Row, Scenario } from '../report.js';
import { round } from '../stats.js';
import { startBenchSystem } from '../system.js';

export const shardBalance: Scenario = { ids: ['P8'], run };

/** Every command a node ran so far (`INFO commandstats`; scripts' inner commands included), INFO itself left out. */
async function commandsOf(node: Redis): Promise<number> {
  const info = await node.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    if (match[1] !== 'info') total += Number(match[2]);
  return total;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Balance {
  partitions: number;
  turns: number;
  turnsPerSecond: number;
  perShard: number[];
  /** The shard furthest from the mean, as a fraction of the mean (0.25 = ±25 %). */
  worstDeviation: number;
}

/**
 * P8: learners chatting on a local 3-master Redis Cluster; commands each master ran meanwhile, and
 * how far the busiest or idlest is from the mean. Run once with QUEUE_PARTITIONS=6 (the figure) and
 * once with 1 (the same-run baseline: every queue's hops on one shard each).
 */
async function run({ quick }: BenchContext): Promise<Row[]> {
  const cluster = await startRedisCluster();
  const [gemini, edge] = await Promise.all([startFakeGemini(), startFakeEdgeTts()]);
  try {
    const learners = quick ? 40 : 120;
    const seconds = quick ? 8 : 20;
    const withPartitions = await measure(cluster, gemini, edge, 6, learners, seconds);
    const baseline = await measure(cluster, gemini, edge, 1, learners, seconds);
    const describe = (b: Balance) =>
      `${b.perShard.map((n) => Math.round(n).toLocaleString('en-US')).join(' / ')} commands per shard (worst ±${round(b.worstDeviation * 100, 1)} % of the mean), ${round(b.turnsPerSecond, 1)} turns/s`;
    return [
      {
        id: 'P8',
        what: `commands per shard of a 3-master cluster under load (${learners} learners, ${seconds} s, seed turns), QUEUE_PARTITIONS=6`,
        result: describe(withPartitions),
        baseline: `QUEUE_PARTITIONS=1: ${describe(baseline)}`,
        target: 'every shard within ±25 % of the mean',
        met: withPartitions.worstDeviation <= 0.25,
        data: { withPartitions, baseline },
      },
    ];
  } finally {
    await Promise.all([gemini.close(), edge.close()]);
    await cluster.stop();
  }
}

async function measure(
  cluster: LocalRedisCluster,
  gemini: Awaited<ReturnType<typeof startFakeGemini>>,
  edge: Awaited<ReturnType<typeof startFakeEdgeTts>>,
  partitions: number,
  learnerCount: number,
  seconds: number,
): Promise<Balance> {
  const system = await startBenchSystem(cluster, gemini, edge, { QUEUE_PARTITIONS: String(partitions) });
  const masters = (await cluster.masters()).map((port) => new Redis({ port, host: '127.0.0.1' }));
  try {
    const learners = await Promise.all(
      Array.from({ length: learnerCount }, (_, i) => Learner.connect(system.baseUrl, `p8-${partitions}-${i}`)),
    );
    // Warm up (connects, first turns), then count a window of steady chatting.
    await Promise.all(learners.map((l) => l.turn('你好', isReplyWithAudio)));
    const before = await Promise.all(masters.map(commandsOf));
    const startedAt = performance.now();
    let turns = 0;
    await Promise.all(
      learners.map(async (learner, i) => {
        for (let n = 0; performance.now() - startedAt < seconds * 1000; n++) {
          await learner.turn(`第${i}-${n}句`, isReplyWithAudio);
          turns++;
        }
      }),
    );
    const elapsed = (performance.now() - startedAt) / 1000;
    await sleep(500);
    const after = await Promise.all(masters.map(commandsOf));
    for (const learner of learners) learner.close();
    const perShard = after.map((calls, i) => calls - (before[i] as number));
    const mean = perShard.reduce((a, b) => a + b, 0) / perShard.length;
    const worstDeviation = Math.max(...perShard.map((n) => Math.abs(n - mean) / mean));
    return { partitions, turns, turnsPerSecond: turns / elapsed, perShard, worstDeviation };
  } finally {
    for (const master of masters) master.disconnect();
    await system.stop();
  }
}
