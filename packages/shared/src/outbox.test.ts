import { startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from './keys.js';
import { Outbox, seqOf } from './outbox.js';

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

describe('Outbox', () => {
  it('numbers events 1, 2, 3 per user and publishes each with its seq', async () => {
    const { keys, outbox } = makeOutbox();
    const received: string[] = [];
    await subscriber.subscribe(keys.userChannel('alice'));
    subscriber.on('message', (_channel, message) => received.push(message));
    for (const part of ['a', 'b', 'c']) {
      await outbox.append({
        userId: 'alice',
        idempotencyKey: `turn1-${part}`,
        event: { type: 'reply', data: { part } },
      });
    }
    const other = await outbox.append({ userId: 'bob', idempotencyKey: 'x', event: { type: 'reply', data: {} } });
    expect(other.seq).toBe(1);
    await expect.poll(() => received.length).toBe(3);
    expect(received.map(seqOf)).toEqual([1, 2, 3]);
    expect(JSON.parse(received[2] ?? '')).toEqual({ seq: 3, type: 'reply', data: { part: 'c' } });
    await subscriber.unsubscribe();
  });

  it('appends a retried event once', async () => {
    const { outbox } = makeOutbox();
    const first = await outbox.append({ userId: 'u', idempotencyKey: 'turn-reply', event: { type: 'reply' } });
    const again = await outbox.append({ userId: 'u', idempotencyKey: 'turn-reply', event: { type: 'reply' } });
    expect(first).toEqual({ seq: 1, duplicate: false });
    expect(again).toEqual({ seq: 1, duplicate: true });
    expect((await outbox.head('u')).seq).toBe(1);
    expect(await outbox.has('u', 'turn-reply')).toBe(true);
  });

  it('replays events after a seq, in order', async () => {
    const { outbox } = makeOutbox();
    for (let i = 1; i <= 5; i++) await outbox.append({ userId: 'u', idempotencyKey: `k${i}`, event: { type: 'e', i } });
    const result = await outbox.readAfter('u', 2);
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    expect(result.events.map((e) => JSON.parse(e).i)).toEqual([3, 4, 5]);
    const none = await outbox.readAfter('u', 5);
    expect(none).toMatchObject({ kind: 'events', events: [] });
  });

  it('answers resync when the events asked for were trimmed or the client is ahead', async () => {
    const { outbox } = makeOutbox(10);
    for (let i = 1; i <= 400; i++)
      await outbox.append({ userId: 'u', idempotencyKey: `k${i}`, event: { type: 'e', i } });
    expect((await outbox.readAfter('u', 1)).kind).toBe('resync');
    expect((await outbox.readAfter('u', 398)).kind).toBe('events');
    expect((await outbox.readAfter('u', 999)).kind).toBe('resync');
  });

  it('answers resync when the client holds a seq of an older epoch', async () => {
    const { outbox, keys } = makeOutbox();
    await outbox.append({ userId: 'u', idempotencyKey: 'a', event: { type: 'e' } });
    const { epoch } = await outbox.head('u');
    expect((await outbox.readAfter('u', 0, epoch ?? undefined)).kind).toBe('events');
    await redis.del(keys.outboxMeta('u')); // expired
    await outbox.append({ userId: 'u', idempotencyKey: 'b', event: { type: 'e' } });
    await outbox.append({ userId: 'u', idempotencyKey: 'c', event: { type: 'e' } });
    expect((await outbox.head('u')).epoch).not.toBe(epoch);
    expect((await outbox.readAfter('u', 1, epoch ?? undefined)).kind).toBe('resync');
  });

  it('releases the active-turn lock only for the turn it completes', async () => {
    const { keys, outbox } = makeOutbox();
    await redis.set(keys.activeTurn('u'), 'turn-2');
    await outbox.append({
      userId: 'u',
      idempotencyKey: 'turn-1-reply',
      event: { type: 'reply' },
      completesTurnId: 'turn-1',
    });
    expect(await redis.get(keys.activeTurn('u'))).toBe('turn-2');
    await outbox.append({
      userId: 'u',
      idempotencyKey: 'turn-2-reply',
      event: { type: 'reply' },
      completesTurnId: 'turn-2',
    });
    expect(await redis.get(keys.activeTurn('u'))).toBeNull();
  });

  it("delivers a turn's ordered events in index order, whatever order they arrive in", async () => {
    const { outbox } = makeOutbox();
    const event = (i: number) => ({
      userId: 'u',
      gate: 't1',
      index: i,
      idempotencyKey: `t1-${i}`,
      event: { type: 'audio', i },
    });
    expect(await outbox.appendInOrder(event(2))).toMatchObject({ parked: true });
    expect(await outbox.appendInOrder(event(1))).toMatchObject({ parked: true });
    expect(await outbox.appendInOrder(event(0))).toMatchObject({ parked: false, duplicate: false, seq: 1 });
    // A retried job for an event already out changes nothing.
    expect(await outbox.appendInOrder(event(1))).toMatchObject({ duplicate: true });
    await outbox.appendInOrder(event(3));
    const result = await outbox.readAfter('u', 0);
    expect(result.kind === 'events' && result.events.map((e) => JSON.parse(e).i)).toEqual([0, 1, 2, 3]);
    expect(await outbox.gateState('u', 't1')).toEqual({ next: 4, closed: false });
  });

  it('drops late events of a closed gate, and releases the turn lock with the last event', async () => {
    const { outbox, keys } = makeOutbox();
    await redis.set(keys.activeTurn('u'), 't2');
    const event = (i: number, last = false) => ({
      userId: 'u',
      gate: 't2',
      index: i,
      idempotencyKey: `t2-${i}`,
      event: { type: 'e', i },
      ...(last ? { completesTurnId: 't2' } : {}),
    });
    await outbox.appendInOrder(event(1, true)); // parked: the end waits for sentence 0
    expect(await redis.get(keys.activeTurn('u'))).toBe('t2');
    await outbox.appendInOrder(event(0));
    expect(await redis.get(keys.activeTurn('u'))).toBeNull();
    await outbox.closeGate('u', 't3');
    expect(await outbox.appendInOrder({ ...event(0), gate: 't3', idempotencyKey: 't3-0' })).toMatchObject({
      duplicate: true,
      seq: 0,
    });
    expect((await outbox.head('u')).seq).toBe(2);
  });
});
