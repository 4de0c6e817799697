import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commonEnv, redisTopologyFrom } from './env.js';
import type { JobHandler } from './job-run.js';
import { redisKeys } from './keys.js';
import { Registry, registerQueueDepth } from './metrics.js';
import { partitionNames, partitionOf } from './partitions.js';
import { PauseQueue } from './queue-worker.js';
import { type ChatJob, createQueue, enqueue, queueCatalog, type StreamQueueDefinition } from './queues.js';
import { closeRedis, connectRedis, createWorkerRedis, type RedisClient } from './redis.js';
import { STREAM_GROUP, StreamConsumer } from './stream-queue.js';

// Runs on a cluster too: TEST_REDIS_TOPOLOGY=cluster pnpm exec vitest run packages/shared/src/stream-queue.test.ts
let server: TestRedis;
let redis: RedisClient;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startTestRedis();
  redis = await connectRedis(createWorkerRedis(redisTopologyFrom(commonEnv.parse(server.env)), 'stream-queue-test'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await closeRedis(redis);
  await server.stop();
});

/** The chat queue with short locks, so that stall recovery shows within a second or two. */
const chat: StreamQueueDefinition<typeof queueCatalog.chat.payload> = {
  ...queueCatalog.chat,
  transport: 'stream',
  workerOptions: { lockDuration: 1_000, stalledInterval: 250, maxStalledCount: 1, drainDelay: 1 },
};

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

function setup(partitions = 1) {
  const prefix = uniquePrefix('streams');
  const queue = createQueue(chat, redis, prefix, { partitions });
  const { logger, lines } = capturingLogger();
  const metrics = new Registry();
  const consume = (handler: JobHandler<ChatJob>, concurrency = 1) => {
    const consumer = new StreamConsumer(chat, handler, {
      connection: redis,
      prefix,
      logger,
      metrics,
      concurrency,
      partitions,
    });
    cleanups.push(() => consumer.close());
    return consumer;
  };
  const streamKey = (partition = 'chat') => redisKeys(prefix).queueStream(partition);
  return { prefix, queue, consume, lines, metrics, streamKey };
}

function chatJob(userId = 'learner-1', turnId: string = randomUUID()): ChatJob {
  const now = Date.now();
  return {
    turn_id: turnId,
    user_id: userId,
    message: '你好',
    user_role: '师兄',
    deadline_at: now + 30_000,
    enqueued_at: now,
  };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  await expect.poll(check, { timeout: timeoutMs, interval: 25 }).toBe(true);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the stream transport', () => {
  it('delivers each job once across two consumers, and leaves the stream empty', async () => {
    const { queue, consume, streamKey } = setup();
    const seen = new Map<string, string[]>();
    const handler = (name: string) => async (job: ChatJob) => {
      seen.set(job.turn_id, [...(seen.get(job.turn_id) ?? []), name]);
      await sleep(5);
    };
    consume(handler('a'), 4);
    consume(handler('b'), 4);
    const jobs = Array.from({ length: 200 }, (_, i) => chatJob(`learner-${i % 17}`));
    const added = await Promise.all(jobs.map((job) => enqueue(queue, chat, job)));
    expect(added[0]).toMatchObject({
      id: jobs[0]?.turn_id,
      partition: 'chat',
      entryId: expect.stringMatching(/^\d+-\d+$/),
    });
    await until(() => seen.size === 200);
    await sleep(300);
    expect([...seen.values()].every((by) => by.length === 1)).toBe(true);
    const byConsumer = [...seen.values()].flat();
    expect(byConsumer).toContain('a');
    expect(byConsumer).toContain('b');
    await until(async () => (await redis.xlen(streamKey())) === 0);
    expect(await redis.xpending(streamKey(), STREAM_GROUP)).toEqual([0, null, null, null]);
  });

  it("starts one learner's jobs in the order they were queued, with concurrency", async () => {
    const { queue, consume } = setup(3);
    const started: string[] = [];
    consume(async (job) => {
      started.push(job.turn_id);
      await sleep(Math.random() * 20);
    }, 6);
    const jobs = Array.from({ length: 40 }, (_, i) => chatJob('one-learner', `turn-${String(i).padStart(3, '0')}`));
    for (const job of jobs) await enqueue(queue, chat, job);
    await until(() => started.length === 40);
    expect(started).toEqual(jobs.map((job) => job.turn_id));
  });

  it("retries a failing job with the catalog's attempts and backoff, then drops it with a log line per failure", async () => {
    const { queue, consume, lines, streamKey } = setup();
    const runs: { turn: string; attemptsMade: number; at: number }[] = [];
    consume(async (job, { job: info }) => {
      runs.push({ turn: job.turn_id, attemptsMade: info.attemptsMade, at: Date.now() });
      if (job.turn_id === 'turn-fails-once' && info.attemptsMade === 0) throw new Error('flaky');
      if (job.turn_id === 'turn-always-fails') throw new Error('broken');
    });
    await enqueue(queue, chat, chatJob('l1', 'turn-fails-once'));
    await enqueue(queue, chat, chatJob('l1', 'turn-always-fails'));
    await until(() => runs.length === 4);
    const of = (turn: string) => runs.filter((run) => run.turn === turn);
    expect(of('turn-fails-once').map((run) => run.attemptsMade)).toEqual([0, 1]);
    expect(of('turn-always-fails').map((run) => run.attemptsMade)).toEqual([0, 1]);
    // exponential backoff from 200 ms
    const [first, second] = of('turn-always-fails');
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(190);
    await until(async () => (await redis.xlen(streamKey())) === 0);
    await sleep(500);
    expect(runs).toHaveLength(4);
    expect(lines.filter((line) => line.msg === 'job failed').map((line) => [line.jobId, line.err])).toEqual([
      ['turn-fails-once', 'flaky'],
      ['turn-always-fails', 'broken'],
      ['turn-always-fails', 'broken'],
    ]);
  });

  it('drops a payload that does not parse at once, with an error log, never retried', async () => {
    const { consume, lines, streamKey } = setup();
    let calls = 0;
    consume(async () => {
      calls += 1;
    });
    // Straight onto the stream: `enqueue` would refuse these.
    await redis.xadd(
      streamKey(),
      '*',
      'id',
      'turn-bad-1',
      'data',
      JSON.stringify({ turn_id: 'turn-bad-1', user_id: 'x y' }),
    );
    await redis.xadd(streamKey(), '*', 'id', 'turn-bad-2', 'data', '{not json');
    await until(async () => lines.filter((line) => line.msg === 'job failed').length === 2);
    await until(async () => (await redis.xlen(streamKey())) === 0);
    expect(calls).toBe(0);
    expect(lines.filter((line) => line.msg === 'job failed').map((line) => line.err)).toEqual([
      expect.stringMatching(/^invalid chat job turn-bad-1: user_id: .*; message: /),
      expect.stringMatching(/^invalid chat job turn-bad-2: \(payload\): /),
    ]);
  });

  it('hands the job of a consumer that died to another after the lock duration', async () => {
    const { queue, consume, streamKey, lines } = setup();
    // A consumer that read the job and died (kill -9): it never acknowledges or renews.
    await redis.xgroup('CREATE', streamKey(), STREAM_GROUP, '0', 'MKSTREAM');
    const job = chatJob();
    await enqueue(queue, chat, job);
    await redis.xreadgroup('GROUP', STREAM_GROUP, 'dead-consumer', 'COUNT', 10, 'STREAMS', streamKey(), '>');
    const diedAt = Date.now();
    const runs: { at: number; signal?: AbortSignal }[] = [];
    consume(async (_payload, { signal }) => {
      runs.push({ at: Date.now(), signal });
    });
    await until(() => runs.length === 1);
    expect((runs[0]?.at ?? 0) - diedAt).toBeGreaterThanOrEqual(chat.workerOptions.lockDuration ?? 0);
    expect((runs[0]?.at ?? 0) - diedAt).toBeLessThan(3_000);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'stalled job claimed', jobId: job.turn_id }));
    await until(async () => (await redis.xlen(streamKey())) === 0);
  });

  it('drops a job that stalled more often than maxStalledCount', async () => {
    const { queue, consume, streamKey, lines } = setup();
    await redis.xgroup('CREATE', streamKey(), STREAM_GROUP, '0', 'MKSTREAM');
    const job = chatJob();
    const { entryId } = await enqueue(queue, chat, job);
    // Delivered, and taken over once already by a consumer that died too.
    await redis.xreadgroup('GROUP', STREAM_GROUP, 'dead-1', 'COUNT', 10, 'STREAMS', streamKey(), '>');
    await redis.call('XCLAIM', streamKey(), STREAM_GROUP, 'dead-2', 0, entryId);
    let calls = 0;
    consume(async () => {
      calls += 1;
    });
    await until(() => lines.some((line) => line.msg === 'job stalled more than allowable limit; dropped'));
    await until(async () => (await redis.xlen(streamKey())) === 0);
    expect(calls).toBe(0);
  });

  it('renews the claim of a long job, so that no other consumer takes it', async () => {
    const { queue, consume } = setup();
    const runs: string[] = [];
    const lockMs = chat.workerOptions.lockDuration ?? 0;
    consume(async () => {
      runs.push('a');
      await sleep(lockMs * 3);
    });
    await enqueue(queue, chat, chatJob());
    await until(() => runs.length === 1);
    consume(async () => {
      runs.push('b');
    });
    await sleep(lockMs * 3 + 500);
    expect(runs).toEqual(['a']);
  });

  it('aborts a job whose entry another consumer took over', async () => {
    const { queue, consume, streamKey } = setup();
    let signal: AbortSignal | undefined;
    consume(async (_payload, context) => {
      signal = context.signal;
      await sleep(3_000);
    });
    const { entryId } = await enqueue(queue, chat, chatJob());
    await until(() => signal !== undefined);
    await redis.call('XCLAIM', streamKey(), STREAM_GROUP, 'thief', 0, entryId);
    await until(() => signal?.aborted === true, 3_000);
  });

  it('aborts a running job that was removed from the queue, and neither retries nor logs it as failed', async () => {
    const { queue, consume, lines, streamKey } = setup();
    const runs: AbortSignal[] = [];
    consume(async (_payload, { signal }) => {
      if (signal) runs.push(signal);
      await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
    });
    const job = await enqueue(queue, chat, chatJob());
    await until(() => runs.length === 1);
    expect(await queue.remove(job)).toBe(1);
    await until(() => runs[0]?.aborted === true, 3_000);
    await sleep(500);
    expect(runs).toHaveLength(1);
    expect(lines.filter((line) => line.msg === 'job failed')).toEqual([]);
    expect(await redis.xpending(streamKey(), STREAM_GROUP)).toEqual([0, null, null, null]);
  });

  it('pauses the queue for every consumer on PauseQueue, and runs the job again afterwards without using an attempt', async () => {
    const { queue, consume, lines, metrics } = setup();
    const runs: { turn: string; at: number; attemptsMade: number }[] = [];
    let pausedAt = 0;
    const handler: JobHandler<ChatJob> = async (job, { job: info }) => {
      runs.push({ turn: job.turn_id, at: Date.now(), attemptsMade: info.attemptsMade });
      if (job.turn_id === 'turn-throttled' && pausedAt === 0) {
        pausedAt = Date.now();
        throw new PauseQueue(3_000, 'LLM rate limited');
      }
    };
    consume(handler, 2);
    consume(handler, 2);
    await enqueue(queue, chat, chatJob('l1', 'turn-throttled'));
    await until(() => pausedAt > 0);
    // Both consumers have read the shared pause by now.
    await sleep(2_300);
    for (let i = 0; i < 4; i++) await enqueue(queue, chat, chatJob(`l${i}`, `turn-after-${i}`));
    await until(() => runs.length === 6, 8_000);
    for (const run of runs.slice(1)) expect(run.at - pausedAt).toBeGreaterThanOrEqual(2_950);
    expect(runs.filter((run) => run.turn === 'turn-throttled').map((run) => run.attemptsMade)).toEqual([0, 0]);
    expect(lines.filter((line) => line.msg === 'job failed')).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ jobId: 'turn-throttled', queue: 'chat', pauseMs: 3_000, reason: 'LLM rate limited' }),
    );
    const observed = await metrics.getSingleMetricAsString('xiaoyue_job_duration_seconds');
    expect(observed).toMatch(/xiaoyue_job_duration_seconds_count\{queue="chat",outcome="rate_limited"\} 1/);
  });

  it('closes after finishing the running jobs, and takes no more', async () => {
    const { queue, consume, streamKey } = setup();
    const finished: string[] = [];
    const consumer = consume(async (job) => {
      await sleep(500);
      finished.push(job.turn_id);
    }, 2);
    await enqueue(queue, chat, chatJob('l1', 'turn-running-1'));
    await enqueue(queue, chat, chatJob('l2', 'turn-running-2'));
    await until(async () => (await queue.depth()).find((row) => row.state === 'active')?.count === 2);
    await consumer.close();
    expect(finished.sort()).toEqual(['turn-running-1', 'turn-running-2']);
    expect(consumer.isRunning()).toBe(false);
    await enqueue(queue, chat, chatJob('l3', 'turn-after-close'));
    await sleep(300);
    expect(finished).toHaveLength(2);
    expect(await redis.xlen(streamKey())).toBe(1);
    // It left the group: nothing was pending for it.
    const consumers = (await redis.xinfo('CONSUMERS', streamKey(), STREAM_GROUP)) as unknown[];
    expect(consumers).toEqual([]);
  });

  it('removes a queued job that no consumer took yet', async () => {
    const { queue, consume } = setup();
    const removed = await enqueue(queue, chat, chatJob('l1', 'turn-removed'));
    await enqueue(queue, chat, chatJob('l1', 'turn-kept'));
    expect(await queue.remove(removed)).toBe(1);
    const seen: string[] = [];
    consume(async (job) => void seen.push(job.turn_id));
    await until(() => seen.length === 1);
    await sleep(200);
    expect(seen).toEqual(['turn-kept']);
  });

  it('reports the depth of each partition, waiting and active', async () => {
    const { queue, metrics } = setup(2);
    registerQueueDepth(metrics, [queue]);
    const users = Array.from({ length: 40 }, (_, i) => `learner-${i}`);
    for (const user of users) await enqueue(queue, chat, chatJob(user));
    const inFirst = users.filter((user) => partitionOf(user, 2) === 0).length;
    const text = await metrics.getSingleMetricAsString('xiaoyue_queue_depth');
    expect(text).toContain(`xiaoyue_queue_depth{queue="chat",state="wait"} ${inFirst}`);
    expect(text).toContain(`xiaoyue_queue_depth{queue="chat-1",state="wait"} ${40 - inFirst}`);
    expect(text).toContain('xiaoyue_queue_depth{queue="chat",state="active"} 0');
  });

  it('consumes every partition, each its own hash-tagged stream', async () => {
    const { queue, consume, prefix } = setup(4);
    expect(queue.partitions).toEqual(['chat', 'chat-1', 'chat-2', 'chat-3']);
    const seen = new Set<string>();
    consume(async (job) => void seen.add(job.turn_id), 4);
    const jobs = Array.from({ length: 60 }, (_, i) => chatJob(`learner-${i}`));
    const added = await Promise.all(jobs.map((job) => enqueue(queue, chat, job)));
    expect(new Set(added.map((job) => job.partition))).toEqual(new Set(queue.partitions));
    for (const job of added)
      expect(job.partition).toBe(queue.partitionOf(jobs.find((j) => j.turn_id === job.id) as ChatJob));
    await until(() => seen.size === 60);
    expect(redisKeys(prefix).queueStream('chat-2')).toBe(`{${prefix}:chat-2}:stream`);
  });
});

describe('partitionOf', () => {
  it('is stable: the same learner always gets the same partition, whatever process asks', () => {
    // Fixed values: a change of the hash would move every learner's queued jobs to another partition.
    expect([partitionOf('ming', 6), partitionOf('lan', 6), partitionOf('learner-1', 6)]).toEqual([0, 2, 0]);
    expect(partitionOf('anyone', 1)).toBe(0);
  });

  it('spreads 10,000 learners over 6 partitions within ±10%', () => {
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 10_000; i++) counts[partitionOf(randomUUID(), 6)] += 1;
    for (const count of counts) expect(Math.abs(count - 10_000 / 6)).toBeLessThan(10_000 / 6 / 10);
    const sequential = new Array(6).fill(0);
    for (let i = 0; i < 10_000; i++) sequential[partitionOf(`learner-${i}`, 6)] += 1;
    for (const count of sequential) expect(Math.abs(count - 10_000 / 6)).toBeLessThan(10_000 / 6 / 10);
  });

  it('names partition 0 after the queue and the others with their number', () => {
    expect(partitionNames('chat', 3)).toEqual(['chat', 'chat-1', 'chat-2']);
    expect(partitionNames('tts', 1)).toEqual(['tts']);
  });
});
