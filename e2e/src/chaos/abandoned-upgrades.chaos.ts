import { closeRedis, connectRedis, createProducerRedis, redisKeys } from '@xiaoyue/shared';
import { rawUpgrade, startTestRedis } from '@xiaoyue/test-support';
import { SignJWT } from 'jose';
import { expect, it } from 'vitest';
import { startSystem } from '../system.js';

const SECRET = 'chaos-secret-that-is-long-enough-r8-1234';
const USER = 'r8-learner';
const MAX_SOCKETS = 5;

/** Runs `tasks` with at most `concurrency` at a time; their results in order. */
async function inPool<T>(tasks: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const at = next++;
      results[at] = await (tasks[at] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

it('R8: 1,000 failed or abandoned upgrades for one learner hold no socket slot; the learner connects at once', async () => {
  const redis = await startTestRedis();
  // The connect throttle would answer most of these 429 before any upgrade (startSystem leaves it
  // generous): here every attempt must reach the upgrade.
  const system = await startSystem({
    redisUrl: redis.url,
    gatewayEnv: { AUTH_MODE: 'jwt', JWT_SECRET: SECRET, MAX_SOCKETS_PER_USER: String(MAX_SOCKETS) },
  });
  const admin = await connectRedis(createProducerRedis(redis.url, 'r8-admin'));
  const slotsHeld = () => admin.zcard(redisKeys(system.prefix).sockets(USER));
  try {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(USER)
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));
    const url = `${system.baseUrl}/ws/chat/${USER}?token=${token}`;
    const kinds = {
      'HTTP 400 (a bad Sec-WebSocket-Key, refused by the WebSocket layer after admission)': () =>
        rawUpgrade(url, { badKey: true }),
      'dropped right after the request': () => rawUpgrade(url, { hangUp: 'before-answer' }),
      'dropped halfway through the request': () => rawUpgrade(url, { hangUp: 'midway' }),
      'HTTP 401 (a forged token)': () => rawUpgrade(`${system.baseUrl}/ws/chat/${USER}?token=forged`),
    };
    const perKind = 250;
    const tasks = Object.values(kinds).flatMap((attempt) => Array.from({ length: perKind }, () => attempt));
    const started = Date.now();
    const answers = await inPool(tasks, 50);
    const stormMs = Date.now() - started;
    const answered = (from: number) => answers.slice(from * perKind, (from + 1) * perKind);
    expect(answered(0)).toEqual(Array(perKind).fill(400));
    expect(answered(3)).toEqual(Array(perKind).fill(401));

    // A socket upgraded just before its client hung up frees its slot once its claim settles.
    const settling = Date.now();
    let held = await slotsHeld();
    const heldAfterStorm = held;
    while (held > 0 && Date.now() - settling < 5_000) {
      await new Promise((r) => setTimeout(r, 25));
      held = await slotsHeld();
    }
    const settledMs = Date.now() - settling;

    const connecting = Date.now();
    const learners = await Promise.all(
      Array.from({ length: MAX_SOCKETS }, () => system.connect(USER, `?token=${token}`)),
    );
    const welcomed = learners.filter((l) => l.frames[0]?.type === 'welcome').length;
    const connectMs = Date.now() - connecting;
    for (const learner of learners) learner.close();

    console.log(
      `CHAOS R8 abandoned upgrades: ${tasks.length} attempts in ${(stormMs / 1000).toFixed(1)} s (${perKind} each: HTTP 400 after admission, dropped after the request, dropped midway, HTTP 401); slots held ${heldAfterStorm} right after, ${held} after ${settledMs} ms; ${welcomed} of ${MAX_SOCKETS} sockets opened at once (${connectMs} ms)`,
    );
    expect(held).toBe(0);
    expect(welcomed).toBe(MAX_SOCKETS);
    expect(connectMs).toBeLessThan(2_000);
  } finally {
    await closeRedis(admin);
    await system.stop();
    await redis.stop();
  }
});
