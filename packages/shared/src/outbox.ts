import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  type EventData,
  type EventKeyRef,
  eventCatalog,
  eventKey,
  type GatedEventType,
  type OutboxEventType,
  successFrame,
} from './events.js';
import type { RedisKeys } from './keys.js';

/**
 * Appends an event to a user's outbox exactly once and announces it, atomically:
 * - a second append with the same idempotency key returns the first one's seq and does nothing;
 * - seq grows by one per event; a new epoch starts when the outbox had expired;
 * - the stream is capped (MAXLEN ~) and every key expires after the TTL;
 * - a final event releases the user's active-turn lock if it still belongs to that turn;
 * - the event is PUBLISHed with its seq spliced in, so gateways forward it without re-encoding.
 * Shared by both scripts below. Returns {appended (1) or duplicate (0), seq}.
 */
const APPEND_FUNCTION = `
local function append(meta, stream, dedupe, activeTurn, json, maxLen, ttl, channel, newEpoch, completes)
  local existing = redis.call('GET', dedupe)
  if existing then return {0, tonumber(existing)} end
  if redis.call('EXISTS', meta) == 0 then
    redis.call('DEL', stream)
    redis.call('HSET', meta, 'epoch', newEpoch, 'seq', 0)
  end
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  local payload = '{"seq":' .. seq .. ',' .. string.sub(json, 2)
  redis.call('XADD', stream, 'MAXLEN', '~', maxLen, seq .. '-0', 'e', payload)
  redis.call('EXPIRE', meta, ttl)
  redis.call('EXPIRE', stream, ttl)
  redis.call('SET', dedupe, seq, 'EX', ttl)
  if completes ~= '' and redis.call('GET', activeTurn) == completes then redis.call('DEL', activeTurn) end
  redis.call('PUBLISH', channel, payload)
  return {1, seq}
end
`;

/** KEYS: meta, stream, dedupe, activeTurn. ARGV: json, maxLen, ttl, channel, newEpoch, completes. */
const APPEND_SCRIPT = `${APPEND_FUNCTION}
return append(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
`;

/**
 * Appends the events of one turn in their index order, whatever order they arrive in: an event
 * whose predecessors are missing is parked in the turn's gate hash and released, with any parked
 * successors, when they arrive. A closed gate (the turn was ended early) drops late events.
 * KEYS: meta, stream, gate, activeTurn. ARGV: json, maxLen, ttl, channel, newEpoch, completes,
 * index, idempotencyKey, dedupePrefix (dedupe keys share the user's hash tag). Returns
 * {1 appended (and drained) | 0 duplicate or late | 2 parked, seq of this event or 0}.
 */
const APPEND_IN_ORDER_SCRIPT = `${APPEND_FUNCTION}
local gate, ttl, prefix = KEYS[3], ARGV[3], ARGV[9]
if redis.call('HGET', gate, 'closed') then return {0, 0} end
if redis.call('EXISTS', prefix .. ARGV[8]) == 1 then return {0, tonumber(redis.call('GET', prefix .. ARGV[8]))} end
local index = tonumber(ARGV[7])
local nextIndex = tonumber(redis.call('HGET', gate, 'next') or '0')
if index < nextIndex then return {0, 0} end
if index > nextIndex then
  redis.call('HSET', gate, 'p:' .. index, ARGV[1], 'k:' .. index, ARGV[8], 'c:' .. index, ARGV[6])
  redis.call('EXPIRE', gate, ttl)
  return {2, 0}
end
local result = append(KEYS[1], KEYS[2], prefix .. ARGV[8], KEYS[4], ARGV[1], ARGV[2], ttl, ARGV[4], ARGV[5], ARGV[6])
nextIndex = nextIndex + 1
while true do
  local parked = redis.call('HGET', gate, 'p:' .. nextIndex)
  if not parked then break end
  local key = redis.call('HGET', gate, 'k:' .. nextIndex)
  local completes = redis.call('HGET', gate, 'c:' .. nextIndex)
  append(KEYS[1], KEYS[2], prefix .. key, KEYS[4], parked, ARGV[2], ttl, ARGV[4], ARGV[5], completes)
  redis.call('HDEL', gate, 'p:' .. nextIndex, 'k:' .. nextIndex, 'c:' .. nextIndex)
  nextIndex = nextIndex + 1
end
redis.call('HSET', gate, 'next', nextIndex)
redis.call('EXPIRE', gate, ttl)
return result
`;

export interface OutboxOptions {
  maxEvents: number;
  ttlSeconds: number;
}

/**
 * One event for a learner's outbox, typed by the event catalog. Its idempotency key is built from
 * `key` (by default the data itself: a turn id, a sentence index, a quiz id): a retried job builds
 * the same key and the event is appended once. An event that ends a turn releases that turn's
 * active-turn lock.
 */
export type OutboxEvent<T extends OutboxEventType = OutboxEventType> = {
  type: T;
  data: EventData<T>;
  requestId?: string;
} & (EventData<T> extends EventKeyRef<T> ? { key?: EventKeyRef<T> } : { key: EventKeyRef<T> });

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
  appendOutboxEventInOrder(...args: string[]): Promise<[number, number]>;
}

/** An outbox payload starts `{"seq":N,"type":"…"`: the append script splices seq into the frame. */
const ENVELOPE = /^\{"seq":(\d+),"type":"([a-z_]+)"/;

/** The seq and event type of an outbox payload, read from its first bytes without parsing the rest. */
export function envelopeOf(payload: string): { seq: number; type: OutboxEventType | undefined } {
  const match = ENVELOPE.exec(payload);
  return match ? { seq: Number(match[1]), type: match[2] as OutboxEventType } : { seq: Number.NaN, type: undefined };
}

/** Reads the seq of an outbox payload without parsing the whole event. */
export function seqOf(payload: string): number {
  return envelopeOf(payload).seq;
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
      redis.defineCommand('appendOutboxEventInOrder', { numberOfKeys: 4, lua: APPEND_IN_ORDER_SCRIPT });
    }
    this.redis = redis as OutboxRedis;
  }

  async append<T extends OutboxEventType>(userId: string, event: OutboxEvent<T>): Promise<AppendResult> {
    const { json, key, completes } = this.prepare(event);
    const [appended, seq] = await this.redis.appendOutboxEvent(
      this.keys.outboxMeta(userId),
      this.keys.outboxStream(userId),
      this.keys.outboxDedupe(userId, key),
      this.keys.activeTurn(userId),
      ...this.scriptArgs(userId, json, completes),
    );
    return { seq: Number(seq), duplicate: Number(appended) === 0 };
  }

  /**
   * Appends one of a turn's ordered events (a sentence's audio, then the turn's end): it goes out
   * once every event of a lower `index` in `gate` has, and releases those parked behind it.
   */
  async appendInOrder<T extends GatedEventType>(
    userId: string,
    event: OutboxEvent<T>,
    order: { gate: string; index: number },
  ): Promise<AppendResult & { parked: boolean }> {
    const { json, key, completes } = this.prepare(event);
    const [status, seq] = await this.redis.appendOutboxEventInOrder(
      this.keys.outboxMeta(userId),
      this.keys.outboxStream(userId),
      this.keys.turnGate(userId, order.gate),
      this.keys.activeTurn(userId),
      ...this.scriptArgs(userId, json, completes),
      String(order.index),
      key,
      this.keys.outboxDedupe(userId, ''),
    );
    return { seq: Number(seq), duplicate: Number(status) === 0, parked: Number(status) === 2 };
  }

  /** The frame's JSON, its idempotency key and the turn it ends (if it ends one), from the catalog. */
  private prepare<T extends OutboxEventType>(event: OutboxEvent<T>): { json: string; key: string; completes: string } {
    const ref = (event.key ?? event.data) as EventKeyRef<T>;
    const json = JSON.stringify(successFrame(event.type, event.data, event.requestId));
    const completes = eventCatalog[event.type].endsTurn ? (ref as { turn_id: string }).turn_id : '';
    return { json, key: eventKey(event.type, ref), completes };
  }

  /** ARGV shared by both scripts: json, maxLen, ttl, channel, newEpoch, completes. */
  private scriptArgs(userId: string, json: string, completes: string): string[] {
    return [
      json,
      String(this.options.maxEvents),
      String(this.options.ttlSeconds),
      this.keys.userChannel(userId),
      randomUUID().slice(0, 8),
      completes,
    ];
  }

  /** Ends a gate early: its parked and later events are dropped (the turn was answered otherwise). */
  async closeGate(userId: string, gate: string): Promise<void> {
    const key = this.keys.turnGate(userId, gate);
    await this.redis.multi().hset(key, 'closed', '1').expire(key, this.options.ttlSeconds).exec();
  }

  /** The next index a gate waits for, and whether it was closed. */
  async gateState(userId: string, gate: string): Promise<{ next: number; closed: boolean }> {
    const [next, closed] = await this.redis.hmget(this.keys.turnGate(userId, gate), 'next', 'closed');
    return { next: Number(next ?? 0), closed: closed !== null };
  }

  /** Whether this event (by its idempotency key) was already appended. */
  async has<T extends OutboxEventType>(userId: string, type: T, ref: EventKeyRef<T>): Promise<boolean> {
    return (await this.redis.exists(this.keys.outboxDedupe(userId, eventKey(type, ref)))) === 1;
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
