import { Worker } from 'bullmq';
import type { z } from 'zod';
import { type JobHandler, logJobFailed, PauseQueue, runAttempt } from './job-run.js';
import type { Logger } from './logger.js';
import type { Registry } from './metrics.js';
import {
  type JobPayload,
  type QueueConsumer,
  type QueueDefinition,
  type QueueName,
  type QueuesConsumedBy,
  queueCatalog,
  queueKeyPrefix,
  queuesConsumedBy,
} from './queues.js';
import { logQueueErrors, type RedisClient } from './redis.js';
import { StreamConsumer } from './stream-queue.js';

export type { JobContext, JobHandler, JobInfo } from './job-run.js';
export { PauseQueue } from './job-run.js';

/** A running consumer of one queue, whichever its transport (a BullMQ `Worker` or a `StreamConsumer`). */
export interface QueueWorker {
  readonly name: string;
  readonly concurrency: number;
  isRunning(): boolean;
  /** Stops taking jobs and lets running ones finish. */
  close(): Promise<void>;
}

export interface StartWorkerOptions {
  /** Redis connection (the worker-profile client); duplicated for blocking reads. */
  connection: RedisClient;
  prefix: string;
  logger: Logger;
  /** Where queue-wait and job-duration metrics go. */
  metrics: Registry;
  /** Jobs run at once; default 1. */
  concurrency?: number;
  /** QUEUE_PARTITIONS: a stream queue's consumer reads every partition. Default 1. */
  partitions?: number;
}

/**
 * Starts the consumer of a catalog queue by its transport, with the catalog's lock and stall
 * settings. Every job is parsed first (a payload that does not parse fails at once, without
 * retries), timed, and logged if it fails (`runAttempt`, the same for both transports).
 */
export function startWorker<S extends z.ZodType>(
  queue: QueueDefinition<S>,
  handler: JobHandler<z.infer<S>>,
  options: StartWorkerOptions,
): QueueWorker {
  if (queue.transport === 'stream') {
    const { concurrency = 1, partitions = 1, ...rest } = options;
    return new StreamConsumer(queue, handler, { ...rest, concurrency, partitions });
  }
  return startBullmqWorker(queue, handler, options);
}

/**
 * A BullMQ worker for a catalog queue (a BullMQ queue, or the legacy BullMQ queue of a stream
 * queue). `workerOptions` override the catalog's lock and stall settings.
 */
export function startBullmqWorker<S extends z.ZodType>(
  queue: QueueDefinition<S>,
  handler: JobHandler<z.infer<S>>,
  { connection, prefix, logger, metrics, concurrency = 1 }: StartWorkerOptions,
  workerOptions: Partial<QueueDefinition<S>['workerOptions']> = {},
): Worker {
  // BullMQ passes an abort signal only to processors that declare a third parameter.
  const worker: Worker = new Worker(
    queue.name,
    async (job, _token, signal) => {
      const options = { logger, metrics, firstRun: job.attemptsMade === 0 };
      try {
        return await runAttempt(queue, handler, job, signal, options);
      } catch (error) {
        if (!(error instanceof PauseQueue)) throw error;
        await worker.rateLimit(error.pauseMs);
        throw Worker.RateLimitError();
      }
    },
    {
      connection,
      prefix: queueKeyPrefix(prefix, queue.name),
      concurrency,
      ...queue.workerOptions,
      ...workerOptions,
    },
  );
  // Rate-limited jobs do not emit 'failed': only real failures (retried or final) are logged.
  worker.on('failed', (job, err) => logJobFailed(logger, queue.name, job?.id, err));
  // One line per minute while Redis is away (BullMQ emits one error per retry).
  logQueueErrors(worker, logger, 'worker');
  return worker;
}

/**
 * The legacy BullMQ queue of a stream queue idles nearly always: its stalled jobs are looked for
 * every 30 s rather than 5 s (as for the legacy turn-deadline queue).
 */
const LEGACY_QUEUE_WORKER = { stalledInterval: 30_000 };

/** One handler for each queue the service consumes, keyed as in `queueCatalog`. */
export type WorkerHandlers<C extends QueueConsumer> = {
  [K in QueuesConsumedBy<C>]: JobHandler<JobPayload<K>>;
};

export interface StartWorkersOptions<C extends QueueConsumer> extends Omit<StartWorkerOptions, 'concurrency'> {
  /** Jobs each queue's worker runs at once. */
  concurrency: { [K in QueuesConsumedBy<C>]: number };
}

export interface ServiceWorkers<K extends QueueName> {
  /** Every started worker, legacy BullMQ ones included (readiness requires all of them running). */
  workers: QueueWorker[];
  byQueue: Record<K, QueueWorker>;
  /** Stops taking jobs and lets running ones finish. */
  close(): Promise<void>;
}

/**
 * Starts a worker for every queue the catalog says `consumer` consumes. A consumed queue without
 * a handler (or a handler for a queue another service consumes) fails here, at boot, rather
 * than leaving jobs waiting forever. The types reject both in a handler object literal; this
 * check also covers casts and `any`.
 */
export function startWorkers<C extends QueueConsumer>(
  consumer: C,
  handlers: WorkerHandlers<C>,
  options: StartWorkersOptions<C>,
): ServiceWorkers<QueuesConsumedBy<C>> {
  const consumed = queuesConsumedBy(consumer);
  const missing = consumed.filter((key) => typeof handlers[key] !== 'function');
  const foreign = Object.keys(handlers).filter((key) => !(consumed as string[]).includes(key));
  if (missing.length > 0 || foreign.length > 0) {
    const problems = [
      ...missing.map((key) => `no handler for queue '${key}', which the catalog says ${consumer} consumes`),
      ...foreign.map((key) => `a handler for '${key}', which is not a queue ${consumer} consumes`),
    ];
    throw new Error(`${consumer}: ${problems.join('; ')} (see queueCatalog in packages/shared/src/queues.ts)`);
  }
  const byQueue = {} as Record<QueuesConsumedBy<C>, QueueWorker>;
  const legacy: QueueWorker[] = [];
  for (const key of consumed) {
    const queue: QueueDefinition<z.ZodType> = queueCatalog[key];
    const handler = handlers[key] as JobHandler<unknown>;
    const queueOptions = { ...options, concurrency: options.concurrency[key] };
    byQueue[key] = startWorker(queue, handler, queueOptions);
    // Jobs the previous release queued in BullMQ are still done (rolling deploy); remove next release.
    if (queue.legacyBullmq) legacy.push(startBullmqWorker(queue, handler, queueOptions, LEGACY_QUEUE_WORKER));
  }
  const workers = [...Object.values<QueueWorker>(byQueue), ...legacy];
  return {
    workers,
    byQueue,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
