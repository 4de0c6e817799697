import type { JobsOptions, WorkerOptions } from 'bullmq';
import type { z } from 'zod';

/** The services that run queue workers. */
export type QueueConsumer = 'agent-worker' | 'tts-worker';

/**
 * How a queue's jobs travel. `bullmq`: a BullMQ queue (about 55 Redis commands a job: add, marker,
 * moveToActive, moveToFinished, events). `stream`: a Redis Stream per partition read by a consumer
 * group (`stream-queue.ts`: XADD, XREADGROUP, XACK + XDEL: about 4 a job), for the per-turn hops.
 */
export type QueueTransport = 'bullmq' | 'stream';

/**
 * The queue catalog: each queue's name, consuming service, payload schema, default job options and
 * job-id builder live together. Payload fields added later must be optional so that jobs queued
 * before a rolling deploy still parse.
 */
export interface QueueDefinition<
  S extends z.ZodType,
  C extends QueueConsumer = QueueConsumer,
  T extends QueueTransport = QueueTransport,
> {
  name: string;
  /** The one service whose workers take this queue's jobs: `startWorkers` requires its handler. */
  consumer: C;
  transport: T;
  payload: S;
  /** `attempts` and `backoff` hold for both transports; the rest is BullMQ's. */
  defaultJobOptions: JobsOptions;
  /**
   * Lock and stall settings for the queue's workers; a stream consumer reads them the same way
   * (`lockDuration`: idle time after which another consumer claims an entry; `stalledInterval`: how
   * often it looks; `maxStalledCount`: claims allowed per job; `drainDelay`: blocking read, seconds).
   */
  workerOptions: Pick<WorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount' | 'drainDelay'>;
  jobId: (payload: z.infer<S>) => string;
  /** Stream transport: whose jobs these are; `partitionOf` it picks the partition (one learner's jobs stay in order). */
  partitionKey?: (payload: z.infer<S>) => string;
  /**
   * Stream transport: the BullMQ queue of the same name that the previous release used. Its
   * consumers keep a BullMQ worker on it for one release so that jobs queued there before a
   * rolling deploy are still done; remove it (and this flag) in the next release.
   */
  legacyBullmq?: boolean;
}
