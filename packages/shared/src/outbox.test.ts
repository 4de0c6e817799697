import { startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyData } from './events.js';
import { redisKeys } from './keys.js';
import { envelopeOf, Outbox, seqOf } from './outbox.js';

let server: TestRedis;
let redis: Redis;
let subscriber: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
  subscriber = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  subscriber.disconnect();
  await server.stop();
});

function makeOutbox(maxEvents = 100) {
  const keys = redisKeys(uniquePrefix('outbox'));
  return { keys, outbox: new Outbox(redis, keys, { maxEvents, ttlSeconds: 60 }) };
}

/** A sentence of hers: any outbox event would do for these tests. */
const sentence = (index: number, turnId = 'turn') =>
  ({ type: 'reply_text', data: { turn_id: turnId, index, chinese: `第${index}句。`, pinyin: '' } }) as const;

/** A sentence's audio, released in index order through the turn's gate. */
const audio = (index: number, turnId = 'turn') => ({
  type: 'reply_audio' as const,
  data: { turn_id: turnId, index, audio_base64: null, word_boundaries: [] },
});

const replyData = (turnId: string): ReplyData => ({
  turn_id: turnId,
  thought: '',
  chinese_content: '好的。',
  vietnamese_display: 'Được.',
  pinyin: 'hǎo de',
  emotion: 'happy',
  action: 'none',
  quiz_list: [],
  audio_base64: null,
  sulking_level: 0,
  timestamp: '2026-12-02T00:00:00.000Z',
});

describe('Outbox', () => {
  it('numbers events 1, 2, 3 per user and publishes each with its seq', async () => {
    const { keys, outbox } = makeOutbox();
    const received: string[] = [];
    await subscriber.subscribe(keys.userChannel('alice'));
    subscriber.on('message', (_channel, message) => received.push(message));
    for (const index of [0, 1, 2]) await outbox.append('alice', { ...sentence(index), requestId: 'r1' });
    const other = await outbox.append('bob', sentence(0));
    expect(other.seq).toBe(1);
    await expect.poll(() => received.length).toBe(3);
    expect(received.map(seqOf)).toEqual([1, 2, 3]);
    expect(JSON.parse(received[2] ?? '')).toEqual({ seq: 3, ...sentence(2), status: 'success', request_id: 'r1' });
    expect(envelopeOf(received[2] ?? '')).toEqual({ seq: 3, type: 'reply_text' });
    await subscriber.unsubscribe();
  });

  it('appends a retried event once (its key comes from the event catalog)', async () => {
    const { outbox } = makeOutbox();
    const first = await outbox.append('u', { type: 'reply', data: replyData('turn') });
    const again = await outbox.append('u', { type: 'reply', data: { ...replyData('turn'), chinese_content: '再说' } });
    expect(first).toEqual({ seq: 1, duplicate: false });
    expect(again).toEqual({ seq: 1, duplicate: true });
    expect((await outbox.head('u')).seq).toBe(1);
    expect(await outbox.has('u', 'reply', { turn_id: 'turn' })).toBe(true);
    // A turn ends once: its streamed end shares the key of its reply.
    expect(await outbox.has('u', 'reply_done', { turn_id: 'turn' })).toBe(true);
    expect(await outbox.has('u', 'reply', { turn_id: 'other' })).toBe(false);
  });

  it('replays events after a seq, in order', async () => {
    const { outbox } = makeOutbox();
    for (let i = 1; i <= 5; i++) await outbox.append('u', sentence(i));
    const result = await outbox.readAfter('u', 2);
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    expect(result.events.map((e) => JSON.parse(e).data.index)).toEqual([3, 4, 5]);
    const none = await outbox.readAfter('u', 5);
    expect(none).toMatchObject({ kind: 'events', events: [] });
  });

  it('answers resync when the events asked for were trimmed or the client is ahead', async () => {
    const { outbox } = makeOutbox(10);
    for (let i = 1; i <= 400; i++) await outbox.append('u', sentence(i));
    expect((await outbox.readAfter('u', 1)).kind).toBe('resync');
    expect((await outbox.readAfter('u', 398)).kind).toBe('events');
    expect((await outbox.readAfter('u', 999)).kind).toBe('resync');
  });

  it('answers resync when the client holds a seq of an older epoch', async () => {
    const { outbox, keys } = makeOutbox();
    await outbox.append('u', sentence(1));
    const { epoch } = await outbox.head('u');
    expect((await outbox.readAfter('u', 0, epoch ?? undefined)).kind).toBe('events');
    await redis.del(keys.outboxMeta('u')); // expired
    await outbox.append('u', sentence(2));
    await outbox.append('u', sentence(3));
    expect((await outbox.head('u')).epoch).not.toBe(epoch);
    expect((await outbox.readAfter('u', 1, epoch ?? undefined)).kind).toBe('resync');
  });

  it('releases the active-turn lock only for the turn its last event ends', async () => {
    const { keys, outbox } = makeOutbox();
    await redis.set(keys.activeTurn('u'), 'turn-2');
    await outbox.append('u', { type: 'reply', data: replyData('turn-1') });
    expect(await redis.get(keys.activeTurn('u'))).toBe('turn-2');
    await outbox.append('u', sentence(0, 'turn-2')); // not the end of the turn
    expect(await redis.get(keys.activeTurn('u'))).toBe('turn-2');
    await outbox.append('u', { type: 'reply', data: replyData('turn-2') });
    expect(await redis.get(keys.activeTurn('u'))).toBeNull();
  });

  it("delivers a turn's ordered events in index order, whatever order they arrive in", async () => {
    const { outbox } = makeOutbox();
    const inOrder = (i: number) => outbox.appendInOrder('u', audio(i, 't1'), { gate: 't1', index: i });
    expect(await inOrder(2)).toMatchObject({ parked: true });
    expect(await inOrder(1)).toMatchObject({ parked: true });
    expect(await inOrder(0)).toMatchObject({ parked: false, duplicate: false, seq: 1 });
    // A retried job for an event already out changes nothing.
    expect(await inOrder(1)).toMatchObject({ duplicate: true });
    await inOrder(3);
    const result = await outbox.readAfter('u', 0);
    expect(result.kind === 'events' && result.events.map((e) => JSON.parse(e).data.index)).toEqual([0, 1, 2, 3]);
    expect(await outbox.gateState('u', 't1')).toEqual({ next: 4, closed: false });
  });

  it('drops late events of a closed gate, and releases the turn lock with the last event', async () => {
    const { outbox, keys } = makeOutbox();
    await redis.set(keys.activeTurn('u'), 't2');
    const done = { type: 'reply_done', data: { ...replyData('t2'), sentences: 1 } } as const;
    await outbox.appendInOrder('u', done, { gate: 't2', index: 1 }); // parked: the end waits for sentence 0
    expect(await redis.get(keys.activeTurn('u'))).toBe('t2');
    await outbox.appendInOrder('u', audio(0, 't2'), { gate: 't2', index: 0 });
    expect(await redis.get(keys.activeTurn('u'))).toBeNull();
    await outbox.closeGate('u', 't3');
    expect(await outbox.appendInOrder('u', audio(0, 't3'), { gate: 't3', index: 0 })).toMatchObject({
      duplicate: true,
      seq: 0,
    });
    expect((await outbox.head('u')).seq).toBe(2);
  });
});
