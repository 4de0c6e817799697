import type { TtsEnv } from '../env.js';
import { EdgeSpeechSynthesizer } from './edge.js';
import type { SpeechSynthesizer } from './types.js';

export type { SpeechSynthesizer } from './types.js';

/** Chooses the speech provider from configuration. */
export function createSpeechSynthesizer(env: TtsEnv): SpeechSynthesizer {
  switch (env.TTS_PROVIDER) {
    case 'edge':
      return new EdgeSpeechSynthesizer({ endpoint: env.EDGE_TTS_URL, timeoutMs: env.TTS_TIMEOUT_MS });
  }
}
