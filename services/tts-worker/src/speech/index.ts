import type { TtsEnv } from '../env.js';
import { EdgeSpeechSynthesizer } from './edge.js';
import { EspeakSpeechSynthesizer } from './espeak.js';
import { FallbackSpeechSynthesizer } from './fallback.js';
import type { SpeechSynthesizer } from './types.js';

export type { SpeechSynthesizer } from './types.js';

/** The configured voice and, if any, the one that speaks when it fails. */
export function speechProviders(env: TtsEnv): { primary: SpeechSynthesizer; fallback?: SpeechSynthesizer } {
  const espeak = () => new EspeakSpeechSynthesizer({ timeoutMs: env.TTS_TIMEOUT_MS });
  if (env.TTS_PROVIDER === 'espeak') return { primary: espeak() };
  const edge = new EdgeSpeechSynthesizer({ endpoint: env.EDGE_TTS_URL, timeoutMs: env.TTS_TIMEOUT_MS });
  return env.TTS_FALLBACK === 'espeak' ? { primary: edge, fallback: espeak() } : { primary: edge };
}

/** Chooses the speech provider (with its fallback) from configuration. */
export function createSpeechSynthesizer(env: TtsEnv): SpeechSynthesizer {
  const { primary, fallback } = speechProviders(env);
  return fallback ? new FallbackSpeechSynthesizer(primary, fallback) : primary;
}
