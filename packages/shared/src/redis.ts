import { Redis, type RedisOptions } from 'ioredis';

export type { Redis };

/**
 * Producer profile: for request paths (the gateway, enqueueing, reads). Commands fail fast while
 * Redis is unreachable instead of piling up in memory, so a request gets a clear error.
 */
export function createProducerRedis(url: string, connectionName: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    ...extra,
  });
}

/**
 * Worker profile: for BullMQ workers and subscribers, which must wait out a Redis restart rather
 * than fail (BullMQ requires `maxRetriesPerRequest: null`).
 */
export function createWorkerRedis(url: string, connectionName: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: true,
    ...extra,
  });
}

/** Connects a lazy client and resolves once it answers; rejects after `timeoutMs`. */
export async function connectRedis(redis: Redis, timeoutMs = 10_000): Promise<Redis> {
  if (redis.status === 'ready') return redis;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not become ready within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const ready = new Promise<void>((resolve) => {
      redis.once('ready', () => resolve());
    });
    if (redis.status === 'wait') await Promise.race([redis.connect(), timeout]);
    if ((redis.status as string) !== 'ready') await Promise.race([ready, timeout]);
    return redis;
  } finally {
    clearTimeout(timer);
  }
}

/** Closes politely, and forcibly if QUIT does not answer (e.g. Redis is already gone). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1_000))]);
  } catch {
    // already closing or unreachable: disconnect below
  }
  redis.disconnect();
}
