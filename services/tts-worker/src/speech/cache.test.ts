import { connectRedis, createWorkerRedis, type Redis } from '@xiaoyue/shared';
import {
  type FakeEdgeTts,
  fakeAudioFor,
  startFakeEdgeTts,
  startTestRedis,
  type TestRedis,
  uniquePrefix,
} from '@xiaoyue/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachedSpeechSynthesizer } from './cache.js';
import { EdgeSpeechSynthesizer } from './edge.js';

let server: TestRedis;
let redis: Redis;
let edge: FakeEdgeTts;

beforeAll(async () => {
  [server, edge] = await Promise.all([startTestRedis(), startFakeEdgeTts()]);
  redis = await connectRedis(createWorkerRedis(server.url, 'cache-test'));
});
afterAll(async () => {
  redis.disconnect();
  await Promise.all([server.stop(), edge.close()]);
});

const signal = () => new AbortController().signal;
const request = (text: string, rate = '+0%') => ({
  text,
  voice: 'zh-CN-XiaoxiaoNeural',
  prosody: { rate, volume: '+0%', pitch: '+0Hz' },
});

function cached(maxBytes = 10_000_000, buckets?: number) {
  const inner = new EdgeSpeechSynthesizer({ endpoint: edge.url, timeoutMs: 2_000 });
  return new CachedSpeechSynthesizer(inner, redis, {
    prefix: uniquePrefix('cache'),
    ttlSeconds: 60,
    maxBytes,
    buckets,
  });
}

describe('speech cache', () => {
  it('speaks a repeated line once and serves it from Redis afterwards', async () => {
    const speech = cached();
    edge.reset();
    const first = await speech.synthesize(request('师兄好！'), signal());
    const second = await speech.synthesize(request('师兄好！'), signal());
    expect(second.audio.equals(first.audio)).toBe(true);
    expect(second.audio.equals(fakeAudioFor('师兄好！'))).toBe(true);
    expect(second.wordBoundaries).toEqual(first.wordBoundaries);
    expect(edge.requests).toHaveLength(1);
    expect(speech.stats).toEqual({ hits: 1, misses: 1 });
  });

  it('keys on everything that changes the audio', async () => {
    const speech = cached();
    edge.reset();
    await speech.synthesize(request('你好'), signal());
    await speech.synthesize(request('你好', '+10%'), signal());
    await speech.synthesize(request('您好'), signal());
    expect(edge.requests).toHaveLength(3);
  });

  it('evicts the least recently used entries beyond its memory bound', async () => {
    const entry = fakeAudioFor('一二三四').length + 200;
    // One part: the whole budget in one LRU.
    const speech = cached(entry * 2, 1);
    await speech.synthesize(request('一二三四'), signal());
    await speech.synthesize(request('五六七八'), signal());
    await speech.synthesize(request('一二三四'), signal()); // refresh: now the newest
    await speech.synthesize(request('九十百千'), signal()); // evicts 五六七八
    edge.reset();
    await speech.synthesize(request('一二三四'), signal());
    await speech.synthesize(request('五六七八'), signal());
    expect(edge.requests.map((r) => r.text)).toEqual(['五六七八']);
  });

  it('spreads its entries over its parts, each a hash tag of its own (a shard each on a cluster)', async () => {
    const speech = cached();
    const keys = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'].flatMap((word) =>
      ['+0%', '+10%', '-10%', '+20%'].map((rate) => speech.keyFor(request(word, rate))),
    );
    const tags = new Set(keys.map((key) => /\{([^}]+)\}/.exec(key)?.[1]));
    expect(tags.size).toBeGreaterThanOrEqual(12);
    expect([...tags].every((tag) => /^tts-cache-\d+$/.test(tag as string))).toBe(true);
  });

  it('still speaks when Redis is unavailable', async () => {
    const broken = await connectRedis(createWorkerRedis(server.url, 'broken', { maxRetriesPerRequest: 0 }));
    const inner = new EdgeSpeechSynthesizer({ endpoint: edge.url, timeoutMs: 2_000 });
    const speech = new CachedSpeechSynthesizer(inner, broken, {
      prefix: uniquePrefix('c'),
      ttlSeconds: 60,
      maxBytes: 1e6,
    });
    broken.disconnect();
    const result = await speech.synthesize(request('没关系'), signal());
    expect(result.audio.equals(fakeAudioFor('没关系'))).toBe(true);
  });
});
