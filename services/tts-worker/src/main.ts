import { createMetricsRegistry, runWorkerService } from '@xiaoyue/shared';
import { startTtsWorker } from './app.js';
import { loadTtsEnv } from './env.js';
import { createSpeechSynthesizer } from './speech/index.js';

runWorkerService({
  name: 'tts-worker',
  loadEnv: loadTtsEnv,
  start({ env, logger, redis }) {
    const synthesizer = createSpeechSynthesizer(env);
    const metrics = createMetricsRegistry('tts-worker');
    const tts = startTtsWorker({ env, logger, redis, synthesizer, metrics });
    return {
      workers: tts.workers,
      describe: { provider: synthesizer.name, voice: env.TTS_VOICE },
      close: () => tts.close(),
      metrics,
    };
  },
});
