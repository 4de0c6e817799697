import {
  createQueue,
  type Logger,
  Outbox,
  parseJobData,
  queueCatalog,
  type Redis,
  type Registry,
  redisKeys,
  registerQueueDepth,
} from '@xiaoyue/shared';
import { Worker } from 'bullmq';
import type { TtsEnv } from './env.js';
import { createTtsMetrics } from './metrics.js';
import { speakReply } from './speak.js';
import { CachedSpeechSynthesizer } from './speech/cache.js';
import type { SpeechSynthesizer } from './speech/types.js';

export interface TtsWorkerDeps {
  env: TtsEnv;
  logger: Logger;
  /** Worker-profile connection: waits out Redis restarts. */
  redis: Redis;
  synthesizer: SpeechSynthesizer;
  metrics: Registry;
}

export interface TtsWorker {
  worker: Worker;
  close(): Promise<void>;
}

/** Builds and starts the TTS pool's BullMQ worker. */
export function startTtsWorker({ env, logger, redis, synthesizer, metrics: registry }: TtsWorkerDeps): TtsWorker {
  const outbox = new Outbox(redis, redisKeys(env.QUEUE_PREFIX), {
    maxEvents: env.OUTBOX_MAX_EVENTS,
    ttlSeconds: env.OUTBOX_TTL_SECONDS,
  });
  const metrics = createTtsMetrics(registry);
  const ttsQueue = createQueue(queueCatalog.tts, redis, env.QUEUE_PREFIX);
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
  const worker = new Worker(
    queueCatalog.tts.name,
    async (job, _token, signal) => {
      metrics.queueWait.observe({ queue: queueCatalog.tts.name }, (Date.now() - job.timestamp) / 1000);
      return speakReply(parseJobData(queueCatalog.tts, job), deps, signal);
    },
    {
      connection: redis,
      prefix: env.QUEUE_PREFIX,
      concurrency: env.TTS_CONCURRENCY,
      ...queueCatalog.tts.workerOptions,
    },
  );
  worker.on('failed', (job, err) => logger.error({ jobId: job?.id, err: err.message }, 'tts job failed'));
  worker.on('error', (err) => logger.warn({ err: err.message }, 'worker error'));
  return {
    worker,
    async close() {
      await worker.close();
      await ttsQueue.close();
    },
  };
}
