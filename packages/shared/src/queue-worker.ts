import { type ConnectionOptions, type Job, Worker } from 'bullmq';
import type { z } from 'zod';
import type { Logger } from './logger.js';
import { type Registry, workerMetrics } from './metrics.js';
import {
  type JobPayload,
  parseJobData,
  type QueueConsumer,
  type QueueDefinition,
  type QueueName,
  type QueuesConsumedBy,
  queueCatalog,
  queueKeyPrefix,
  queuesConsumedBy,
} from './queues.js';
import { logQueueErrors } from './redis.js';

export interface JobContext {
  job: Job;
  /** BullMQ's abort signal for this job (aborted by `worker.cancelJob`, for one). */
  signal?: AbortSignal;
}

/** Runs one job: gets the payload already parsed by the queue's catalog schema. */
export type JobHandler<P> = (payload: P, context: JobContext) => Promise<unknown>;

/**
 * Thrown by a handler to pause its queue for `pauseMs` (e.g. the LLM answered 429): the job goes
 * back to waiting without using up an attempt, and no worker of this process takes a job meanwhile.
 */
export class PauseQueue extends Error {
  override name = 'PauseQueue';
  constructor(
    readonly pauseMs: number,
    reason: string,
  ) {
    super(reason);
  }
}

export interface StartWorkerOptions {
  /** Redis connection (the worker-profile client); BullMQ duplicates it for blocking reads. */
  connection: ConnectionOptions;
  prefix: string;
  logger: Logger;
  /** Where queue-wait and job-duration metrics go. */
  metrics: Registry;
  /** Jobs run at once; default 1. */
  concurrency?: number;
}

/**
 * Starts a BullMQ worker for a catalog queue, with the catalog's lock and stall settings. Every job
 * is parsed first (a payload that does not parse fails at once, without retries), timed, and
 * logged if it fails.
 */
export function startWorker<S extends z.ZodType>(
  queue: QueueDefinition<S>,
  handler: JobHandler<z.infer<S>>,
  { connection, prefix, logger, metrics, concurrency = 1 }: StartWorkerOptions,
): Worker {
  const { queueWait, jobDuration } = workerMetrics(metrics);
  // BullMQ passes an abort signal only to processors that declare a third parameter.
  const worker: Worker = new Worker(
    queue.name,
    async (job, _token, signal) => {
      // Retries and stalled restarts would count the same wait again.
      if (job.attemptsMade === 0) queueWait.observe({ queue: queue.name }, (Date.now() - job.timestamp) / 1000);
      const endAttempt = jobDuration.startTimer({ queue: queue.name });
      try {
        const result = await handler(parseJobData(queue, job), { job, signal });
        endAttempt({ outcome: 'completed' });
        return result;
      } catch (error) {
        if (!(error instanceof PauseQueue)) {
          endAttempt({ outcome: 'failed' });
          throw error;
        }
        endAttempt({ outcome: 'rate_limited' });
        logger.warn(
          { jobId: job.id, queue: queue.name, pauseMs: error.pauseMs, reason: error.message },
          'pausing the queue; the job goes back to waiting',
        );
        await worker.rateLimit(error.pauseMs);
        throw Worker.RateLimitError();
      }
    },
    { connection, prefix: queueKeyPrefix(prefix, queue.name), concurrency, ...queue.workerOptions },
  );
  // Rate-limited jobs do not emit 'failed': only real failures (retried or final) are logged.
  worker.on('failed', (job, err) =>
    logger.error({ jobId: job?.id, queue: queue.name, err: err.message }, 'job failed'),
  );
  // One line per minute while Redis is away (BullMQ emits one error per retry).
  logQueueErrors(worker, logger, 'worker');
  return worker;
}

/** One handler for each queue the service consumes, keyed as in `queueCatalog`. */
export type WorkerHandlers<C extends QueueConsumer> = {
  [K in QueuesConsumedBy<C>]: JobHandler<JobPayload<K>>;
};

export interface StartWorkersOptions<C extends QueueConsumer> extends Omit<StartWorkerOptions, 'concurrency'> {
  /** Jobs each queue's worker runs at once. */
  concurrency: { [K in QueuesConsumedBy<C>]: number };
}

export interface ServiceWorkers<K extends QueueName> {
  /** Every started worker (readiness requires all of them running). */
  workers: Worker[];
  byQueue: Record<K, Worker>;
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
  const byQueue = {} as Record<QueuesConsumedBy<C>, Worker>;
  for (const key of consumed) {
    const queue: QueueDefinition<z.ZodType> = queueCatalog[key];
    const handler = handlers[key] as JobHandler<unknown>;
    byQueue[key] = startWorker(queue, handler, { ...options, concurrency: options.concurrency[key] });
  }
  const workers = Object.values<Worker>(byQueue);
  return {
    workers,
    byQueue,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
