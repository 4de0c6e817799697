import type { TtsEnv } from '../env.js';
import { EdgeSpeechSynthesizer } from './edge.js';
import { EspeakSpeechSynthesizer } from './espeak.js';
import { FallbackSpeechSynthesizer } from './fallback.js';
import type { SpeechSynthesizer } from './types.js';

export type { SpeechSynthesizer } from './types.js';

/** Chooses the speech provider (and its fallback) from configuration. */
export function createSpeechSynthesizer(env: TtsEnv): SpeechSynthesizer {
  const espeak = () => new EspeakSpeechSynthesizer({ timeoutMs: env.TTS_TIMEOUT_MS });
  if (env.TTS_PROVIDER === 'espeak') return espeak();
  const edge = new EdgeSpeechSynthesizer({ endpoint: env.EDGE_TTS_URL, timeoutMs: env.TTS_TIMEOUT_MS });
  return env.TTS_FALLBACK === 'espeak' ? new FallbackSpeechSynthesizer(edge, espeak()) : edge;
}
