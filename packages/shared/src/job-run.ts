import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';
import type { Logger } from './logger.js';
import { type Registry, workerMetrics } from './metrics.js';
import type { QueueDefinition } from './queue-definition.js';

/** What a handler may know of its job, whichever transport carried it. */
export interface JobInfo {
  /** The catalog's job id (`def.jobId(payload)`). */
  id?: string;
  /** Failed attempts before this one. */
  attemptsMade: number;
  /** When the job was queued (epoch ms). */
  timestamp: number;
  /** The payload as it came off the queue, before parsing. */
  data: unknown;
}

export interface JobContext {
  job: JobInfo;
  /** Aborted when the job should stop (BullMQ: `worker.cancelJob`; a stream job: its claim was lost). */
  signal?: AbortSignal;
}

/** Runs one job: gets the payload already parsed by the queue's catalog schema. */
export type JobHandler<P> = (payload: P, context: JobContext) => Promise<unknown>;

/**
 * Thrown by a handler to pause its queue for `pauseMs` (e.g. the LLM answered 429): the job goes
 * back to waiting without using up an attempt, and no worker takes a job of that queue meanwhile.
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

/**
 * A worker's first step: parse `job.data` with the catalog's schema. A payload that does not
 * parse will never parse, so the job fails at once instead of being retried.
 */
export function parseJobData<S extends z.ZodType>(
  def: QueueDefinition<S>,
  job: Pick<JobInfo, 'id' | 'data'>,
): z.infer<S> {
  const parsed = def.payload.safeParse(job.data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
  throw new UnrecoverableError(`invalid ${def.name} job ${job.id}: ${issues}`);
}

export interface AttemptOptions {
  logger: Logger;
  metrics: Registry;
  /** Record the queue wait: the job's first delivery and first attempt (retries and stall recoveries would count it again). */
  firstRun: boolean;
}

/**
 * One attempt at a job, the same for both transports: parse the payload (an `UnrecoverableError`
 * if it does not parse), time the attempt by outcome, run the handler. A `PauseQueue` is logged and
 * thrown on for the transport to pause its queue; any other error is thrown on to be retried.
 */
export async function runAttempt<S extends z.ZodType>(
  queue: QueueDefinition<S>,
  handler: JobHandler<z.infer<S>>,
  job: JobInfo,
  signal: AbortSignal | undefined,
  { logger, metrics, firstRun }: AttemptOptions,
): Promise<unknown> {
  const { queueWait, jobDuration } = workerMetrics(metrics);
  if (firstRun) queueWait.observe({ queue: queue.name }, (Date.now() - job.timestamp) / 1000);
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
    throw error;
  }
}

/** The one log line of a failed attempt (retried or final), for both transports. */
export function logJobFailed(logger: Logger, queue: string, jobId: string | undefined, err: Error): void {
  logger.error({ jobId, queue, err: err.message }, 'job failed');
}
