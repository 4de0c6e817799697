import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  GENEROUS_CONNECT_LIMITS,
  spawnRedisServer,
  startFakeEdgeTts,
  startFakeGemini,
  startService,
  uniquePrefix,
} from '@xiaoyue/test-support';
import { expect, it } from 'vitest';
import { ResilientLearner, tally } from './harness.js';

it('R3: restart Redis (AOF) during load: every accepted turn answered after recovery, no manual restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xiaoyue-r3-'));
  const redisPort = await freePort();
  let redis = await spawnRedisServer({ port: redisPort, dir, appendOnly: true });
  const [gemini, edge] = await Promise.all([startFakeGemini(), startFakeEdgeTts()]);
  const port = await freePort();
  const common = { REDIS_URL: redis.url, QUEUE_PREFIX: uniquePrefix('r3'), TURN_TIMEOUT_MS: '30000' };
  const services = await Promise.all([
    startService('gateway', {
      ...common,
      PORT: String(port),
      HOST: '127.0.0.1',
      AUTH_MODE: 'dev',
      RATE_LIMIT_PER_MINUTE: '6000',
      RATE_LIMIT_BURST: '100',
      ...GENEROUS_CONNECT_LIMITS,
    }),
    startService('agent-worker', { ...common, GEMINI_API_KEY: 'k', GEMINI_BASE_URL: gemini.url }),
    startService('tts-worker', { ...common, EDGE_TTS_URL: edge.url, TTS_FALLBACK: 'none' }),
  ]);
  const learners = Array.from({ length: 50 }, (_, i) => new ResilientLearner(`r3-${i}`, [`ws://127.0.0.1:${port}`]));
  try {
    await Promise.all(learners.map((l) => l.connect()));
    const until = Date.now() + 8_000;
    const load = Promise.all(
      learners.map(async (l, i) => {
        for (let n = 0; Date.now() < until; n++) {
          await l.chat(`${i}-${n}`);
          await l.settle(15_000);
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 2_500));
    await redis.stop(); // SIGTERM: Redis writes its AOF and exits
    await new Promise((r) => setTimeout(r, 1_500));
    redis = await spawnRedisServer({ port: redisPort, dir, appendOnly: true });
    await load;
    await Promise.all(learners.map((l) => l.settle(30_000)));
    const result = tally('R3 restart Redis', learners);
    if (result.lost > 0 && process.env.CHAOS_DEBUG) {
      for (const service of services) {
        console.log(`--- ${service.name}`);
        console.log(
          service
            .output()
            .split('\n')
            .filter((line) => /"level":[456]0/.test(line))
            .slice(0, 15)
            .join('\n'),
        );
      }
    }
    expect(result.accepted).toBeGreaterThan(100);
    expect(result).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    // Every service is still there, answering, without a restart.
    for (const service of services) expect(service.process.exitCode).toBeNull();
    const after = learners[0] as ResilientLearner;
    const before = after.accepted.size;
    await after.chat('恢复了吗？');
    await after.settle(10_000);
    expect(after.accepted.size).toBe(before + 1);
    expect([...after.accepted].every((turn) => after.shown.has(turn))).toBe(true);
  } finally {
    for (const l of learners) l.stop();
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all([gemini.close(), edge.close()]);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
