import { randomUUID } from 'node:crypto';
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
import type { RedisClient } from './redis.js';

/**
 * How many of the latest events keep their idempotency key after they left the stream (a key stays
 * while its event is in the stream in any case). A job retried, or racing another path to the same
 * event, appends a duplicate only if the learner got this many events in between: BullMQ retries
 * ours within ~15 s (a 10 s lock, a stall check every 5 s, 200 ms backoff), and even a learner at
 * the rate limit (60 actions a minute, burst 10) with ten-sentence streamed turns gets fewer than
 * 2,000 events in a minute. About 120 bytes a key: 240 KB when full.
 */
export const OUTBOX_DEDUPE_KEEP = 2_000;

/**
 * Appends an event to a user's outbox exactly once and announces it, atomically:
 * - a second append with the same idempotency key returns the first one's seq and does nothing;
 * - seq grows by one per event; a new epoch starts when the outbox had expired;
 * - the stream keeps the newest events within two caps, a count and a byte budget (audio makes
 *   events of tens of KB); the meta hash counts the stream's bytes;
 * - the idempotency keys (a sorted set by seq) are trimmed with the stream: a key goes once its
 *   event left the stream and `keep` newer events came after it;
 * - every key expires after the TTL;
 * - a final event releases the user's active-turn lock if it still belongs to that turn, and
 *   deletes what only an open turn needs: its gate (late events of the turn are dropped by its
 *   end key, see below) and the reply kept for the deadline watchdog;
 * - the event is SPUBLISHed (sharded pub/sub: the learner's shard) with its seq spliced in, so
 *   gateways forward it without re-encoding.
 * KEYS: meta, stream, dedupe, activeTurn, then the gate and pending reply of the event's turn.
 * ARGV: json, key, maxLen, maxBytes, keep, ttl, channel, newEpoch, completes (the turn it ends, or '').
 * Shared by both scripts below; append returns {appended (1) or duplicate (0), seq}.
 */
const APPEND_FUNCTION = `
local meta, stream, dedupe, activeTurn, gate, pendingReply = unpack(KEYS, 1, 6)
local maxLen, maxBytes, keep = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local ttl, channel, newEpoch = ARGV[6], ARGV[7], ARGV[8]

local function seqOfId(id) return tonumber(string.match(id, '^%d+')) end

-- The stream's bytes, for an outbox kept before they were counted (counted once).
local function countBytes()
  local total = 0
  for _, entry in ipairs(redis.call('XRANGE', stream, '-', '+')) do total = total + #entry[2][2] end
  return total
end

-- Drops the oldest events while the stream is over a cap (the newest stays). Returns the bytes
-- left and the seq below which idempotency keys may go: the oldest event left, or \`keep\` events
-- back if that is older (the oldest event is read only when the stream is longer than \`keep\`
-- or was trimmed: the stream's seqs are contiguous, so it cannot be newer otherwise).
local function trim(seq, bytes)
  local length = redis.call('XLEN', stream)
  local firstLeft = 0
  while length > 1 and (length > maxLen or bytes > maxBytes) do
    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
    redis.call('XDEL', stream, oldest[1])
    bytes, length = bytes - #oldest[2][2], length - 1
    firstLeft = seqOfId(oldest[1]) + 1
  end
  if length >= keep then firstLeft = seqOfId(redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1][1]) end
  if firstLeft == 0 then return bytes, seq - keep + 1 end
  return bytes, math.min(firstLeft, seq - keep + 1)
end

local function append(json, key, completes)
  local existing = redis.call('ZSCORE', dedupe, key)
  if existing then
    if completes ~= '' then redis.call('DEL', gate, pendingReply) end
    return {0, tonumber(existing)}
  end
  local state = redis.call('HMGET', meta, 'epoch', 'seq', 'bytes')
  local seq, bytes = tonumber(state[2]), tonumber(state[3])
  local fresh = not (state[1] or seq or bytes)
  if fresh then
    -- No meta hash: a new (or expired) outbox starts a new epoch.
    redis.call('DEL', stream, dedupe)
    seq, bytes = 0, 0
  end
  seq = (seq or 0) + 1
  local payload = '{"seq":' .. seq .. ',' .. string.sub(json, 2)
  bytes = (bytes or countBytes()) + #payload
  redis.call('XADD', stream, seq .. '-0', 'e', payload)
  local below
  bytes, below = trim(seq, bytes)
  if fresh then
    redis.call('HSET', meta, 'epoch', newEpoch, 'seq', seq, 'bytes', bytes)
  else
    redis.call('HSET', meta, 'seq', seq, 'bytes', bytes)
  end
  redis.call('ZADD', dedupe, seq, key)
  redis.call('ZREMRANGEBYSCORE', dedupe, '-inf', '(' .. below)
  redis.call('EXPIRE', meta, ttl)
  redis.call('EXPIRE', stream, ttl)
  redis.call('EXPIRE', dedupe, ttl)
  if completes ~= '' then
    if redis.call('GET', activeTurn) == completes then redis.call('DEL', activeTurn) end
    redis.call('DEL', gate, pendingReply)
  end
  redis.call('SPUBLISH', channel, payload)
  return {1, seq}
end
`;

const APPEND_SCRIPT = `${APPEND_FUNCTION}
return append(ARGV[1], ARGV[2], ARGV[9])
`;

/**
 * Appends the events of one turn in their index order, whatever order they arrive in: an event
 * whose predecessors are missing is parked in the turn's gate hash and released, with any parked
 * successors, when they arrive. Once the turn is over (its gate closed, or its end key in the
 * outbox) late events are dropped. KEYS and ARGV: as the append script, then index and the turn's
 * end key. Returns {1 appended (and drained) | 0 duplicate or late | 2 parked, seq of this event or 0}.
 */
const APPEND_IN_ORDER_SCRIPT = `${APPEND_FUNCTION}
local json, key, completes, index, endKey = ARGV[1], ARGV[2], ARGV[9], tonumber(ARGV[10]), ARGV[11]
-- A turn's end that comes late (a second run of the turn, say) still drops the turn's pending reply,
-- which that run wrote again: nothing else would delete it before its TTL.
local function late(result)
  if completes ~= '' then redis.call('DEL', pendingReply) end
  return result
end
local existing = redis.call('ZSCORE', dedupe, key)
if existing then return late({0, tonumber(existing)}) end
if redis.call('HGET', gate, 'closed') or redis.call('ZSCORE', dedupe, endKey) then return late({0, 0}) end
local nextIndex = tonumber(redis.call('HGET', gate, 'next') or '0')
if index < nextIndex then return late({0, 0}) end
if index > nextIndex then
  redis.call('HSET', gate, 'p:' .. index, json, 'k:' .. index, key, 'c:' .. index, completes)
  redis.call('EXPIRE', gate, ttl)
  return {2, 0}
end
local result = append(json, key, completes)
local ended = completes ~= ''
nextIndex = nextIndex + 1
while not ended do
  local parked = redis.call('HGET', gate, 'p:' .. nextIndex)
  if not parked then break end
  local parkedKey = redis.call('HGET', gate, 'k:' .. nextIndex)
  local parkedCompletes = redis.call('HGET', gate, 'c:' .. nextIndex)
  redis.call('HDEL', gate, 'p:' .. nextIndex, 'k:' .. nextIndex, 'c:' .. nextIndex)
  append(parked, parkedKey, parkedCompletes)
  ended = parkedCompletes ~= ''
  nextIndex = nextIndex + 1
end
if not ended then
  redis.call('HSET', gate, 'next', nextIndex)
  redis.call('EXPIRE', gate, ttl)
end
return result
`;

/** The default byte budget of a learner's outbox stream (about 60 replies with their audio). */
export const OUTBOX_MAX_BYTES = 2 * 1024 * 1024;

export interface OutboxOptions {
  maxEvents: number;
  ttlSeconds: number;
  /** The stream's byte budget (OUTBOX_MAX_BYTES by default); the newest event is kept whatever its size. */
  maxBytes?: number;
  /** Idempotency keys kept beyond the stream (OUTBOX_DEDUPE_KEEP by default). */
  dedupeKeep?: number;
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

type OutboxRedis = RedisClient & {
  appendOutboxEvent(...args: string[]): Promise<[number, number]>;
  appendOutboxEventInOrder(...args: string[]): Promise<[number, number]>;
};

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

/** The key a turn's end (`reply` or `reply_done`) is appended under: once there, the turn is over. */
function turnEndKey(turnId: string): string {
  return eventKey('reply_done', { turn_id: turnId });
}

export class Outbox {
  private readonly redis: OutboxRedis;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: OutboxOptions,
  ) {
    if (!('appendOutboxEvent' in redis)) {
      redis.defineCommand('appendOutboxEvent', { numberOfKeys: 6, lua: APPEND_SCRIPT });
      redis.defineCommand('appendOutboxEventInOrder', { numberOfKeys: 6, lua: APPEND_IN_ORDER_SCRIPT });
    }
    this.redis = redis as OutboxRedis;
  }

  async append<T extends OutboxEventType>(userId: string, event: OutboxEvent<T>): Promise<AppendResult> {
    const { json, key, completes } = this.prepare(event);
    const [appended, seq] = await this.redis.appendOutboxEvent(
      ...this.scriptKeys(userId, completes),
      ...this.scriptArgs(userId, json, key, completes),
    );
    return { seq: Number(seq), duplicate: Number(appended) === 0 };
  }

  /**
   * Appends one of a turn's ordered events (a sentence's audio, then the turn's end): it goes out
   * once every event of a lower `index` in the turn's gate (`gate`: the turn id) has, and releases
   * those parked behind it.
   */
  async appendInOrder<T extends GatedEventType>(
    userId: string,
    event: OutboxEvent<T>,
    order: { gate: string; index: number },
  ): Promise<AppendResult & { parked: boolean }> {
    const { json, key, completes } = this.prepare(event);
    const [status, seq] = await this.redis.appendOutboxEventInOrder(
      ...this.scriptKeys(userId, order.gate),
      ...this.scriptArgs(userId, json, key, completes),
      String(order.index),
      turnEndKey(order.gate),
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

  /** KEYS of both scripts; `turnId`: the turn whose keys the event may use or, ending it, delete. */
  private scriptKeys(userId: string, turnId: string): string[] {
    return [
      this.keys.outboxMeta(userId),
      this.keys.outboxStream(userId),
      this.keys.outboxDedupe(userId),
      this.keys.activeTurn(userId),
      this.keys.turnGate(userId, turnId),
      this.keys.pendingReply(userId, turnId),
    ];
  }

  /** ARGV shared by both scripts: json, key, maxLen, maxBytes, keep, ttl, channel, newEpoch, completes. */
  private scriptArgs(userId: string, json: string, key: string, completes: string): string[] {
    return [
      json,
      key,
      String(this.options.maxEvents),
      String(this.options.maxBytes ?? OUTBOX_MAX_BYTES),
      String(this.options.dedupeKeep ?? OUTBOX_DEDUPE_KEEP),
      String(this.options.ttlSeconds),
      this.keys.userChannel(userId),
      randomUUID().slice(0, 8),
      completes,
    ];
  }

  /** Ends a gate early: its parked and later events are dropped (the turn was answered otherwise). */
  async closeGate(userId: string, turnId: string): Promise<void> {
    const key = this.keys.turnGate(userId, turnId);
    await this.redis.multi().hset(key, 'closed', '1').expire(key, this.options.ttlSeconds).exec();
  }

  /** The next index a turn's gate waits for, and whether it takes no more (closed, or the turn ended). */
  async gateState(userId: string, turnId: string): Promise<{ next: number; closed: boolean }> {
    // One round trip without MULTI (two commands more): the ordered append checks again atomically.
    const [[next, closed], ended] = await Promise.all([
      this.redis.hmget(this.keys.turnGate(userId, turnId), 'next', 'closed'),
      this.redis.zscore(this.keys.outboxDedupe(userId), turnEndKey(turnId)),
    ]);
    return { next: Number(next ?? 0), closed: closed !== null || ended !== null };
  }

  /** Whether this event (by its idempotency key) was already appended. */
  async has<T extends OutboxEventType>(userId: string, type: T, ref: EventKeyRef<T>): Promise<boolean> {
    return (await this.redis.zscore(this.keys.outboxDedupe(userId), eventKey(type, ref))) !== null;
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
