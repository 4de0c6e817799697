import type { RedisClient, RedisKeys } from '@xiaoyue/shared';

/**
 * Token bucket per learner, shared by every gateway. KEYS: bucket. ARGV: now (ms), rate per ms,
 * burst. Returns {allowed (1/0), ms until the next token}.
 */
const TAKE_TOKEN = `
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
if allowed == 1 then return {1, 0} end
return {0, math.ceil((1 - tokens) / rate)}
`;

/**
 * Claims a socket slot for a learner, across gateways: a sorted set of socket ids scored by when
 * their lease ends (gateways renew leases; a crashed gateway's leases run out).
 * KEYS: sockets. ARGV: now, lease end, socket id, max. Returns 1 if claimed.
 */
const CLAIM_SOCKET = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) - tonumber(ARGV[1]))
return 1
`;

type LimitsRedis = RedisClient & {
  takeRateToken(key: string, now: number, rate: number, burst: number): Promise<[number, number]>;
  claimSocket(key: string, now: number, leaseEnd: number, socketId: string, max: number): Promise<number>;
};

export const SOCKET_LEASE_MS = 90_000;

export class LearnerLimits {
  private readonly redis: LimitsRedis;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: { perMinute: number; burst: number; maxSockets: number },
  ) {
    if (!('takeRateToken' in redis)) {
      redis.defineCommand('takeRateToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
      redis.defineCommand('claimSocket', { numberOfKeys: 1, lua: CLAIM_SOCKET });
    }
    this.redis = redis as LimitsRedis;
  }

  /** Takes one action from the learner's budget; `retryAfterMs` when there is none left. */
  async takeAction(userId: string): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }> {
    const [allowed, retryAfterMs] = await this.redis.takeRateToken(
      this.keys.rateBucket(userId),
      Date.now(),
      this.options.perMinute / 60_000,
      this.options.burst,
    );
    return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs };
  }

  /**
   * Whether the learner has a socket slot free now: checked before the upgrade, so a full learner is
   * answered 429 without one. Only `claimSocket`, once the socket is open, takes the slot.
   */
  async hasFreeSocket(userId: string): Promise<boolean> {
    const live = await this.redis.zcount(this.keys.sockets(userId), `(${Date.now()}`, '+inf');
    return live < this.options.maxSockets;
  }

  /** Takes a slot for an open socket, atomically: false when another socket took the last one first. */
  async claimSocket(userId: string, socketId: string): Promise<boolean> {
    const now = Date.now();
    return (
      (await this.redis.claimSocket(
        this.keys.sockets(userId),
        now,
        now + SOCKET_LEASE_MS,
        socketId,
        this.options.maxSockets,
      )) === 1
    );
  }

  /** Renews the leases of this gateway's open sockets. */
  async renewSockets(sockets: { userId: string; socketId: string }[]): Promise<void> {
    if (sockets.length === 0) return;
    const pipeline = this.redis.pipeline();
    const leaseEnd = Date.now() + SOCKET_LEASE_MS;
    for (const { userId, socketId } of sockets) {
      pipeline.zadd(this.keys.sockets(userId), 'XX', leaseEnd, socketId);
      pipeline.pexpire(this.keys.sockets(userId), SOCKET_LEASE_MS);
    }
    await pipeline.exec();
  }

  async releaseSocket(userId: string, socketId: string): Promise<void> {
    await this.redis.zrem(this.keys.sockets(userId), socketId);
  }
}
