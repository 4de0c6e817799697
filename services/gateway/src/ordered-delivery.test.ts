import {
  ConversationStore,
  connectRedis,
  createLogger,
  createProducerRedis,
  createWorkerRedis,
  Outbox,
  type Redis,
  type ReplyData,
  redisKeys,
  type ServerFrame,
} from '@xiaoyue/shared';
import { sampleReply, startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { EventFeed } from './event-feed.js';
import { OrderedDelivery, type Resume } from './ordered-delivery.js';

let server: TestRedis;
let redis: Redis;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  server = await startTestRedis();
  redis = await connectRedis(createProducerRedis(server.url, 'delivery-test'));
});
afterEach(() => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0)) cleanup();
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const MAX_BUFFERED = 1_000_000;

/** The little of a `ws` socket a delivery uses; `bufferedAmount` is set by the test. */
class TestSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: ServerFrame[] = [];
  closedWith: { code: number; reason: string } | undefined;

  send(text: string): void {
    this.frames.push(JSON.parse(text));
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  /** `type seq` of each frame sent, in order. */
  get sent(): string[] {
    return this.frames.map((frame) => (frame.seq === undefined ? frame.type : `${frame.type} ${frame.seq}`));
  }
}

/** A delivery to a test socket of `user`, over a real outbox and pub/sub, and what it told its owner. */
async function startDelivery(user = 'lan') {
  const keys = redisKeys(uniquePrefix('delivery'));
  const subscriber = await connectRedis(createWorkerRedis(server.url, 'delivery-test-sub'));
  const outbox = new Outbox(redis, keys, { maxEvents: 10, ttlSeconds: 600 });
  const store = new ConversationStore(redis, keys, { historyTurns: 10, ttlSeconds: 600, sulkDecayMs: 600_000 });
  const logger = createLogger('delivery-test', 'silent');
  const feed = new EventFeed(subscriber, keys, logger);
  const socket = new TestSocket();
  const told: string[] = [];
  const delivery = new OrderedDelivery(
    user,
    socket as unknown as WebSocket,
    { feed, outbox, store, agentMode: async () => null, maxBufferedBytes: MAX_BUFFERED, logger },
    { onAudio: () => told.push('audio'), onTurnEnded: () => told.push('turn ended') },
  );
  cleanups.push(() => {
    delivery.close();
    subscriber.disconnect();
  });
  /** Appends an event to the stream without publishing it: its PUBLISH was lost. */
  const appendUnheard = async (n: number) => {
    const seq = await redis.hincrby(keys.outboxMeta(user), 'seq', 1);
    await redis.xadd(
      keys.outboxStream(user),
      `${seq}-0`,
      'e',
      JSON.stringify({ seq, ...sentence(n), status: 'success' }),
    );
  };
  const open = (resume?: Resume) => delivery.open(resume);
  return { delivery, socket, outbox, feed, told, open, appendUnheard, keys };
}

/** A sentence of hers, numbered: any outbox event would do. */
const sentence = (n: number) =>
  ({ type: 'reply_text', data: { turn_id: 'turn', index: n, chinese: `第${n}句。`, pinyin: '' } }) as const;

const reply = (audio: string | null): ReplyData => sampleReply('turn', audio);

describe('OrderedDelivery', () => {
  it('greets with the outbox head, replays what the client missed, then goes live, each event once', async () => {
    const { delivery, socket, outbox, open } = await startDelivery();
    for (let n = 1; n <= 3; n++) await outbox.append('lan', sentence(n));
    await open({ lastSeq: 1 });
    expect(socket.frames[0]).toMatchObject({ type: 'welcome', data: { user_id: 'lan', last_seq: 3 } });
    expect(socket.sent).toEqual(['welcome', 'reply_text 2', 'reply_text 3']);
    await outbox.append('lan', sentence(4));
    await vi.waitFor(() => expect(socket.sent.at(-1)).toBe('reply_text 4'));
    // A read-back after a pub/sub reconnect, and a stale live event, deliver nothing twice.
    delivery.onFeedInterrupted();
    const stale = await outbox.readAfter('lan', 2);
    delivery.onEvent(stale.kind === 'events' ? (stale.events[0] as string) : '');
    await outbox.append('lan', sentence(5));
    await vi.waitFor(() => expect(socket.sent.at(-1)).toBe('reply_text 5'));
    expect(socket.sent).toEqual(['welcome', ...[2, 3, 4, 5].map((seq) => `reply_text ${seq}`)]);
  });

  it('resyncs a client when the outbox went back (a failover to a replica that lacked the newest events)', async () => {
    const { socket, outbox, open, keys } = await startDelivery();
    await open();
    for (let n = 1; n <= 3; n++) await outbox.append('lan', sentence(n));
    await vi.waitFor(() => expect(socket.sent.at(-1)).toBe('reply_text 3'));
    // The replica had events 1 and 2 only: the next event takes seq 3 again.
    const kept = await redis.xrange(keys.outboxStream('lan'), '1-0', '2-0');
    await redis.del(keys.outboxStream('lan'));
    for (const [id, fields] of kept) await redis.xadd(keys.outboxStream('lan'), id, ...fields);
    await redis.hset(keys.outboxMeta('lan'), 'seq', 2);
    await redis.zremrangebyscore(keys.outboxDedupe('lan'), 3, 3);
    await outbox.append('lan', sentence(9));
    await vi.waitFor(() => expect(socket.frames.at(-1)).toMatchObject({ type: 'resync', data: { last_seq: 3 } }));
    // Then live again from the new head, nothing taken for an event it already had.
    await outbox.append('lan', sentence(10));
    await vi.waitFor(() => expect(socket.sent.at(-1)).toBe('reply_text 4'));
    expect(socket.sent).toEqual(['welcome', 'reply_text 1', 'reply_text 2', 'reply_text 3', 'resync', 'reply_text 4']);
  });

  it('resyncs when a read-back finds another event at the last seq it delivered (pub/sub was down through the failover)', async () => {
    const { delivery, socket, outbox, open, keys, appendUnheard } = await startDelivery();
    await open();
    for (let n = 1; n <= 2; n++) await outbox.append('lan', sentence(n));
    await vi.waitFor(() => expect(socket.sent.at(-1)).toBe('reply_text 2'));
    const kept = await redis.xrange(keys.outboxStream('lan'), '1-0', '1-0');
    await redis.del(keys.outboxStream('lan'));
    for (const [id, fields] of kept) await redis.xadd(keys.outboxStream('lan'), id, ...fields);
    await redis.hset(keys.outboxMeta('lan'), 'seq', 1);
    await appendUnheard(7);
    await appendUnheard(8);
    delivery.onFeedInterrupted();
    await vi.waitFor(() => expect(socket.frames.at(-1)).toMatchObject({ type: 'resync', data: { last_seq: 3 } }));
  });

  it('fills a gap in the live stream from the outbox', async () => {
    const { socket, outbox, open, appendUnheard } = await startDelivery();
    await open();
    await outbox.append('lan', sentence(1));
    await appendUnheard(2);
    await outbox.append('lan', sentence(3));
    await vi.waitFor(() => expect(socket.sent).toEqual(['welcome', 'reply_text 1', 'reply_text 2', 'reply_text 3']));
    expect(socket.frames.map((frame) => (frame.data as { index?: number }).index)).toEqual([undefined, 1, 2, 3]);
  });

  it('resyncs a client whose epoch is gone or whose last_seq is ahead, then goes live from the head', async () => {
    const first = await startDelivery();
    await first.outbox.append('lan', sentence(1));
    await first.open({ lastSeq: 1, epoch: 'gone' });
    expect(first.socket.frames[1]).toMatchObject({
      type: 'resync',
      data: { reason: 'the outbox was recreated (epoch gone is gone)', last_seq: 1, sulking_level: 0 },
    });
    await first.outbox.append('lan', sentence(2));
    await vi.waitFor(() => expect(first.socket.sent).toEqual(['welcome', 'resync', 'reply_text 2']));

    const ahead = await startDelivery();
    await ahead.outbox.append('lan', sentence(1));
    await ahead.open({ lastSeq: 7 });
    expect(ahead.socket.frames[1]?.data).toMatchObject({
      reason: 'last_seq 7 is ahead of the outbox (seq 1); it was reset or expired',
    });
  });

  it('tells its owner which events carried speech and which ended a turn', async () => {
    const { socket, outbox, told, open } = await startDelivery();
    await open();
    const spoken = { turn_id: 'turn', index: 0, audio_base64: 'UklGRg==', word_boundaries: [] };
    await outbox.append('lan', { type: 'reply_start', data: { turn_id: 'turn', emotion: 'happy' } });
    await outbox.append('lan', { type: 'reply_audio', data: spoken });
    await outbox.append('lan', { type: 'reply_audio', data: { ...spoken, index: 1, audio_base64: null } });
    await outbox.append('lan', { type: 'reply_done', data: { ...reply(null), sentences: 2 } });
    await vi.waitFor(() => expect(socket.sent).toHaveLength(5));
    expect(told).toEqual(['audio', 'turn ended']);
    await outbox.append('lan', { type: 'reply', data: { ...reply('UklGRg=='), turn_id: 'next' } });
    await vi.waitFor(() => expect(told).toEqual(['audio', 'turn ended', 'audio', 'turn ended']));
  });

  it('reads the outbox every 5 s while a turn is in flight, until an event ends it', async () => {
    const { delivery, socket, outbox, open, appendUnheard } = await startDelivery();
    await open();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    delivery.watchFor('turn_end');
    await appendUnheard(1);
    vi.advanceTimersByTime(5_000);
    await vi.waitFor(() => expect(socket.sent).toEqual(['welcome', 'reply_text 1']));
    await outbox.append('lan', { type: 'reply', data: reply(null) });
    await vi.waitFor(() => expect(socket.sent.at(-1)).toBe('reply 2'));
    await appendUnheard(3);
    vi.advanceTimersByTime(10_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(socket.sent).toEqual(['welcome', 'reply_text 1', 'reply 2']);
  });

  it('keeps reading the outbox until every awaited event came: a turn end and a judged quiz result', async () => {
    const { delivery, socket, outbox, open, appendUnheard } = await startDelivery();
    await open();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    delivery.watchFor('turn_end');
    delivery.watchFor('quiz_result');
    await outbox.append('lan', { type: 'reply', data: reply(null) });
    await vi.waitFor(() => expect(socket.sent.at(-1)).toBe('reply 1'));
    // The quiz result is still awaited: an event published unheard is found by the next read.
    await appendUnheard(2);
    vi.advanceTimersByTime(5_000);
    await vi.waitFor(() => expect(socket.sent.at(-1)).toBe('reply_text 2'));
    const result = {
      quiz_id: 'q-turn-1',
      correct: true,
      answer: '本',
      expected: '本',
      explanation: '',
      reaction: { chinese_content: '对！', pinyin: 'duì', vietnamese_display: 'Đúng!', emotion: 'happy' as const },
      graded_by: 'llm' as const,
    };
    await outbox.append('lan', { type: 'quiz_result', data: result });
    await vi.waitFor(() => expect(socket.sent.at(-1)).toBe('quiz_result 3'));
    // Nothing is awaited any more: no further reads.
    await appendUnheard(4);
    vi.advanceTimersByTime(10_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(socket.sent.at(-1)).toBe('quiz_result 3');
  });

  it('paces a replay by what the client reads, and closes a client that does not read with 1013', async () => {
    const { socket, outbox, open } = await startDelivery();
    for (let n = 1; n <= 3; n++) await outbox.append('lan', sentence(n));
    socket.bufferedAmount = MAX_BUFFERED * 0.6;
    const opened = open({ lastSeq: 0 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(socket.sent).toEqual(['welcome']);
    socket.bufferedAmount = 0;
    await opened;
    expect(socket.sent).toEqual(['welcome', 'reply_text 1', 'reply_text 2', 'reply_text 3']);

    socket.bufferedAmount = MAX_BUFFERED + 1;
    await outbox.append('lan', sentence(4));
    await vi.waitFor(() =>
      expect(socket.closedWith).toEqual({ code: 1013, reason: 'too slow; reconnect with last_seq' }),
    );
    expect(socket.sent).toHaveLength(4);
  });

  it('leaves no subscription behind when closed while opening, and sends nothing once closed', async () => {
    const { delivery, socket, feed, open } = await startDelivery();
    const opening = open();
    delivery.close();
    await opening;
    expect(feed.userCount).toBe(0);
    delivery.send({ type: 'typing', status: 'success', data: { is_typing: true, turn_id: 't' } });
    expect(socket.frames).toEqual([]);
  });
});
