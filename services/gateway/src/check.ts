// `pnpm check redis`: can XiaoYue use the configured Redis (REDIS_URL, REDIS_CLUSTER_NODES or
// REDIS_SENTINELS), and is it set up to keep data?
import {
  closeRedis,
  commonEnv,
  connectRedis,
  createProducerRedis,
  describeRedisTopology,
  parseEnv,
  redisTopologyFrom,
} from '@xiaoyue/shared';

async function checkRedis(): Promise<boolean> {
  const topology = redisTopologyFrom(parseEnv(commonEnv));
  const where = describeRedisTopology(topology);
  const redis = createProducerRedis(topology, 'check', { retryStrategy: () => null });
  let lastError = '';
  redis.on('error', (error) => {
    lastError = error.message;
  });
  try {
    await connectRedis(redis, 3_000);
    const pong = await redis.ping();
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    const warnings: string[] = [];
    try {
      const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
      const [, aof] = (await redis.config('GET', 'appendonly')) as string[];
      if (policy !== 'noeviction')
        warnings.push(`maxmemory-policy is ${policy}; use noeviction so queued jobs are never evicted`);
      if (aof !== 'yes')
        warnings.push('appendonly is off; turn AOF on so a restart keeps conversations and queued turns');
    } catch {
      warnings.push('CONFIG is not allowed here (managed Redis?); check AOF and noeviction in its console');
    }
    console.log(`PASS redis: ${where} answered ${pong}, Redis ${version}`);
    for (const warning of warnings) console.log(`  warning: ${warning}`);
    return true;
  } catch (error) {
    const reason = lastError || (error instanceof Error ? error.message : String(error));
    console.log(`FAIL redis: cannot use ${where}: ${reason}`);
    return false;
  } finally {
    await closeRedis(redis);
  }
}

checkRedis().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    console.log(`FAIL redis: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
