import { randomUUID } from 'node:crypto';
import {
  ConversationStore,
  connectRedis,
  createLogger,
  createWorkerRedis,
  endTurn,
  Outbox,
  partitionOf,
  type Redis,
  redisKeys,
  type TurnDeadlineJob,
  TurnDeadlines,
} from '@xiaoyue/shared';
import { startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enforceTurnDeadline } from './deadline.js';
import { TurnDeadlineSweep } from './deadline-sweep.js';
import { replyDataFrom } from './turn.js';

let server: TestRedis;
let redis: Redis;
const sweeps: TurnDeadlineSweep[] = [];

beforeAll(async () => {
  server = await startTestRedis();
  redis = await connectRedis(createWorkerRedis(server.url, 'deadline-sweep-test'));
});
afterEach(async () => {
  await Promise.all(sweeps.splice(0).map((sweep) => sweep.close()));
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

function setup(partitions = 1) {
  const keys = redisKeys(uniquePrefix('sweep'));
  const outbox = new Outbox(redis, keys, { maxEvents: 100, ttlSeconds: 600 });
  const store = new ConversationStore(redis, keys, { historyTurns: 20, ttlSeconds: 600 });
  const deadlines = new TurnDeadlines(redis, keys, partitions);
  const deps = { outbox, store, redis, keys, logger: createLogger('test', 'silent'), pendingReplyTtlSeconds: 60 };
  /** When each turn got its reply (the sweep's watchdog appended it). */
  const answeredAt = new Map<string, number>();
  const startSweep = (options: { idleMs?: number; leaseMs?: number; batch?: number } = {}) => {
    const sweep = new TurnDeadlineSweep({
      deadlines,
      enforce: async (job) => {
        const outcome = await enforceTurnDeadline(job, deps);
        if (outcome !== 'already_answered') answeredAt.set(job.turn_id, Date.now());
        return outcome;
      },
      logger: deps.logger,
      idleMs: options.idleMs ?? 200,
      leaseMs: options.leaseMs ?? 10_000,
      batch: options.batch,
    });
    sweeps.push(sweep);
    return sweep;
  };
  const turn = (userId = 'lan'): TurnDeadlineJob => ({
    turn_id: randomUUID(),
    user_id: userId,
    user_message: '你好',
    user_role: '师兄',
  });
  const repliesOf = async (userId = 'lan') => {
    const result = await outbox.readAfter(userId, 0);
    return result.kind === 'events' ? result.events.map((e) => JSON.parse(e)) : [];
  };
  return { keys, outbox, deadlines, startSweep, turn, repliesOf, answeredAt };
}

const until = async (condition: () => Promise<boolean> | boolean, timeoutMs = 5_000) => {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('turn-deadline sweep', () => {
  it('answers an unanswered turn with her fallback line at its deadline, not before', async () => {
    const { deadlines, startSweep, turn, repliesOf, answeredAt } = setup();
    startSweep({ idleMs: 300 });
    // Scheduled while the sweeper sleeps, further ahead than its idle sleep (as TURN_TIMEOUT_MS
    // is): it wakes, sees the deadline and sleeps until then exactly.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const job = turn();
    const dueAt = Date.now() + 500;
    await deadlines.schedule(job, dueAt);
    await until(() => answeredAt.has(job.turn_id));
    expect(answeredAt.get(job.turn_id)).toBeGreaterThanOrEqual(dueAt);
    expect(answeredAt.get(job.turn_id)).toBeLessThan(dueAt + 150);
    const [reply] = await repliesOf();
    expect(reply).toMatchObject({ type: 'reply', data: { turn_id: job.turn_id, fallback: true, audio_base64: null } });
    expect(await deadlines.count()).toBe(0);
  });

  it('leaves an answered turn alone and forgets its deadline', async () => {
    const { deadlines, outbox, startSweep, turn, repliesOf } = setup();
    const job = turn();
    const data = {
      ...replyDataFrom(
        job.turn_id,
        {
          thought: '',
          emotion: 'happy',
          chinese_content: '你好呀！',
          pinyin: 'nǐ hǎo ya',
          vietnamese_display: 'Chào huynh!',
          action: 'none',
          quiz_list: [],
          user_tone: 'polite',
        },
        0,
        false,
      ),
      audio_base64: 'AAAA',
    };
    await endTurn(outbox, { userId: 'lan', data });
    await deadlines.schedule(job, Date.now());
    startSweep();
    await until(async () => (await deadlines.count()) === 0);
    expect(await repliesOf()).toHaveLength(1);
  });

  it("answers a deadline claimed by a sweeper that died, once the dead one's lease runs out", async () => {
    const { deadlines, startSweep, turn, repliesOf, answeredAt } = setup();
    const job = turn();
    await deadlines.schedule(job, Date.now());
    // A sweeper claims it and is killed before answering (it never removes it).
    const leaseMs = 500;
    const claimedAt = Date.now();
    const { claimed } = await deadlines.claimDue(claimedAt, 10, leaseMs);
    expect(claimed.map((c) => c.job?.turn_id)).toEqual([job.turn_id]);
    startSweep();
    await until(() => answeredAt.has(job.turn_id));
    expect(answeredAt.get(job.turn_id)).toBeGreaterThanOrEqual(claimedAt + leaseMs);
    expect(await repliesOf()).toHaveLength(1);
  });

  it('answers each deadline once with two sweepers', async () => {
    const { deadlines, startSweep, turn, repliesOf } = setup();
    const jobs = Array.from({ length: 20 }, (_, i) => turn(`learner-${i}`));
    await Promise.all(jobs.map((job) => deadlines.schedule(job, Date.now() + 100)));
    startSweep();
    startSweep();
    await until(async () => (await deadlines.count()) === 0);
    const replies = await Promise.all(jobs.map((job) => repliesOf(job.user_id)));
    expect(replies.map((events) => events.length)).toEqual(jobs.map(() => 1));
  });

  it("puts each learner's deadline in the learner's partition, and sweeps every partition", async () => {
    const { deadlines, keys, startSweep, turn, repliesOf } = setup(4);
    const jobs = Array.from({ length: 20 }, (_, i) => turn(`learner-${i}`));
    await Promise.all(jobs.map((job) => deadlines.schedule(job, Date.now() + 100)));
    for (const job of jobs) {
      const partition = partitionOf(job.user_id, 4);
      expect(await redis.zscore(keys.turnDeadlines(partition), TurnDeadlines.memberOf(job))).not.toBeNull();
    }
    expect(new Set(jobs.map((job) => partitionOf(job.user_id, 4))).size).toBe(4);
    expect(keys.turnDeadlines(0)).toBe(`{${keys.prefix}:turn-deadlines}`);
    expect(keys.turnDeadlines(3)).toBe(`{${keys.prefix}:turn-deadlines-3}`);
    // Small batches: a partition with a full batch is swept again at once.
    startSweep({ batch: 2 });
    await until(async () => (await deadlines.count()) === 0);
    const replies = await Promise.all(jobs.map((job) => repliesOf(job.user_id)));
    expect(replies.map((events) => events.length)).toEqual(jobs.map(() => 1));
  });

  it('drops a deadline that does not parse, and carries on', async () => {
    const { deadlines, keys, startSweep, turn, answeredAt } = setup();
    await redis.zadd(keys.turnDeadlines(), Date.now(), '{"not":"a turn"}');
    const job = turn();
    await deadlines.schedule(job, Date.now());
    startSweep();
    await until(() => answeredAt.has(job.turn_id));
    await until(async () => (await deadlines.count()) === 0);
  });
});
