import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/**
 * Appends an event to a user's outbox exactly once and announces it, atomically:
 * - a second append with the same idempotency key returns the first one's seq and does nothing;
 * - seq grows by one per event; a new epoch starts when the outbox had expired;
 * - the stream is capped (MAXLEN ~) and every key expires after the TTL;
 * - a final event releases the user's active-turn lock if it still belongs to that turn;
 * - the event is PUBLISHed with its seq spliced in, so gateways forward it without re-encoding.
 */
const APPEND_SCRIPT = `
local existing = redis.call('GET', KEYS[3])
if existing then return {0, tonumber(existing)} end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', ARGV[5], 'seq', 0)
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local payload = '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', payload)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], seq, 'EX', ARGV[3])
if ARGV[6] ~= '' and redis.call('GET', KEYS[4]) == ARGV[6] then redis.call('DEL', KEYS[4]) end
redis.call('PUBLISH', ARGV[4], payload)
return {1, seq}
`;

export interface OutboxOptions {
  maxEvents: number;
  ttlSeconds: number;
}

export interface AppendRequest {
  userId: string;
  /** Unique per event, e.g. `${turnId}-reply`; a retried job reuses it and is deduplicated. */
  idempotencyKey: string;
  /** The event frame (without seq); must serialise to a JSON object. */
  event: object;
  /** Set on a turn's last event: releases that turn's active-turn lock. */
  completesTurnId?: string;
}

export interface AppendResult {
  seq: number;
  duplicate: boolean;
}

export interface OutboxHead {
  epoch: string | null;
  seq: number;
}

export type ReadAfterResult =
  | { kind: 'events'; head: OutboxHead; events: string[] }
  /** The events after `afterSeq` are no longer all there (trimmed, expired or a new epoch). */
  | { kind: 'resync'; head: OutboxHead; reason: string };

interface OutboxRedis extends Redis {
  appendOutboxEvent(...args: string[]): Promise<[number, number]>;
}

/** Reads the seq of an outbox payload (`{"seq":N,...}`) without parsing the whole event. */
export function seqOf(payload: string): number {
  const match = /^\{"seq":(\d+),/.exec(payload);
  return match ? Number(match[1]) : Number.NaN;
}

export class Outbox {
  private readonly redis: OutboxRedis;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: OutboxOptions,
  ) {
    if (!('appendOutboxEvent' in redis)) {
      redis.defineCommand('appendOutboxEvent', { numberOfKeys: 4, lua: APPEND_SCRIPT });
    }
    this.redis = redis as OutboxRedis;
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const { userId } = request;
    const json = JSON.stringify(request.event);
    if (!json.startsWith('{') || json === '{}') throw new Error('outbox events must be non-empty JSON objects');
    const [appended, seq] = await this.redis.appendOutboxEvent(
      this.keys.outboxMeta(userId),
      this.keys.outboxStream(userId),
      this.keys.outboxDedupe(userId, request.idempotencyKey),
      this.keys.activeTurn(userId),
      json,
      String(this.options.maxEvents),
      String(this.options.ttlSeconds),
      this.keys.userChannel(userId),
      randomUUID().slice(0, 8),
      request.completesTurnId ?? '',
    );
    return { seq: Number(seq), duplicate: Number(appended) === 0 };
  }

  /** Whether an event with this idempotency key was already appended. */
  async has(userId: string, idempotencyKey: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.outboxDedupe(userId, idempotencyKey))) === 1;
  }

  async head(userId: string): Promise<OutboxHead> {
    const [epoch, seq] = await this.redis.hmget(this.keys.outboxMeta(userId), 'epoch', 'seq');
    return { epoch: epoch ?? null, seq: seq ? Number(seq) : 0 };
  }

  /**
   * Every event after `afterSeq`, in order, or a resync verdict when some are gone. With
   * `expectedEpoch` (the epoch the client's seq belongs to), a new epoch also means resync.
   */
  async readAfter(userId: string, afterSeq: number, expectedEpoch?: string): Promise<ReadAfterResult> {
    const [[, metaRaw], [, entriesRaw]] = (await this.redis
      .multi()
      .hmget(this.keys.outboxMeta(userId), 'epoch', 'seq')
      .xrange(this.keys.outboxStream(userId), `${afterSeq + 1}-0`, '+')
      .exec()) as [[null, (string | null)[]], [null, [string, string[]][]]];
    const head: OutboxHead = { epoch: metaRaw[0] ?? null, seq: metaRaw[1] ? Number(metaRaw[1]) : 0 };
    if (expectedEpoch !== undefined && head.epoch !== null && expectedEpoch !== head.epoch) {
      return { kind: 'resync', head, reason: `the outbox was recreated (epoch ${expectedEpoch} is gone)` };
    }
    if (afterSeq > head.seq) {
      return {
        kind: 'resync',
        head,
        reason: `last_seq ${afterSeq} is ahead of the outbox (seq ${head.seq}); it was reset or expired`,
      };
    }
    const events = entriesRaw.map(([, fields]) => fields[1] ?? '');
    const first = events[0] === undefined ? undefined : seqOf(events[0]);
    if (afterSeq < head.seq && first !== afterSeq + 1) {
      return { kind: 'resync', head, reason: `events after ${afterSeq} were trimmed from the outbox` };
    }
    return { kind: 'events', head, events };
  }
}
