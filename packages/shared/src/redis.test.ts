import {
  type LocalRedisCluster,
  type LocalRedisSentinel,
  spawnRedisServer,
  startRedisCluster,
  startRedisSentinel,
  type TestRedis,
} from '@xiaoyue/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commonEnv, parseEnv, redisTopologyFrom } from './env.js';
import { redisKeys } from './keys.js';
import { Outbox } from './outbox.js';
import {
  closeRedis,
  connectRedis,
  createProducerRedis,
  createWorkerRedis,
  isCluster,
  type RedisClient,
  RedisTopologyError,
} from './redis.js';

const topologyOf = (env: Record<string, string>) => redisTopologyFrom(parseEnv(commonEnv, env));

/** Connects as a service would, from its environment. */
async function connectAs(env: Record<string, string>, profile: 'producer' | 'worker' | 'refused' = 'producer') {
  const create = profile === 'worker' ? createWorkerRedis : createProducerRedis;
  // A connection expected to be refused gives up at once instead of retrying.
  const client = create(topologyOf(env), 'topology-test', profile === 'refused' ? { retryStrategy: () => null } : {});
  client.on('error', () => {});
  try {
    return await connectRedis(client, 5_000);
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

describe('Redis topologies', () => {
  let cluster: LocalRedisCluster;
  let single: TestRedis;
  let sentinel: LocalRedisSentinel;
  const clients: RedisClient[] = [];

  beforeAll(async () => {
    [cluster, single, sentinel] = await Promise.all([startRedisCluster(), spawnRedisServer(), startRedisSentinel()]);
  });
  afterAll(async () => {
    await Promise.all(clients.map(closeRedis));
    await Promise.all([cluster?.stop(), single?.stop(), sentinel?.stop()]);
  });

  it('refuses a cluster node given as REDIS_URL, saying what to set instead', async () => {
    const attempt = connectAs({ REDIS_URL: cluster.url }, 'refused');
    await expect(attempt).rejects.toThrow(RedisTopologyError);
    await expect(attempt).rejects.toThrow(/set REDIS_CLUSTER_NODES=host:port/);
  });

  it('refuses a single Redis given as REDIS_CLUSTER_NODES, saying what to set instead', async () => {
    const node = single.url.replace('redis://', '');
    await expect(connectAs({ REDIS_CLUSTER_NODES: node }, 'refused')).rejects.toThrow(
      /for a single Redis set REDIS_URL/,
    );
  });

  it('runs a learner outbox on the cluster: its script and its sharded channel live on the learner’s shard', async () => {
    const redis = await connectAs(cluster.env);
    const subscriber = await connectAs(cluster.env, 'worker');
    clients.push(redis, subscriber);
    expect(isCluster(redis)).toBe(true);
    const keys = redisKeys('topology');
    const outbox = new Outbox(redis, keys, { maxEvents: 10, maxBytes: 65_536, ttlSeconds: 60 });
    // Learners spread over the shards; each one's events still arrive in order on its own channel.
    const learners = ['an', 'binh', 'chi', 'dung', 'giang', 'hoa'];
    const received = new Map<string, number[]>();
    subscriber.on('smessage', (channel: string, message: string) => {
      const learner = learners.find((id) => keys.userChannel(id) === channel) as string;
      received.set(learner, [...(received.get(learner) ?? []), JSON.parse(message).seq]);
    });
    for (const id of learners) await subscriber.ssubscribe(keys.userChannel(id));
    for (const id of learners) {
      for (const n of [0, 1]) {
        await outbox.append(id, {
          type: 'reply_text',
          data: { turn_id: 'turn', index: n, chinese: '好。', pinyin: '' },
        });
      }
    }
    await expect.poll(() => learners.map((id) => received.get(id) ?? [])).toEqual(learners.map(() => [1, 2]));
    const slots = new Set(await Promise.all(learners.map((id) => redis.cluster('KEYSLOT', keys.outboxMeta(id)))));
    expect(slots.size).toBe(learners.length);
  });

  it('follows the primary through a Sentinel failover', async () => {
    const redis = await connectAs(sentinel.env, 'worker');
    clients.push(redis);
    await redis.set('topology:before', '1');
    const old = await sentinel.killPrimary();
    // The worker profile waits out the failover instead of failing the command.
    await expect(redis.set('topology:after', '1')).resolves.toBe('OK');
    expect(await sentinel.primaryPort()).not.toBe(old);
  }, 60_000);
});
