import { startTestRedis } from '@xiaoyue/test-support';
import { SignJWT } from 'jose';
import { expect, it } from 'vitest';
import { startSystem } from '../system.js';

it("R6: no token, bad, expired or everlasting token, A's token on B's path, too many sockets, rate limit exceeded, debug action off: refused with the right code", async () => {
  const secret = 'chaos-secret-that-is-long-enough-123456';
  const token = (sub: string, expiresIn: string | null = '5m') => {
    const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub);
    return (expiresIn ? jwt.setExpirationTime(expiresIn) : jwt).sign(new TextEncoder().encode(secret));
  };
  const redis = await startTestRedis();
  const system = await startSystem({
    redisUrl: redis.url,
    gatewayEnv: {
      AUTH_MODE: 'jwt',
      JWT_SECRET: secret,
      ALLOW_DEBUG_ACTIONS: 'false',
      RATE_LIMIT_PER_MINUTE: '6',
      RATE_LIMIT_BURST: '3',
      MAX_SOCKETS_PER_USER: '1',
    },
  });
  const results: { case: string; expected: string; got: string }[] = [];
  /** The HTTP status that refused the upgrade (or the close code of a socket that opened). */
  const refusal = async (userId: string, query?: string) => {
    const closed = await (await system.connect(userId, query)).closed;
    return closed.status === undefined ? `close ${closed.code}` : `HTTP ${closed.status}`;
  };
  try {
    results.push({ case: 'no token', expected: 'HTTP 401', got: await refusal('alice') });
    results.push({ case: 'bad token', expected: 'HTTP 401', got: await refusal('alice', '?token=not.a.jwt') });
    results.push({
      case: 'expired token',
      expected: 'HTTP 401',
      got: await refusal('alice', `?token=${await token('alice', '-1m')}`),
    });
    results.push({
      case: 'token without exp',
      expected: 'HTTP 401',
      got: await refusal('alice', `?token=${await token('alice', null)}`),
    });
    results.push({
      case: "A's token on B's path",
      expected: 'HTTP 403',
      got: await refusal('bob', `?token=${await token('alice')}`),
    });
    const alice = await system.connect('alice', `?token=${await token('alice')}`);
    await alice.next('welcome');
    results.push({
      case: 'too many sockets',
      expected: 'HTTP 429',
      got: await refusal('alice', `?token=${await token('alice')}`),
    });
    results.push({
      case: 'debug action off',
      expected: 'forbidden',
      got: (await alice.request({ action: 'set_sulking', level: 1 }, 'sulking_set')).data.code,
    });
    let last = '';
    for (let i = 0; i < 5; i++) last = (await alice.request({ action: 'get_state' }, 'state')).data.code ?? 'state';
    results.push({ case: 'rate limit exceeded', expected: 'rate_limited', got: last });
    alice.close();
    const wrong = results.filter((r) => r.expected !== r.got);
    console.log(
      `CHAOS R6 refusals: ${results.length} cases, ${results.length - wrong.length} refused with the right code, ${wrong.length} wrong (${results.map((r) => r.got).join(', ')})`,
    );
    expect(results.map((r) => [r.case, r.got])).toEqual(results.map((r) => [r.case, r.expected]));
  } finally {
    await system.stop();
    await redis.stop();
  }
});
