import { randomUUID } from 'node:crypto';
import {
  ConversationStore,
  connectRedis,
  createLogger,
  createWorkerRedis,
  endTurn,
  Outbox,
  type Redis,
  redisKeys,
} from '@xiaoyue/shared';
import { startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enforceTurnDeadline } from './deadline.js';
import { commitTurn, replyDataFrom } from './turn.js';

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  redis = await connectRedis(createWorkerRedis(server.url, 'deadline-test'));
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

function setup() {
  const keys = redisKeys(uniquePrefix('deadline'));
  const outbox = new Outbox(redis, keys, { maxEvents: 100, ttlSeconds: 600 });
  const store = new ConversationStore(redis, keys, { historyTurns: 20, ttlSeconds: 600 });
  const deps = { outbox, store, redis, keys, logger: createLogger('test', 'silent'), pendingReplyTtlSeconds: 60 };
  const job = { turn_id: randomUUID(), user_id: 'lan', user_message: '你好', user_role: '师兄' };
  const lastEvent = async () => {
    const result = await outbox.readAfter('lan', 0);
    return result.kind === 'events' ? result.events.map((e) => JSON.parse(e)) : [];
  };
  return { keys, outbox, store, deps, job, lastEvent };
}

const reply = {
  thought: '',
  emotion: 'happy' as const,
  chinese_content: '你好呀！',
  pinyin: 'nǐ hǎo ya',
  vietnamese_display: 'Chào huynh!',
  action: 'none' as const,
  quiz_list: [],
  user_tone: 'polite' as const,
};

describe('turn deadline watchdog', () => {
  it('does nothing when the learner already has the reply', async () => {
    const { deps, job, outbox, lastEvent } = setup();
    const data = { ...replyDataFrom(job.turn_id, reply, 0, false), audio_base64: 'AAAA' };
    await endTurn(outbox, { userId: 'lan', data });
    expect(await enforceTurnDeadline(job, deps)).toBe('already_answered');
    expect(await lastEvent()).toHaveLength(1);
  });

  it('delivers the finished reply without audio when speech never came', async () => {
    const { deps, job, lastEvent, keys } = setup();
    await redis.set(keys.activeTurn('lan'), job.turn_id);
    await commitTurn(deps, { ...job, message: job.user_message }, replyDataFrom(job.turn_id, reply, 0, false));
    expect(await enforceTurnDeadline(job, deps)).toBe('delivered_without_audio');
    const [event] = await lastEvent();
    expect(event).toMatchObject({ seq: 1, type: 'reply', data: { chinese_content: '你好呀！', audio_base64: null } });
    expect(event.data).toMatchObject({ audio_error_code: 'turn_timeout', audio_error: expect.stringMatching(/chậm/) });
    expect(await redis.get(keys.activeTurn('lan'))).toBeNull();
  });

  it('delivers her fallback line, and records the turn, when nothing was ready', async () => {
    const { deps, job, lastEvent, store } = setup();
    await store.setSulkingLevel('lan', 1);
    expect(await enforceTurnDeadline(job, deps)).toBe('delivered_fallback');
    const [event] = await lastEvent();
    expect(event.data).toMatchObject({ fallback: true, audio_base64: null, sulking_level: 1 });
    const history = await store.history('lan');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ user_message: '你好', fallback: true });
    // A second firing (a retried job) changes nothing.
    expect(await enforceTurnDeadline(job, deps)).toBe('already_answered');
    expect(await store.history('lan')).toHaveLength(1);
  });
});
