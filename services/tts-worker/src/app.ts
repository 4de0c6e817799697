import {
  createQueue,
  type Logger,
  Outbox,
  outboxOptionsFrom,
  type QueuesConsumedBy,
  queueCatalog,
  type RedisClient,
  type Registry,
  redisKeys,
  registerQueueDepth,
  type ServiceWorkers,
  startWorkers,
} from '@xiaoyue/shared';
import type { TtsEnv } from './env.js';
import { createTtsMetrics } from './metrics.js';
import { speakReply } from './speak.js';
import { CachedSpeechSynthesizer } from './speech/cache.js';
import type { SpeechSynthesizer } from './speech/types.js';

export interface TtsWorkerDeps {
  env: TtsEnv;
  logger: Logger;
  /** Worker-profile connection: waits out Redis restarts. */
  redis: RedisClient;
  synthesizer: SpeechSynthesizer;
  metrics: Registry;
}

export type TtsWorker = ServiceWorkers<QueuesConsumedBy<'tts-worker'>>;

/** Builds and starts the TTS pool's queue workers (the tts stream, and the previous release's BullMQ tts queue). */
export function startTtsWorker({ env, logger, redis, synthesizer, metrics: registry }: TtsWorkerDeps): TtsWorker {
  const outbox = new Outbox(redis, redisKeys(env.QUEUE_PREFIX), outboxOptionsFrom(env));
  const metrics = createTtsMetrics(registry);
  const ttsQueue = createQueue(queueCatalog.tts, redis, env.QUEUE_PREFIX, { partitions: env.QUEUE_PARTITIONS });
  registerQueueDepth(registry, [ttsQueue]);
  const speech =
    env.TTS_CACHE_MAX_BYTES > 0
      ? new CachedSpeechSynthesizer(synthesizer, redis, {
          prefix: env.QUEUE_PREFIX,
          ttlSeconds: env.TTS_CACHE_TTL_SECONDS,
          maxBytes: env.TTS_CACHE_MAX_BYTES,
          onLookup: (hit) => metrics.cacheLookups.inc({ result: hit ? 'hit' : 'miss' }),
        })
      : synthesizer;
  const deps = { synthesizer: speech, outbox, logger, voice: env.TTS_VOICE, timeoutMs: env.TTS_TIMEOUT_MS, metrics };
  const workers = startWorkers(
    'tts-worker',
    { tts: (job, { signal }) => speakReply(job, deps, signal) },
    {
      connection: redis,
      prefix: env.QUEUE_PREFIX,
      logger,
      metrics: registry,
      // Shared by the partitions: ceil(TTS_CONCURRENCY / QUEUE_PARTITIONS) each.
      concurrency: { tts: env.TTS_CONCURRENCY },
      partitions: env.QUEUE_PARTITIONS,
    },
  );
  return {
    ...workers,
    async close() {
      await workers.close();
      await ttsQueue.close();
    },
  };
}
