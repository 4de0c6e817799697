import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { startRedisCluster, startRedisSentinel } from './redis-cluster.js';
import { spawnRedisServer, type TestRedis } from './redis-server.js';

export * from './redis-server.js';

/** The topology `startTestRedis` gives: TEST_REDIS_TOPOLOGY (single by default, cluster, sentinel). */
export type TestRedisTopology = 'single' | 'cluster' | 'sentinel';

export function testRedisTopology(): TestRedisTopology {
  const topology = process.env.TEST_REDIS_TOPOLOGY ?? 'single';
  if (topology !== 'single' && topology !== 'cluster' && topology !== 'sentinel') {
    throw new Error(`TEST_REDIS_TOPOLOGY must be single, cluster or sentinel, not "${topology}"`);
  }
  return topology;
}

/**
 * A Redis for integration tests: with TEST_REDIS_TOPOLOGY=cluster or sentinel, a local Redis
 * Cluster or Sentinel setup (redis-cluster.ts); else `REDIS_URL` if set; else a testcontainers Redis
 * if a container runtime answers; else a `redis-server` child on a free port with nothing persisted.
 * Tests isolate themselves with `uniquePrefix()`, so one server serves a whole test file. Tests
 * that run on every topology reach it through `connectTestRedis` and give services `env`.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const topology = testRedisTopology();
  if (topology === 'cluster') return startRedisCluster();
  if (topology === 'sentinel') return startRedisSentinel();
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) return { url: fromEnv, source: 'REDIS_URL', env: { REDIS_URL: fromEnv }, stop: async () => {} };
  const container = await tryTestcontainers();
  if (container) return container;
  return spawnRedisServer();
}

/**
 * A client of the test Redis whatever its topology (a cluster client, a Sentinel-aware one, or a
 * plain one), for a test's own reads and writes; the caller closes it.
 */
export function testRedisClient(redis: Pick<TestRedis, 'env'>): Redis | Cluster {
  const nodes = (list: string) =>
    list.split(',').map((node) => ({ host: node.split(':')[0] as string, port: Number(node.split(':')[1]) }));
  const { REDIS_CLUSTER_NODES, REDIS_SENTINELS, REDIS_SENTINEL_MASTER, REDIS_URL } = redis.env;
  if (REDIS_CLUSTER_NODES) return new Cluster(nodes(REDIS_CLUSTER_NODES), { shardedSubscribers: true });
  if (REDIS_SENTINELS) return new Redis({ sentinels: nodes(REDIS_SENTINELS), name: REDIS_SENTINEL_MASTER });
  return new Redis(REDIS_URL as string);
}

/** A queue/key prefix of its own for one test. */
export function uniquePrefix(name = 't'): string {
  return `${name.replace(/[^A-Za-z0-9_-]/g, '-')}-${randomUUID().slice(0, 8)}`;
}

async function tryTestcontainers(): Promise<TestRedis | undefined> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch {
    return undefined; // no container runtime: fall through to redis-server
  }
  try {
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine').start();
    const url = container.getConnectionUrl();
    return {
      url,
      source: 'testcontainers',
      env: { REDIS_URL: url },
      stop: async () => void (await container.stop()),
    };
  } catch {
    return undefined; // a runtime that cannot pull or start images
  }
}
