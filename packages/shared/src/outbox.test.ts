import { sampleReply, startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyData } from './events.js';
import { redisKeys } from './keys.js';
import { envelopeOf, Outbox, seqOf } from './outbox.js';
import { endTurn } from './turn-end.js';

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

const replyData = (turnId: string): ReplyData => sampleReply(turnId);

describe('Outbox', () => {
  it('numbers events 1, 2, 3 per user and publishes each with its seq', async () => {
    const { keys, outbox } = makeOutbox();
    const received: string[] = [];
    await subscriber.ssubscribe(keys.userChannel('alice'));
    subscriber.on('smessage', (_channel, message) => received.push(message));
    for (const index of [0, 1, 2]) await outbox.append('alice', { ...sentence(index), requestId: 'r1' });
    const other = await outbox.append('bob', sentence(0));
    expect(other.seq).toBe(1);
    await expect.poll(() => received.length).toBe(3);
    expect(received.map(seqOf)).toEqual([1, 2, 3]);
    expect(JSON.parse(received[2] ?? '')).toEqual({ seq: 3, ...sentence(2), status: 'success', request_id: 'r1' });
    expect(envelopeOf(received[2] ?? '')).toEqual({ seq: 3, type: 'reply_text' });
    await subscriber.sunsubscribe();
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

describe('Outbox footprint', () => {
  /** Seqs of the events still in the stream. */
  async function streamSeqs(keys: ReturnType<typeof redisKeys>, userId: string): Promise<number[]> {
    return (await redis.xrange(keys.outboxStream(userId), '-', '+')).map(([id]) => Number(id.split('-')[0]));
  }

  it('keeps the key of every event in the stream and of the last `dedupeKeep` events, and no others', async () => {
    const keys = redisKeys(uniquePrefix('outbox'));
    const outbox = new Outbox(redis, keys, { maxEvents: 10, ttlSeconds: 60, dedupeKeep: 150 });
    for (let i = 1; i <= 600; i++) await outbox.append('u', sentence(i));
    const inStream = await streamSeqs(keys, 'u');
    const first = Math.min(...inStream);
    const floor = Math.min(first, 600 - 150 + 1);
    // A retried event is a duplicate while it is kept, whether or not its event is still in the stream.
    for (const seq of [floor, ...inStream, 600]) {
      expect(await outbox.append('u', sentence(seq)), `event ${seq}`).toEqual({ seq, duplicate: true });
    }
    expect(await outbox.has('u', 'reply_text', { turn_id: 'turn', index: floor - 1 })).toBe(false);
    expect(await redis.zcard(keys.outboxDedupe('u'))).toBe(600 - floor + 1);
    expect((await outbox.head('u')).seq).toBe(600);
  });

  it('keeps the stream within its byte budget too, the newest event whatever its size', async () => {
    const keys = redisKeys(uniquePrefix('outbox'));
    const outbox = new Outbox(redis, keys, { maxEvents: 100, maxBytes: 10_000, ttlSeconds: 60 });
    const long = (index: number, chars: number) => ({
      type: 'reply_text' as const,
      data: { turn_id: 'turn', index, chinese: '好'.repeat(chars), pinyin: '' },
    });
    const streamBytes = async () =>
      (await redis.xrange(keys.outboxStream('u'), '-', '+')).reduce((n, [, f]) => n + Buffer.byteLength(f[1] ?? ''), 0);
    for (let i = 1; i <= 50; i++) await outbox.append('u', long(i, 300));
    expect(await streamBytes()).toBeLessThanOrEqual(10_000);
    expect(Number(await redis.hget(keys.outboxMeta('u'), 'bytes'))).toBe(await streamBytes());
    // The newest nine (of about 1 KB each) fit: the older ones went, and resuming before them resyncs.
    expect(await streamSeqs(keys, 'u')).toEqual([42, 43, 44, 45, 46, 47, 48, 49, 50]);
    expect((await outbox.readAfter('u', 40)).kind).toBe('resync');
    await outbox.append('u', long(51, 5_000));
    expect(await streamSeqs(keys, 'u')).toEqual([51]);
    // An outbox kept before its bytes were counted is counted at its next event.
    await redis.hdel(keys.outboxMeta('u'), 'bytes');
    await outbox.append('u', long(52, 10));
    expect(Number(await redis.hget(keys.outboxMeta('u'), 'bytes'))).toBe(await streamBytes());
  });

  it('keeps its keys bounded: per-learner keys of the outbox are its meta, stream and one set, all with the TTL', async () => {
    const keys = redisKeys(uniquePrefix('outbox'));
    const outbox = new Outbox(redis, keys, { maxEvents: 10, ttlSeconds: 60, dedupeKeep: 50 });
    for (let i = 0; i < 300; i++) {
      await outbox.append('u', sentence(0, `t${i}`));
      await outbox.append('u', { type: 'reply', data: replyData(`t${i}`) });
    }
    const userKeys = await redis.keys(`${keys.prefix}:{u:u}:*`);
    expect(userKeys.sort()).toEqual([keys.outboxStream('u'), keys.outboxDedupe('u'), keys.outboxMeta('u')].sort());
    for (const key of userKeys) expect(await redis.ttl(key), key).toBeGreaterThan(0);
    expect(await redis.zcard(keys.outboxDedupe('u'))).toBeLessThanOrEqual(
      Math.max(50, (await streamSeqs(keys, 'u')).length),
    );
  });

  it('forgets the keys of an expired outbox with it (a new epoch)', async () => {
    const { keys, outbox } = makeOutbox();
    await outbox.append('u', { type: 'reply', data: replyData('turn') });
    await redis.del(keys.outboxMeta('u')); // expired
    expect(await outbox.append('u', sentence(0))).toEqual({ seq: 1, duplicate: false });
    expect(await outbox.has('u', 'reply', { turn_id: 'turn' })).toBe(false);
  });

  it('ends a turn once when the deadline watchdog and the TTS worker race, even many events later', async () => {
    const { outbox, keys } = makeOutbox(10);
    await redis.set(keys.pendingReply('u', 'late'), '{}', 'EX', 60);
    const [watchdog, tts] = await Promise.all([
      endTurn(outbox, { userId: 'u', data: { ...replyData('late'), fallback: true } }),
      endTurn(outbox, { userId: 'u', data: replyData('late') }),
    ]);
    expect([watchdog.duplicate, tts.duplicate].sort()).toEqual([false, true]);
    // The learner went on talking; the TTS job is retried after a stall.
    for (let i = 0; i < 500; i++) await outbox.append('u', sentence(i, 'next'));
    expect(await endTurn(outbox, { userId: 'u', data: replyData('late') })).toMatchObject({ duplicate: true });
    // What only an open turn needs went with its end.
    expect(await redis.exists(keys.turnGate('u', 'late'), keys.pendingReply('u', 'late'))).toBe(0);
  });

  it("deletes a streamed turn's gate with its end, and drops its late events", async () => {
    const { outbox, keys } = makeOutbox();
    const done = (turnId: string) => ({ type: 'reply_done', data: { ...replyData(turnId), sentences: 2 } }) as const;
    // Ended in order: the end was parked behind sentence 1, which a retried job delivers.
    await outbox.appendInOrder('u', audio(0, 'ordered'), { gate: 'ordered', index: 0 });
    await outbox.appendInOrder('u', done('ordered'), { gate: 'ordered', index: 2 });
    await outbox.appendInOrder('u', audio(1, 'ordered'), { gate: 'ordered', index: 1 });
    expect(await redis.exists(keys.turnGate('u', 'ordered'))).toBe(0);
    expect(await outbox.gateState('u', 'ordered')).toEqual({ next: 0, closed: true });
    // Cut short by the watchdog while sentence 1 was still being spoken, then sentence 1 comes.
    await outbox.appendInOrder('u', audio(0, 'cut'), { gate: 'cut', index: 0 });
    await endTurn(outbox, { userId: 'u', data: replyData('cut'), stream: { cut: true } });
    expect(await redis.exists(keys.turnGate('u', 'cut'))).toBe(0);
    expect(await outbox.appendInOrder('u', audio(1, 'cut'), { gate: 'cut', index: 1 })).toMatchObject({
      duplicate: true,
      parked: false,
    });
    expect(await redis.exists(keys.turnGate('u', 'cut'))).toBe(0);
    // A second run of the turn wrote its pending reply again; its late end deletes it too.
    await redis.set(keys.pendingReply('u', 'cut'), '{}', 'EX', 60);
    expect(await outbox.appendInOrder('u', done('cut'), { gate: 'cut', index: 2 })).toMatchObject({ duplicate: true });
    expect(await redis.exists(keys.pendingReply('u', 'cut'))).toBe(0);
    const result = await outbox.readAfter('u', 0);
    expect(result.kind === 'events' && result.events.map((e) => envelopeOf(e).type)).toEqual([
      'reply_audio',
      'reply_audio',
      'reply_done',
      'reply_audio',
      'reply_done',
    ]);
  });
});
