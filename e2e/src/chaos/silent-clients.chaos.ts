import { closeRedis, connectRedis, createProducerRedis, redisKeys } from '@xiaoyue/shared';
import { startTestRedis } from '@xiaoyue/test-support';
import { expect, it } from 'vitest';
import type { Learner } from '../learner.js';
import { startSystem } from '../system.js';

const HEARTBEAT_MS = 500;
const LEARNERS = 10;

/** Stops reading the socket: the gateway's pings are never seen, so never answered. */
function goSilent(learner: Learner): void {
  (learner.socket as unknown as { _socket: { pause(): void } })._socket.pause();
}

it('R9: clients that stop answering pings are terminated and their slots freed; the others stay', async () => {
  const redis = await startTestRedis();
  const system = await startSystem({
    redisUrl: redis.url,
    gatewayEnv: { HEARTBEAT_MS: String(HEARTBEAT_MS), MAX_SOCKETS_PER_USER: '1' },
  });
  const admin = await connectRedis(createProducerRedis(redis.url, 'r9-admin'));
  const slotsHeld = (userId: string) => admin.zcard(redisKeys(system.prefix).sockets(userId));
  const learners: Learner[] = [];
  try {
    const connect = async (userId: string) => {
      const learner = await system.connect(userId);
      learners.push(learner);
      await learner.next('welcome');
      return learner;
    };
    const silent = await Promise.all(Array.from({ length: LEARNERS }, (_, i) => connect(`r9-silent-${i}`)));
    const awake = await Promise.all(Array.from({ length: LEARNERS }, (_, i) => connect(`r9-awake-${i}`)));

    // Each silent learner: the time from its last read until its slot is free again.
    const freedAfter = await Promise.all(
      silent.map(async (learner, i) => {
        goSilent(learner);
        const since = Date.now();
        while ((await slotsHeld(`r9-silent-${i}`)) > 0 && Date.now() - since < 10 * HEARTBEAT_MS) {
          await new Promise((r) => setTimeout(r, 20));
        }
        return Date.now() - since;
      }),
    );
    const stillOpen = awake.filter((l) => l.socket.readyState === l.socket.OPEN).length;
    const awakeSlots = (await Promise.all(awake.map((_, i) => slotsHeld(`r9-awake-${i}`)))).reduce((a, b) => a + b, 0);
    // With one socket each (MAX_SOCKETS_PER_USER=1), a reconnect works only if the old slot is free.
    const back = await Promise.all(
      silent.map((_, i) => system.connect(`r9-silent-${i}`).then((l) => (learners.push(l), l))),
    );
    const reconnected = back.filter((l) => l.frames[0]?.type === 'welcome').length;
    const [fastest, slowest] = [Math.min(...freedAfter), Math.max(...freedAfter)];

    console.log(
      `CHAOS R9 silent clients: ${LEARNERS} stopped answering pings (HEARTBEAT_MS ${HEARTBEAT_MS}): terminated and slot freed after ${(fastest / 1000).toFixed(2)}-${(slowest / 1000).toFixed(2)} s (bound: 3 × HEARTBEAT_MS); ${stillOpen} of ${LEARNERS} answering sockets still open holding ${awakeSlots} slots; ${reconnected} of ${LEARNERS} silent learners reconnected at once`,
    );
    // Two pings left unanswered, terminated at the next sweep: between two and three intervals.
    expect(fastest).toBeGreaterThanOrEqual(HEARTBEAT_MS);
    expect(slowest).toBeLessThanOrEqual(3 * HEARTBEAT_MS + 250);
    expect(stillOpen).toBe(LEARNERS);
    expect(awakeSlots).toBe(LEARNERS);
    expect(reconnected).toBe(LEARNERS);
  } finally {
    for (const learner of learners) learner.close();
    await closeRedis(admin);
    await system.stop();
    await redis.stop();
  }
});
