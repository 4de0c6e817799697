import { createMetricsRegistry, redisKeys, runWorkerService, type TtsVoiceInfo } from '@xiaoyue/shared';
import { startTtsWorker } from './app.js';
import { loadTtsEnv } from './env.js';
import { createSpeechSynthesizer } from './speech/index.js';

runWorkerService({
  name: 'tts-worker',
  loadEnv: loadTtsEnv,
  async start({ env, logger, redis }) {
    const synthesizer = createSpeechSynthesizer(env, logger);
    // Before taking jobs: the offline voice is chosen (OFFLINE_VOICE=auto measures) and warm.
    await synthesizer.prepare?.();
    // Gateways answer `get_voices` from this: offline (espeak) she has espeak-ng's Mandarin only.
    const voiceInfo: TtsVoiceInfo = { provider: env.TTS_PROVIDER, voice: env.TTS_VOICE };
    await redis.set(redisKeys(env.QUEUE_PREFIX).ttsVoice(), JSON.stringify(voiceInfo));
    const metrics = createMetricsRegistry('tts-worker');
    const tts = startTtsWorker({ env, logger, redis, synthesizer, metrics });
    return {
      workers: tts.workers,
      describe: { provider: synthesizer.name, voice: env.TTS_VOICE, offlineVoice: env.OFFLINE_VOICE },
      // Jobs finish first (they may be speaking), then the voice's threads stop.
      close: async () => {
        await tts.close();
        await synthesizer.close?.();
      },
      metrics,
    };
  },
});
