import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';
import { type JobHandler, type JobInfo, logJobFailed, PauseQueue, runAttempt } from './job-run.js';
import { type RedisKeys, redisKeys } from './keys.js';
import type { Logger } from './logger.js';
import type { QueueDepth, Registry } from './metrics.js';
import { partitionName, partitionNames, partitionOf } from './partitions.js';
import type { QueueDefinition } from './queue-definition.js';
import { isCluster, type RedisClient } from './redis.js';

/**
 * The stream transport of a catalog queue: each partition is one Redis Stream
 * (`keys.queueStream('chat-1')`) read by the consumer group `workers`. A job costs about four
 * commands: XADD by the producer, XREADGROUP (blocking) by a worker, XACK + XDEL in one pipeline
 * once done. Delivery is at least once, like BullMQ's: every handler's effect is an idempotent
 * outbox append. Design and failure behaviour: docs/architecture.md, "Queue transports".
 */

/** The consumer group every worker of a stream queue reads in. */
export const STREAM_GROUP = 'workers';

/**
 * Safety cap on a partition's stream (XADD MAXLEN ~): done entries are XDELed at once, so only a
 * backlog reaches it, and an entry that old is long past its turn's deadline (the watchdog has
 * answered that turn). Approximate trimming costs nothing per XADD.
 */
export const STREAM_MAX_LEN = 10_000;

/** How often a worker reads a queue's shared pause (one GET): how late the other workers see a 429 pause. */
export const PAUSE_CHECK_MS = 2_000;

/** A consumer that has had nothing pending this long is deleted from the group by any other (it is gone). */
const DEAD_CONSUMER_IDLE_MS = 3_600_000;
/** Every this many stall checks, a worker looks for such consumers (XINFO CONSUMERS). */
const DEAD_CONSUMER_CHECK_EVERY = 12;
/** How long a read loop waits after Redis failed it. */
const RETRY_AFTER_ERROR_MS = 1_000;

/** A job added to a stream queue: enough to remove it again. */
export interface StreamJob {
  /** The catalog's job id. */
  id: string;
  /** The stream entry id (XADD's answer). */
  entryId: string;
  /** The partition's name (`chat`, `chat-1`, …). */
  partition: string;
}

type StreamFields = string[];
type StreamEntry = [id: string, fields: StreamFields | null];

/** When an entry was added (epoch ms, Redis' clock): the first part of its id. */
function entryTime(entryId: string): number {
  return Number(entryId.split('-')[0]);
}

function field(fields: StreamFields, name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** The producer side of a stream queue. The Redis client is the caller's (it closes it). */
export class StreamQueue<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  /** The partitions' names, partition 0 first. */
  readonly partitions: string[];
  private readonly keys: RedisKeys;

  constructor(
    readonly def: QueueDefinition<S>,
    private readonly redis: RedisClient,
    prefix: string,
    partitions = 1,
  ) {
    if (def.transport !== 'stream' || !def.partitionKey) {
      throw new Error(`queue ${def.name} is not a stream queue with a partition key`);
    }
    this.name = def.name;
    this.partitions = partitionNames(def.name, partitions);
    this.keys = redisKeys(prefix);
  }

  /** The partition a payload goes to. */
  partitionOf(data: z.infer<S>): string {
    const key = (this.def.partitionKey as (payload: z.infer<S>) => string)(data);
    return partitionName(this.name, partitionOf(key, this.partitions.length));
  }

  /** Adds a job (payload already validated: use `enqueue`). One XADD. */
  async add(data: z.infer<S>, jobId: string): Promise<StreamJob> {
    const partition = this.partitionOf(data);
    const entryId = await this.redis.xadd(
      this.keys.queueStream(partition),
      'MAXLEN',
      '~',
      STREAM_MAX_LEN,
      '*',
      'id',
      jobId,
      'data',
      JSON.stringify(data),
    );
    return { id: jobId, entryId: entryId as string, partition };
  }

  /**
   * Takes a job off the queue (XDEL). A worker already running it gets its abort signal at its next
   * claim renewal (within half the lock duration), and neither retries nor acknowledges it.
   */
  async remove(job: StreamJob): Promise<number> {
    return this.redis.xdel(this.keys.queueStream(job.partition), job.entryId);
  }

  /** Waiting (in the stream, not delivered) and active (delivered, not acknowledged) jobs per partition. */
  async depth(): Promise<QueueDepth[]> {
    return (
      await Promise.all(this.partitions.map((p) => partitionDepth(this.redis, this.keys.queueStream(p), p)))
    ).flat();
  }

  /** Nothing to close: the connection is the caller's. */
  async close(): Promise<void> {}
}

async function partitionDepth(redis: RedisClient, key: string, queue: string): Promise<QueueDepth[]> {
  const [length, pending] = await Promise.all([
    redis.xlen(key),
    // NOGROUP before any worker started: nothing is active.
    (redis.xpending(key, STREAM_GROUP) as Promise<[number, ...unknown[]]>).then(([count]) => count).catch(() => 0),
  ]);
  return [
    { queue, state: 'wait', count: Math.max(0, length - pending) },
    { queue, state: 'active', count: pending },
  ];
}

export interface StreamConsumerOptions {
  /** Worker-profile connection for acknowledgements, claims and the pause; duplicated once per partition for blocking reads. */
  connection: RedisClient;
  prefix: string;
  logger: Logger;
  metrics: Registry;
  /** Jobs this process runs at once over all partitions: each partition gets ceil(concurrency / partitions), at least 1. */
  concurrency: number;
  partitions: number;
}

/** The consumer's name in the group: unique per process and start. */
function consumerName(): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/**
 * The worker side of a stream queue in one process: a reader per partition (its own blocking
 * connection), the queue's shared pause, and the job loop (attempts with backoff, stall recovery).
 */
export class StreamConsumer<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly concurrency: number;
  readonly consumer = consumerName();
  private readonly keys: RedisKeys;
  private readonly readers: PartitionReader[];
  private pausedUntil = 0;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly pauseCheck: NodeJS.Timeout;
  private readonly wakers = new Set<() => void>();

  constructor(
    readonly def: QueueDefinition<S>,
    private readonly handler: JobHandler<z.infer<S>>,
    readonly options: StreamConsumerOptions,
  ) {
    this.name = def.name;
    this.keys = redisKeys(options.prefix);
    const partitions = partitionNames(def.name, options.partitions);
    const slots = Math.max(1, Math.ceil(options.concurrency / partitions.length));
    this.concurrency = slots * partitions.length;
    this.readers = partitions.map((p) => new PartitionReader(this, p, this.keys.queueStream(p), slots));
    this.pauseCheck = setInterval(() => void this.readPause(), PAUSE_CHECK_MS);
    this.pauseCheck.unref();
  }

  get redis(): RedisClient {
    return this.options.connection;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  isRunning(): boolean {
    return !this.closing;
  }

  /** Resolves after `ms`, or at once when the consumer closes. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /** Waits while the queue is paused (a PauseQueue here, or another worker's, seen by `readPause`). */
  async whilePaused(): Promise<void> {
    while (!this.closing && Date.now() < this.pausedUntil) await this.sleep(this.pausedUntil - Date.now());
  }

  get paused(): boolean {
    return Date.now() < this.pausedUntil;
  }

  /** Reads the queue's shared pause: one GET every PAUSE_CHECK_MS per process and queue. */
  private async readPause(): Promise<void> {
    try {
      const until = Number(await this.redis.get(this.keys.queuePausedUntil(this.name)));
      if (until > this.pausedUntil) this.pausedUntil = until;
    } catch {
      // Redis away: the readers find out themselves
    }
  }

  /** Pauses the queue for every worker: here at once, elsewhere within PAUSE_CHECK_MS. */
  private async pause(ms: number): Promise<void> {
    const until = Date.now() + ms;
    this.pausedUntil = Math.max(this.pausedUntil, until);
    await this.redis.set(this.keys.queuePausedUntil(this.name), String(until), 'PX', ms);
  }

  /**
   * Runs one delivered entry to its end: attempts (the catalog's `attempts`, with its backoff) in
   * this process, then XACK + XDEL whatever the outcome; a payload that does not parse is dropped
   * at once. A PauseQueue pauses the queue and runs the job again when the pause ends, without
   * using an attempt (a job delivered here during a pause waits for its end too).
   */
  async process(
    reader: PartitionReader,
    entryId: string,
    fields: StreamFields,
    deliveries: number,
    signal: AbortSignal,
  ) {
    const { def, handler } = this;
    const { logger, metrics } = this.options;
    const attempts = def.defaultJobOptions.attempts ?? 1;
    let data: unknown;
    try {
      data = JSON.parse(field(fields, 'data') ?? '');
    } catch {
      data = undefined; // fails the schema below: dropped
    }
    const job: JobInfo = {
      id: field(fields, 'id'),
      attemptsMade: Number(field(fields, 'attempts') ?? 0),
      timestamp: entryTime(entryId),
      data,
    };
    let firstRun = deliveries === 1 && job.attemptsMade === 0;
    for (;;) {
      await this.whilePaused();
      if (this.closing && this.paused) {
        // Closing during a pause: back to the queue for a worker that stays.
        await reader.putBack(entryId, fields, job.attemptsMade);
        return;
      }
      try {
        await runAttempt(def, handler, job, signal, { logger, metrics, firstRun });
        break;
      } catch (error) {
        firstRun = false;
        if (signal.aborted) break;
        if (error instanceof PauseQueue) {
          // The job stays here (its claim renewed) and runs again once the pause is over.
          await this.pause(error.pauseMs).catch(() => {});
          continue;
        }
        const err = error instanceof Error ? error : new Error(String(error));
        logJobFailed(logger, def.name, job.id, err);
        if (error instanceof UnrecoverableError || job.attemptsMade + 1 >= attempts) break;
        job.attemptsMade += 1;
        await new Promise((resolve) => setTimeout(resolve, backoffMs(def, job.attemptsMade)));
      }
    }
    // Aborted: another worker holds the entry now, or it was removed: not this worker's to acknowledge.
    if (signal.aborted) return;
    await reader.finish(entryId);
  }

  /** Stops reading, finishes the running jobs (and any a cut-off read left pending here), then returns. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      clearInterval(this.pauseCheck);
      for (const wake of [...this.wakers]) wake();
      this.closed = Promise.all(this.readers.map((reader) => reader.close())).then(() => {});
    }
    return this.closed;
  }
}

/** BullMQ's backoff for the catalog's `backoff` option, after `attemptsMade` failed attempts. */
function backoffMs(def: QueueDefinition<z.ZodType>, attemptsMade: number): number {
  const backoff = def.defaultJobOptions.backoff;
  if (backoff === undefined) return 0;
  if (typeof backoff === 'number') return backoff;
  const delay = backoff.delay ?? 0;
  return backoff.type === 'exponential' ? delay * 2 ** (attemptsMade - 1) : delay;
}

/**
 * Ownership renewal: re-claims (XCLAIM … JUSTID, idle time reset) every entry the group says this
 * consumer holds, so that no other consumer takes a long job; one that another consumer took
 * already (this one looked dead) is not taken back. Returns the ids renewed: not those another
 * consumer holds, nor those removed from the stream (XCLAIM drops them from the pending list).
 * KEYS: the stream. ARGV: group, consumer, max entries.
 */
const RENEW_SCRIPT = `
local held = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[3]), ARGV[2])
if #held == 0 then return {} end
local claim = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
for _, entry in ipairs(held) do claim[#claim + 1] = entry[1] end
claim[#claim + 1] = 'JUSTID'
return redis.call(unpack(claim))
`;

type RenewingRedis = RedisClient & {
  renewStreamClaims(key: string, group: string, consumer: string, count: string): Promise<string[]>;
};

/** One partition of a stream queue, read by one process: its blocking connection, its share of the concurrency, its timers. */
class PartitionReader {
  private readonly blocking: RedisClient;
  /** Entries being processed here, by id. */
  private readonly running = new Map<string, { done: Promise<void>; abort: AbortController; finishing?: boolean }>();
  private slotFreed: (() => void) | undefined;
  private readonly loop: Promise<void>;
  private readonly timers: NodeJS.Timeout[];
  private stallChecks = 0;

  constructor(
    private readonly consumer: StreamConsumer,
    readonly partition: string,
    readonly key: string,
    private readonly slots: number,
  ) {
    const { connection } = consumer.options;
    // Blocking reads hold their connection: one of its own per partition, never shared.
    this.blocking = isCluster(connection) ? connection.duplicate() : connection.duplicate();
    this.blocking.on('error', () => {}); // the main connection logs outages
    if (!('renewStreamClaims' in connection)) {
      connection.defineCommand('renewStreamClaims', { numberOfKeys: 1, lua: RENEW_SCRIPT });
    }
    const { lockDuration = 10_000, stalledInterval = 5_000 } = consumer.def.workerOptions;
    this.timers = [
      setInterval(() => void this.renew(), Math.max(500, Math.floor(lockDuration / 2))),
      setInterval(() => void this.claimStalled(), stalledInterval),
    ];
    for (const timer of this.timers) timer.unref();
    this.loop = this.read();
  }

  private get redis(): RedisClient {
    return this.consumer.redis;
  }

  private async ensureGroup(): Promise<void> {
    try {
      // From the start of the stream: entries added before any worker created the group are jobs too.
      await this.redis.xgroup('CREATE', this.key, STREAM_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error as Error).message.includes('BUSYGROUP')) throw error;
    }
  }

  private async read(): Promise<void> {
    const { consumer } = this;
    const blockMs = (consumer.def.workerOptions.drainDelay ?? 10) * 1000;
    let groupReady = false;
    while (!consumer.isClosing) {
      try {
        if (!groupReady) {
          await this.ensureGroup();
          groupReady = true;
        }
        await consumer.whilePaused();
        await this.freeSlot();
        if (consumer.isClosing) break;
        const reply = (await this.blocking.xreadgroup(
          'GROUP',
          STREAM_GROUP,
          consumer.consumer,
          'COUNT',
          this.slots - this.running.size,
          'BLOCK',
          blockMs,
          'STREAMS',
          this.key,
          '>',
        )) as [string, StreamEntry[]][] | null;
        for (const [entryId, fields] of reply?.[0]?.[1] ?? []) this.start(entryId, fields, 1);
      } catch (error) {
        if (consumer.isClosing) break;
        // The group is gone (Redis restarted without its data, or the stream was deleted): make it again.
        if ((error as Error).message.includes('NOGROUP')) groupReady = false;
        else consumer.logger.warn({ queue: this.partition, err: (error as Error).message }, 'stream read failed');
        await consumer.sleep(RETRY_AFTER_ERROR_MS);
      }
    }
  }

  private freeSlot(): Promise<void> {
    if (this.running.size < this.slots) return Promise.resolve();
    return new Promise((resolve) => {
      this.slotFreed = resolve;
    });
  }

  private start(entryId: string, fields: StreamFields | null, deliveries: number): void {
    if (this.running.has(entryId)) return;
    if (fields === null) {
      // Removed (XDEL) while pending here: only its acknowledgement is left.
      void this.finish(entryId).catch(() => {});
      return;
    }
    const abort = new AbortController();
    const done = this.consumer
      .process(this, entryId, fields, deliveries, abort.signal)
      .catch((error) =>
        this.consumer.logger.error(
          { queue: this.partition, entryId, err: (error as Error).message },
          'stream job not acknowledged; another worker takes it after the lock duration',
        ),
      )
      .finally(() => {
        this.running.delete(entryId);
        const freed = this.slotFreed;
        this.slotFreed = undefined;
        freed?.();
      });
    this.running.set(entryId, { done, abort });
  }

  /** Done with an entry (completed, failed for good, or dropped): XACK + XDEL in one pipeline (not MULTI). */
  async finish(entryId: string): Promise<void> {
    const job = this.running.get(entryId);
    if (job) job.finishing = true;
    await this.redis.pipeline().xack(this.key, STREAM_GROUP, entryId).xdel(this.key, entryId).exec();
  }

  /** Puts an entry back at the stream's end (a paused job): XADD a copy, then XACK + XDEL the original. */
  async putBack(entryId: string, fields: StreamFields, attemptsMade: number): Promise<void> {
    const copy = ['id', field(fields, 'id') ?? '', 'data', field(fields, 'data') ?? ''];
    if (attemptsMade > 0) copy.push('attempts', String(attemptsMade));
    await this.redis.xadd(this.key, 'MAXLEN', '~', STREAM_MAX_LEN, '*', ...copy);
    await this.finish(entryId);
  }

  /** Keeps this consumer's running entries from looking stalled (one script call per lock half-period while busy). */
  private async renew(): Promise<void> {
    if (this.running.size === 0) return;
    try {
      const renewed = new Set(
        await (this.redis as RenewingRedis).renewStreamClaims(
          this.key,
          STREAM_GROUP,
          this.consumer.consumer,
          String(this.slots * 2),
        ),
      );
      for (const [entryId, { abort, finishing }] of this.running) {
        if (renewed.has(entryId) || finishing) continue;
        // Another worker took it (this one looked dead), or the producer removed it: stop working on it.
        this.consumer.logger.warn({ queue: this.partition, entryId }, 'stream job no longer held here; aborting it');
        abort.abort(new Error('the job was claimed by another worker or removed from its queue'));
      }
    } catch {
      // Redis away: the next renewal tries again (the lock is twice the renewal period)
    }
  }

  /**
   * Stall recovery: claims entries another consumer has held for longer than the lock duration
   * (it died: kill -9, OOM, node lost) with XAUTOCLAIM, as many as this reader has free slots. An
   * entry claimed more than `maxStalledCount` times is dropped with an error log, as BullMQ fails it.
   */
  private async claimStalled(): Promise<void> {
    const { consumer } = this;
    const free = this.slots - this.running.size;
    if (consumer.isClosing || consumer.paused || free <= 0) return;
    const { lockDuration = 10_000, maxStalledCount = 1 } = consumer.def.workerOptions;
    try {
      const [, claimed] = (await this.redis.xautoclaim(
        this.key,
        STREAM_GROUP,
        consumer.consumer,
        lockDuration,
        '0-0',
        'COUNT',
        free,
      )) as [string, StreamEntry[], string[]];
      if (claimed.length > 0) {
        const deliveries = await this.deliveryCounts(claimed.map(([id]) => id));
        for (const [entryId, fields] of claimed) {
          const count = deliveries.get(entryId) ?? 2;
          if (count - 1 > maxStalledCount) {
            consumer.logger.error(
              { queue: this.partition, jobId: fields && field(fields, 'id'), stalled: count - 1 },
              'job stalled more than allowable limit; dropped',
            );
            await this.finish(entryId);
            continue;
          }
          consumer.logger.warn({ queue: this.partition, jobId: fields && field(fields, 'id') }, 'stalled job claimed');
          this.start(entryId, fields, count);
        }
      }
      this.stallChecks += 1;
      if (this.stallChecks % DEAD_CONSUMER_CHECK_EVERY === 0) await this.forgetDeadConsumers();
    } catch (error) {
      if (!(error as Error).message.includes('NOGROUP')) {
        consumer.logger.warn({ queue: this.partition, err: (error as Error).message }, 'stall check failed');
      }
    }
  }

  /** How often each of these entries (all held by this consumer) was delivered. */
  private async deliveryCounts(entryIds: string[]): Promise<Map<string, number>> {
    const sorted = [...entryIds].sort(compareEntryIds);
    const rows = (await this.redis.xpending(
      this.key,
      STREAM_GROUP,
      sorted[0] as string,
      sorted[sorted.length - 1] as string,
      sorted.length + this.slots * 2,
      this.consumer.consumer,
    )) as [string, string, number, number][];
    return new Map(rows.map(([id, , , count]) => [id, count]));
  }

  /**
   * Deletes consumers of the group that hold nothing and have not read for an hour: processes
   * that died (their entries were claimed by others). Keeps the group's consumer list bounded.
   */
  private async forgetDeadConsumers(): Promise<void> {
    const rows = (await this.redis.xinfo('CONSUMERS', this.key, STREAM_GROUP)) as unknown[][];
    for (const row of rows) {
      const info = Object.fromEntries(
        Array.from({ length: row.length / 2 }, (_, i) => [row[2 * i] as string, row[2 * i + 1]]),
      );
      if (info.pending === 0 && Number(info.idle) > DEAD_CONSUMER_IDLE_MS) {
        await this.redis.xgroup('DELCONSUMER', this.key, STREAM_GROUP, String(info.name));
      }
    }
  }

  /**
   * Stops reading (the blocking read is cut off by closing its connection), runs what a cut-off
   * read may have delivered here, waits for every running job, and leaves the group if nothing is
   * pending here any more.
   */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    const freed = this.slotFreed;
    this.slotFreed = undefined;
    freed?.();
    this.blocking.disconnect();
    await this.loop;
    try {
      const reply = (await this.redis.xreadgroup(
        'GROUP',
        STREAM_GROUP,
        this.consumer.consumer,
        'COUNT',
        1000,
        'STREAMS',
        this.key,
        '0',
      )) as [string, StreamEntry[]][] | null;
      for (const [entryId, fields] of reply?.[0]?.[1] ?? []) this.start(entryId, fields, 1);
    } catch {
      // Redis away: what is pending here is claimed by another worker after the lock duration
    }
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((job) => job.done));
    try {
      if (!(await this.holdsAny()))
        await this.redis.xgroup('DELCONSUMER', this.key, STREAM_GROUP, this.consumer.consumer);
    } catch {
      // left for forgetDeadConsumers
    }
  }

  private async holdsAny(): Promise<boolean> {
    const held = (await this.redis.xpending(this.key, STREAM_GROUP, '-', '+', 1, this.consumer.consumer)) as unknown[];
    return held.length > 0;
  }
}

function compareEntryIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
