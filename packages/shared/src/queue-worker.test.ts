import { Writable } from 'node:stream';
import { startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { Worker } from 'bullmq';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Histogram, Registry } from './metrics.js';
import { type JobHandler, PauseQueue, startBullmqWorker, startWorkers, type WorkerHandlers } from './queue-worker.js';
import { type ChatJob, createBullmqQueue, enqueue, type Queue, queueCatalog, queueKeyPrefix } from './queues.js';
import { closeRedis, connectRedis, createWorkerRedis, type Redis } from './redis.js';
import { StreamConsumer } from './stream-queue.js';

let server: TestRedis;
let redis: Redis;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startTestRedis();
  redis = await connectRedis(createWorkerRedis(server.url, 'queue-worker-test'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await closeRedis(redis);
  await server.stop();
});

/** A pino logger whose lines the test can read. */
function capturingLogger() {
  const lines: { msg: string; [field: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/**
 * A BullMQ chat queue of its own (the legacy queue of the previous release, drained for one more),
 * with a BullMQ worker running `handler` on it. The stream transport: stream-queue.test.ts.
 */
function chatWorker(handler: JobHandler<ChatJob>, concurrency?: number) {
  const prefix = uniquePrefix('queue-worker');
  const { logger, lines } = capturingLogger();
  const metrics = new Registry();
  const queue = createBullmqQueue(queueCatalog.chat, redis, prefix);
  const worker = startBullmqWorker(queueCatalog.chat, handler, {
    connection: redis,
    prefix,
    logger,
    metrics,
    concurrency,
  });
  cleanups.push(
    () => queue.close(),
    () => worker.close(),
  );
  return { queue, worker, lines, metrics, prefix };
}

function chatJob(turnId: string): ChatJob {
  const now = Date.now();
  return {
    turn_id: turnId,
    user_id: 'learner-1',
    message: '你好',
    user_role: '师兄',
    deadline_at: now + 30_000,
    enqueued_at: now,
  };
}

const KEEP_COMPLETED = { removeOnComplete: false };

async function finished(queue: Queue, jobId: string) {
  await expect
    .poll(async () => (await queue.getJob(jobId))?.finishedOn, { timeout: 10_000, interval: 50 })
    .toBeDefined();
  const job = await queue.getJob(jobId);
  if (!job) throw new Error(`job ${jobId} is gone`);
  return job;
}

/** Observations of a histogram series (its `_count`). */
async function observations(metrics: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = metrics.getSingleMetric(name) as Histogram | undefined;
  if (!metric) return 0;
  const { values } = await metric.get();
  const count = values.find(
    (value) =>
      value.metricName === `${name}_count` &&
      Object.entries(labels).every(([label, wanted]) => value.labels[label] === wanted),
  );
  return count?.value ?? 0;
}

describe('startBullmqWorker', () => {
  it('hands the handler the parsed payload and its job, and records queue wait and duration', async () => {
    const seen: { payload: ChatJob; jobId?: string; signal?: AbortSignal }[] = [];
    const { queue, metrics } = chatWorker(async (payload, { job, signal }) => {
      seen.push({ payload, jobId: job.id, signal });
      return 'answered';
    });
    const payload = chatJob('turn-parsed-1');
    // Kept once completed (the catalog deletes completed jobs) so that the test can read it.
    await enqueue(queue, queueCatalog.chat, payload, KEEP_COMPLETED);
    const job = await finished(queue, 'turn-parsed-1');
    expect(job.returnvalue).toBe('answered');
    expect(seen).toEqual([{ payload, jobId: 'turn-parsed-1', signal: expect.any(AbortSignal) }]);
    expect(await observations(metrics, 'xiaoyue_queue_wait_seconds', { queue: 'chat' })).toBe(1);
    expect(await observations(metrics, 'xiaoyue_job_duration_seconds', { queue: 'chat', outcome: 'completed' })).toBe(
      1,
    );
  });

  it('fails a job whose payload does not parse at once, without retries, and logs it once', async () => {
    let calls = 0;
    const { queue, lines, metrics } = chatWorker(async () => {
      calls += 1;
    });
    // Straight onto the queue: `enqueue` would refuse this payload.
    await queue.add('chat', { turn_id: 'turn-bad-1', user_id: 'learner 1!' }, { jobId: 'turn-bad-1', attempts: 3 });
    const job = await finished(queue, 'turn-bad-1');
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/^invalid chat job turn-bad-1: user_id: .*; message: /);
    expect(calls).toBe(0);
    expect(lines.filter((line) => line.msg === 'job failed')).toEqual([
      expect.objectContaining({ jobId: 'turn-bad-1', queue: 'chat', err: job.failedReason }),
    ]);
    expect(await observations(metrics, 'xiaoyue_job_duration_seconds', { queue: 'chat', outcome: 'failed' })).toBe(1);
  });

  it("runs with the catalog's lock and stall settings, the prefix and the concurrency asked for", () => {
    const { worker, prefix } = chatWorker(async () => {}, 7);
    expect(worker.name).toBe('chat');
    expect(worker.concurrency).toBe(7);
    expect(worker.opts).toMatchObject({ prefix: queueKeyPrefix(prefix, 'chat'), ...queueCatalog.chat.workerOptions });
  });

  it('pauses the queue on PauseQueue and runs the job again afterwards without using an attempt', async () => {
    const runs: { at: number; attemptsMade: number }[] = [];
    const { queue, lines, metrics } = chatWorker(async (_payload, { job }) => {
      runs.push({ at: Date.now(), attemptsMade: job.attemptsMade });
      if (runs.length === 1) throw new PauseQueue(500, 'LLM rate limited');
      return 'answered';
    });
    await enqueue(queue, queueCatalog.chat, chatJob('turn-paused-1'), KEEP_COMPLETED);
    const job = await finished(queue, 'turn-paused-1');
    expect(await job.getState()).toBe('completed');
    expect(runs.map((run) => run.attemptsMade)).toEqual([0, 0]);
    expect((runs[1]?.at ?? 0) - (runs[0]?.at ?? 0)).toBeGreaterThanOrEqual(450);
    expect(lines.filter((line) => line.msg === 'job failed')).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ jobId: 'turn-paused-1', queue: 'chat', pauseMs: 500, reason: 'LLM rate limited' }),
    );
    const outcome = (outcome: string) =>
      observations(metrics, 'xiaoyue_job_duration_seconds', { queue: 'chat', outcome });
    expect([await outcome('rate_limited'), await outcome('completed')]).toEqual([1, 1]);
  });
});

describe('startWorkers', () => {
  const options = (prefix: string) => ({
    connection: redis,
    prefix,
    logger: pino({ level: 'silent' }),
    metrics: new Registry(),
    concurrency: { chat: 3, turnDeadline: 16, quizJudge: 16 },
  });
  const noop = async () => {};

  it('starts one worker for each queue the service consumes, by its transport, with its concurrency', async () => {
    const agent = startWorkers(
      'agent-worker',
      { chat: noop, turnDeadline: noop, quizJudge: noop },
      options(uniquePrefix('workers')),
    );
    cleanups.push(() => agent.close());
    expect(Object.keys(agent.byQueue).sort()).toEqual(['chat', 'quizJudge', 'turnDeadline']);
    expect(agent.byQueue.chat).toBeInstanceOf(StreamConsumer);
    expect(agent.byQueue.quizJudge).toBeInstanceOf(Worker);
    // The chat queue's BullMQ queue of the previous release keeps a worker (rolling deploy).
    const described = agent.workers.map((worker) => [
      worker.name,
      worker instanceof StreamConsumer ? 'stream' : 'bullmq',
      worker.concurrency,
    ]);
    expect(described.sort()).toEqual([
      ['chat', 'bullmq', 3],
      ['chat', 'stream', 3],
      ['quiz-judge', 'bullmq', 16],
      ['turn-deadline', 'bullmq', 16],
    ]);
  });

  it('fails at boot, naming the queue, when a consumed queue has no handler', () => {
    const handlers = { chat: noop, turnDeadline: noop } as unknown as WorkerHandlers<'agent-worker'>;
    expect(() => startWorkers('agent-worker', handlers, options(uniquePrefix('workers')))).toThrow(
      "agent-worker: no handler for queue 'quizJudge', which the catalog says agent-worker consumes",
    );
  });

  it('fails at boot when given a handler for a queue another service consumes', () => {
    const handlers = { tts: noop, chat: noop, turnDeadline: noop, quizJudge: noop } as WorkerHandlers<'agent-worker'>;
    expect(() => startWorkers('agent-worker', handlers, options(uniquePrefix('workers')))).toThrow(
      "agent-worker: a handler for 'tts', which is not a queue agent-worker consumes",
    );
  });

  it('makes a missing or foreign handler a type error', () => {
    // Checked by `tsc` (pnpm typecheck); at runtime both calls throw before starting anything.
    // @ts-expect-error quizJudge is missing
    expect(() => startWorkers('agent-worker', { chat: noop, turnDeadline: noop }, options('x'))).toThrow();
    expect(() =>
      startWorkers(
        'agent-worker',
        // @ts-expect-error tts is the tts-worker's queue
        { chat: noop, turnDeadline: noop, quizJudge: noop, tts: noop },
        options('x'),
      ),
    ).toThrow();
  });
});
