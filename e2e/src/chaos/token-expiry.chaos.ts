import { startTestRedis } from '@xiaoyue/test-support';
import { SignJWT } from 'jose';
import { expect, it } from 'vitest';
import { startSystem } from '../system.js';
import { ResilientLearner, tally } from './harness.js';

const SECRET = 'chaos-secret-that-is-long-enough-r12-1234';
const TOKEN_SECONDS = 3;
const LEARNERS = 20;

it('R12: tokens expire mid-conversation: sockets closed with 4001, learners resume with fresh tokens, nothing lost', async () => {
  const redis = await startTestRedis();
  // No Gemini fake: the offline tutor answers and espeak speaks.
  const system = await startSystem({
    redisUrl: redis.url,
    gatewayEnv: { AUTH_MODE: 'jwt', JWT_SECRET: SECRET, HEARTBEAT_MS: '250' },
  });
  let tokensIssued = 0;
  const closes = new Map<number, number>();
  /** From a 4001 close to the welcome of the connection that followed it (ms). */
  const resumeGaps: number[] = [];
  /** Learners closed with 4001 and not yet welcomed back. */
  const awaitingResume = new Set<string>();
  const learners = Array.from({ length: LEARNERS }, (_, i) => {
    const userId = `r12-${i}`;
    const learner = new ResilientLearner(userId, [system.baseUrl], {
      // Each connection asks for a token that expires a few seconds later.
      token: () => {
        tokensIssued++;
        return new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(userId)
          .setIssuedAt()
          .setExpirationTime(`${TOKEN_SECONDS}s`)
          .sign(new TextEncoder().encode(SECRET));
      },
    });
    let expiredAt: number | undefined;
    learner.client.on('close', ({ code }) => {
      closes.set(code, (closes.get(code) ?? 0) + 1);
      if (code === 4001) {
        expiredAt = Date.now();
        awaitingResume.add(userId);
      }
    });
    learner.client.on('welcome', () => {
      if (expiredAt !== undefined) resumeGaps.push(Date.now() - expiredAt);
      expiredAt = undefined;
      awaitingResume.delete(userId);
    });
    return learner;
  });
  try {
    await Promise.all(learners.map((l) => l.connect()));
    const until = Date.now() + 4 * TOKEN_SECONDS * 1000;
    await Promise.all(
      learners.map(async (l, i) => {
        for (let n = 0; Date.now() < until; n++) {
          await l.chat(`你好 ${i}-${n}`);
          await l.settle(15_000);
          await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
    await Promise.all(learners.map((l) => l.settle(15_000)));
    // Tokens keep expiring while the learners stay: count at a moment when every socket closed with
    // 4001 has been welcomed back (a close in the last few ms has not yet had time to resume).
    await expect.poll(() => awaitingResume.size, { timeout: 5_000, interval: 5 }).toBe(0);
    const expired = closes.get(4001) ?? 0;
    const resumed = resumeGaps.length;
    const result = tally('R12 token expiry', learners);
    const otherCloses = [...closes].filter(([code]) => code !== 4001);
    const refusals = learners.flatMap((l) => l.refusals);
    console.log(
      `CHAOS R12 token expiry, sockets: ${LEARNERS} learners, ${TOKEN_SECONDS} s tokens for ${4 * TOKEN_SECONDS} s: ${expired} sockets closed with 4001, ${tokensIssued} tokens asked for, back within ${Math.max(...resumeGaps)} ms (median ${[...resumeGaps].sort((a, b) => a - b)[resumeGaps.length >> 1]} ms), other closes ${JSON.stringify(Object.fromEntries(otherCloses))}; chats not accepted: ${refusals.length} (${[...new Set(refusals)].join(', ') || 'none'})`,
    );
    expect(expired).toBeGreaterThanOrEqual(LEARNERS * 3);
    expect(otherCloses).toEqual([]);
    expect(resumed).toBe(expired);
    expect(tokensIssued).toBeGreaterThanOrEqual(LEARNERS + expired);
    expect(result.accepted).toBeGreaterThan(LEARNERS * 5);
    expect(result.lost).toBe(0);
    expect(result.duplicated).toBe(0);
    expect(result.outOfOrder).toBe(0);
    // A chat sent as its socket expired may be cut off (`disconnected`); nothing else refuses one.
    expect(refusals.filter((code) => code !== 'disconnected' && code !== 'busy')).toEqual([]);
  } finally {
    for (const learner of learners) learner.stop();
    await system.stop();
    await redis.stop();
  }
});
