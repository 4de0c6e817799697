import {
  freePort,
  GENEROUS_CONNECT_LIMITS,
  type LocalRedisCluster,
  type LocalRedisSentinel,
  startFakeEdgeTts,
  startFakeGemini,
  startRedisCluster,
  startRedisSentinel,
  startService,
  type TestRedis,
  uniquePrefix,
} from '@xiaoyue/test-support';
import { expect, it } from 'vitest';
import { ResilientLearner, tally } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Learners chatting through a Redis failover: the services run on `redis` (two gateways, an agent
 * and a TTS worker), `fail` kills a primary mid-conversation, and nobody restarts anything.
 * Returns the tally and how long after the kill the first turn sent after it was answered.
 */
async function chatThroughFailover(
  scenario: string,
  redis: TestRedis,
  learnerCount: number,
  fail: () => Promise<void>,
  describeRedis: () => Promise<string>,
): Promise<{ result: ReturnType<typeof tally>; recoveryMs: number; exited: string[] }> {
  const [gemini, edge] = await Promise.all([startFakeGemini(), startFakeEdgeTts()]);
  const ports = [await freePort(), await freePort()];
  const common = { ...redis.env, QUEUE_PREFIX: uniquePrefix(scenario), TURN_TIMEOUT_MS: '30000' };
  const gatewayEnv = {
    ...common,
    HOST: '127.0.0.1',
    AUTH_MODE: 'dev',
    RATE_LIMIT_PER_MINUTE: '6000',
    RATE_LIMIT_BURST: '100',
    ...GENEROUS_CONNECT_LIMITS,
  };
  const services = await Promise.all([
    ...ports.map((port) => startService('gateway', { ...gatewayEnv, PORT: String(port) })),
    startService('agent-worker', { ...common, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: gemini.url }),
    startService('tts-worker', { ...common, EDGE_TTS_URL: edge.url, TTS_FALLBACK: 'none' }),
  ]);
  const gateways = ports.map((port) => `ws://127.0.0.1:${port}`);
  const learners = Array.from(
    { length: learnerCount },
    (_, i) => new ResilientLearner(`${scenario}-${i}`, i % 2 ? gateways : [...gateways].reverse()),
  );
  const probe = new ResilientLearner(`${scenario}-probe`, gateways);
  try {
    await Promise.all([...learners, probe].map((l) => l.connect()));
    // Long enough that every learner also chats after the recovery (a failover stalls writes for seconds).
    const until = Date.now() + 18_000;
    const load = Promise.all(
      learners.map(async (l, i) => {
        for (let n = 0; Date.now() < until; n++) {
          await l.chat(`${i}-${n}`);
          await l.settle(20_000);
          await sleep(100);
        }
      }),
    );
    await sleep(3_000);
    const killedAt = Date.now();
    await fail();
    // Recovery: the first turn sent after the kill that is answered.
    let recoveryMs = Number.NaN;
    while (Date.now() - killedAt < 60_000) {
      const before = probe.shown.size;
      await probe.chat('还在吗？');
      await probe.settle(3_000);
      if (probe.shown.size > before) {
        recoveryMs = Date.now() - killedAt;
        break;
      }
    }
    await load;
    await Promise.all([...learners, probe].map((l) => l.settle(40_000)));
    const result = tally(scenario, learners);
    const refusals = new Map<string, number>();
    for (const code of [...learners, probe].flatMap((l) => l.refusals))
      refusals.set(code, (refusals.get(code) ?? 0) + 1);
    console.log(
      `CHAOS ${scenario}: recovered ${recoveryMs} ms after the kill; chats not accepted: ${JSON.stringify(Object.fromEntries(refusals))}`,
    );
    if (result.lost > 0 || Number.isNaN(recoveryMs) || process.env.CHAOS_DEBUG) {
      console.log(`--- redis\n${await describeRedis()}`);
      for (const service of services) {
        console.log(
          `--- ${service.name}\n${service
            .output()
            .split('\n')
            .filter((l) => /"level":[456]0/.test(l))
            .slice(0, 15)
            .join('\n')}`,
        );
      }
    }
    // Nobody restarted anything: every service is the one started before the kill.
    const exited = services
      .filter((s) => s.process.exitCode !== null || s.process.signalCode !== null)
      .map((s) => s.name);
    return { result, recoveryMs, exited };
  } finally {
    for (const l of [...learners, probe]) l.stop();
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all([gemini.close(), edge.close()]);
  }
}

it('R13: kill -9 a cluster master under 200 learners: its replica is promoted, every accepted turn is answered once, in order', async () => {
  const cluster: LocalRedisCluster = await startRedisCluster();
  try {
    let killed = 0;
    const { result, recoveryMs, exited } = await chatThroughFailover(
      'r13',
      cluster,
      200,
      async () => {
        killed = (await cluster.masters())[0] as number;
        cluster.kill(killed);
      },
      cluster.describe,
    );
    expect(killed).toBeGreaterThan(0);
    // The replica took the dead master's slots.
    expect(await cluster.masters()).not.toContain(killed);
    expect((await cluster.masters()).length).toBe(3);
    expect(result.accepted).toBeGreaterThan(2 * 200);
    expect(result).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(recoveryMs).toBeLessThan(30_000);
    expect(exited).toEqual([]);
  } finally {
    await cluster.stop();
  }
});

it('R14: Sentinel failover under load: the services follow the new primary, every accepted turn is answered once, in order', async () => {
  const sentinel: LocalRedisSentinel = await startRedisSentinel();
  try {
    let killed = 0;
    const { result, recoveryMs, exited } = await chatThroughFailover(
      'r14',
      sentinel,
      50,
      async () => {
        killed = await sentinel.killPrimary();
      },
      async () => `primary ${await sentinel.primaryPort()}`,
    );
    expect(await sentinel.primaryPort()).not.toBe(killed);
    expect(result.accepted).toBeGreaterThan(2 * 50);
    expect(result).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(recoveryMs).toBeLessThan(30_000);
    expect(exited).toEqual([]);
  } finally {
    await sentinel.stop();
  }
});
