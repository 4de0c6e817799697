import { type Logger, Outbox, parseJobData, queueCatalog, type Redis, redisKeys } from '@xiaoyue/shared';
import { Worker } from 'bullmq';
import type { TtsEnv } from './env.js';
import { speakReply } from './speak.js';
import { CachedSpeechSynthesizer } from './speech/cache.js';
import type { SpeechSynthesizer } from './speech/types.js';

export interface TtsWorkerDeps {
  env: TtsEnv;
  logger: Logger;
  /** Worker-profile connection: waits out Redis restarts. */
  redis: Redis;
  synthesizer: SpeechSynthesizer;
}

/** Builds and starts the TTS pool's BullMQ worker. */
export function startTtsWorker({ env, logger, redis, synthesizer }: TtsWorkerDeps): Worker {
  const outbox = new Outbox(redis, redisKeys(env.QUEUE_PREFIX), {
    maxEvents: env.OUTBOX_MAX_EVENTS,
    ttlSeconds: env.OUTBOX_TTL_SECONDS,
  });
  const speech =
    env.TTS_CACHE_MAX_BYTES > 0
      ? new CachedSpeechSynthesizer(synthesizer, redis, {
          prefix: env.QUEUE_PREFIX,
          ttlSeconds: env.TTS_CACHE_TTL_SECONDS,
          maxBytes: env.TTS_CACHE_MAX_BYTES,
        })
      : synthesizer;
  const deps = { synthesizer: speech, outbox, logger, voice: env.TTS_VOICE, timeoutMs: env.TTS_TIMEOUT_MS };
  const worker = new Worker(
    queueCatalog.tts.name,
    async (job, _token, signal) => speakReply(parseJobData(queueCatalog.tts, job), deps, signal),
    { connection: redis, prefix: env.QUEUE_PREFIX, concurrency: env.TTS_CONCURRENCY },
  );
  worker.on('failed', (job, err) => logger.error({ jobId: job?.id, err: err.message }, 'tts job failed'));
  worker.on('error', (err) => logger.warn({ err: err.message }, 'worker error'));
  return worker;
}
