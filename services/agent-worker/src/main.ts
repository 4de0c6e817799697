import {
  closeRedis,
  connectRedis,
  createLogger,
  createWorkerRedis,
  describeRedisUrl,
  exitOnStartupError,
  shutdownOnSignals,
} from '@xiaoyue/shared';
import { startAgentWorkers } from './app.js';
import { loadAgentEnv } from './env.js';
import { createTutorLlm } from './llm/index.js';

async function main(): Promise<void> {
  const env = loadAgentEnv();
  const logger = createLogger('agent-worker', env.LOG_LEVEL);
  const redis = createWorkerRedis(env.REDIS_URL, 'agent-worker');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await connectRedis(redis);
  const llm = createTutorLlm(env);
  if (llm.name === 'unconfigured') {
    logger.warn('GEMINI_API_KEY is not set: every turn will be answered with her fallback line');
  }
  const workers = startAgentWorkers({ env, logger, redis, llm });
  logger.info(
    { redis: describeRedisUrl(env.REDIS_URL), prefix: env.QUEUE_PREFIX, llm: llm.name, model: env.GEMINI_MODEL },
    'agent worker ready',
  );

  shutdownOnSignals(logger, env.SHUTDOWN_TIMEOUT_MS, [
    { name: 'stop taking jobs; finish running turns', run: () => workers.close() },
    { name: 'close Redis', run: () => closeRedis(redis) },
  ]);
}

main().catch(exitOnStartupError('agent-worker'));
