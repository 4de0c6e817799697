import {
  closeRedis,
  connectRedis,
  createLogger,
  createWorkerRedis,
  describeRedisUrl,
  exitOnStartupError,
  shutdownOnSignals,
} from '@xiaoyue/shared';
import { startTtsWorker } from './app.js';
import { loadTtsEnv } from './env.js';
import { createSpeechSynthesizer } from './speech/index.js';

async function main(): Promise<void> {
  const env = loadTtsEnv();
  const logger = createLogger('tts-worker', env.LOG_LEVEL);
  const redis = createWorkerRedis(env.REDIS_URL, 'tts-worker');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await connectRedis(redis);
  const synthesizer = createSpeechSynthesizer(env);
  const worker = startTtsWorker({ env, logger, redis, synthesizer });
  logger.info(
    {
      redis: describeRedisUrl(env.REDIS_URL),
      prefix: env.QUEUE_PREFIX,
      provider: synthesizer.name,
      voice: env.TTS_VOICE,
    },
    'tts worker ready',
  );

  shutdownOnSignals(logger, env.SHUTDOWN_TIMEOUT_MS, [
    { name: 'stop taking jobs; finish running syntheses', run: () => worker.close() },
    { name: 'close Redis', run: () => closeRedis(redis) },
  ]);
}

main().catch(exitOnStartupError('tts-worker'));
