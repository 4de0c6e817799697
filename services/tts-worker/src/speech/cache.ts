import { createHash } from 'node:crypto';
import type { RedisClient } from '@xiaoyue/shared';
import type { SpeechRequest, SpeechResult, SpeechSynthesizer, WordBoundary } from './types.js';

export interface SpeechCacheOptions {
  /** Key prefix (QUEUE_PREFIX). */
  prefix: string;
  ttlSeconds: number;
  /** Total bytes of cached audio; least recently used entries are evicted beyond it. */
  maxBytes: number;
  /**
   * How many parts the cache is split into, each with its own hash tag, index and share of
   * `maxBytes` (LRU within a part), so that on a Redis Cluster the cache spreads over the shards.
   */
  buckets?: number;
  /** Larger results are not cached. */
  maxEntryBytes?: number;
  /** Called on every lookup, for metrics. */
  onLookup?: (hit: boolean) => void;
}

export interface CacheStats {
  hits: number;
  misses: number;
}

/**
 * Stores an entry and evicts least-recently-used ones until the total fits `maxBytes`.
 * KEYS: entry, index (zset key→last use), sizes (hash key→bytes), total (counter), clock (counter)
 * ARGV: value, ttl, maxBytes
 * Recency is a counter, not a timestamp: uses within one millisecond must still be ordered.
 */
const PUT_SCRIPT = `
local size = string.len(ARGV[1])
local old = tonumber(redis.call('HGET', KEYS[3], KEYS[1]) or '0')
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[5]), KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], size)
local total = redis.call('INCRBY', KEYS[4], size - old)
while total > tonumber(ARGV[3]) do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  local bytes = tonumber(redis.call('HGET', KEYS[3], oldest[1]) or '0')
  redis.call('DEL', oldest[1])
  redis.call('HDEL', KEYS[3], oldest[1])
  total = redis.call('DECRBY', KEYS[4], bytes)
end
return total
`;

/** Marks an entry as just used. KEYS: index, clock, entry. */
const TOUCH_SCRIPT = `return redis.call('ZADD', KEYS[1], 'XX', redis.call('INCR', KEYS[2]), KEYS[3])`;

type CacheRedis = RedisClient & {
  putSpeechCacheEntry(...args: (string | Buffer | number)[]): Promise<number>;
  touchSpeechCacheEntry(...args: string[]): Promise<number>;
};

/** A cache of many keys on one shard would make that shard the hot one: 16 parts spread it. */
export const SPEECH_CACHE_BUCKETS = 16;

/** Serialised entry: 4-byte length of the boundaries JSON, the JSON, then the mp3 bytes. */
function encode(result: SpeechResult): Buffer {
  const boundaries = Buffer.from(JSON.stringify(result.wordBoundaries));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(boundaries.length);
  return Buffer.concat([header, boundaries, result.audio]);
}

function decode(entry: Buffer): SpeechResult | undefined {
  if (entry.length < 4) return undefined;
  const length = entry.readUInt32BE(0);
  try {
    const wordBoundaries = JSON.parse(entry.subarray(4, 4 + length).toString()) as WordBoundary[];
    const audio = entry.subarray(4 + length);
    return audio.length > 0 ? { audio, format: 'mp3', wordBoundaries } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Synthesised speech cached in Redis, keyed by a hash of everything that shapes the audio
 * (provider, voice, prosody, text): her common lines are spoken once, then served from memory.
 * A cache that cannot be read or written never fails the synthesis.
 */
export class CachedSpeechSynthesizer implements SpeechSynthesizer {
  readonly name: string;
  readonly stats: CacheStats = { hits: 0, misses: 0 };
  private readonly redis: CacheRedis;

  constructor(
    private readonly inner: SpeechSynthesizer,
    redis: RedisClient,
    private readonly options: SpeechCacheOptions,
  ) {
    this.name = inner.name;
    if (!('putSpeechCacheEntry' in redis)) {
      redis.defineCommand('putSpeechCacheEntry', { numberOfKeys: 5, lua: PUT_SCRIPT });
      redis.defineCommand('touchSpeechCacheEntry', { numberOfKeys: 3, lua: TOUCH_SCRIPT });
    }
    this.redis = redis as CacheRedis;
  }

  /** The cache key of a request for this provider. */
  keyFor(request: SpeechRequest): string {
    const { voice, prosody, text } = request;
    const digest = createHash('sha256')
      .update(JSON.stringify([this.inner.name, voice, prosody.rate, prosody.volume, prosody.pitch, text]))
      .digest();
    // The eviction script touches the entry and its part's index together: one hash tag per part.
    return `${this.bucketOf(digest[0] as number)}:${digest.toString('base64url')}`;
  }

  /** The key prefix of a cache part: `<prefix>:{tts-cache-<n>}`. */
  private bucketOf(firstByte: number): string {
    return `${this.options.prefix}:{tts-cache-${firstByte % this.buckets}}`;
  }

  private get buckets(): number {
    return this.options.buckets ?? SPEECH_CACHE_BUCKETS;
  }

  async synthesize(request: SpeechRequest, signal: AbortSignal): Promise<SpeechResult> {
    const key = this.keyFor(request);
    const cached = await this.redis.getBuffer(key).catch(() => null);
    const hit = cached ? decode(cached) : undefined;
    this.options.onLookup?.(hit !== undefined);
    if (hit) {
      this.stats.hits++;
      const bucket = bucketPrefixOf(key);
      void this.redis.touchSpeechCacheEntry(`${bucket}:index`, `${bucket}:clock`, key).catch(() => {});
      return hit;
    }
    this.stats.misses++;
    const result = await this.inner.synthesize(request, signal);
    const entry = encode(result);
    // Stored in the background: the learner should not wait for the cache.
    if (entry.length <= (this.options.maxEntryBytes ?? 1_048_576)) {
      const bucket = bucketPrefixOf(key);
      void this.redis
        .putSpeechCacheEntry(
          key,
          `${bucket}:index`,
          `${bucket}:index:sizes`,
          `${bucket}:index:bytes`,
          `${bucket}:clock`,
          entry,
          this.options.ttlSeconds,
          Math.floor(this.options.maxBytes / this.buckets),
        )
        .catch(() => {});
    }
    return result;
  }

  async prepare(): Promise<void> {
    await this.inner.prepare?.();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/** The part a cache key belongs to: everything up to its hash tag's end. */
function bucketPrefixOf(key: string): string {
  return key.slice(0, key.indexOf('}') + 1);
}
