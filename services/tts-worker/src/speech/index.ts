import type { Logger } from '@xiaoyue/shared';
import type { TtsEnv } from '../env.js';
import { EdgeSpeechSynthesizer } from './edge.js';
import { FallbackSpeechSynthesizer } from './fallback.js';
import { createOfflineVoice } from './offline-voice.js';
import type { SpeechSynthesizer } from './types.js';

export type { SpeechSynthesizer } from './types.js';

/**
 * Time kept back from Edge for the espeak fallback (a sentence takes ~50 ms with the system's
 * espeak-ng, ~150-400 ms with the WASM one, more on a busy machine): the caller gives a whole turn
 * TTS_TIMEOUT_MS, so an Edge that hangs to its own timeout would leave espeak nothing.
 */
const FALLBACK_RESERVE_MS = 2_000;

/** The configured voice and, if any, the one that speaks when it fails. */
export function speechProviders(
  env: TtsEnv,
  logger?: Logger,
): { primary: SpeechSynthesizer; fallback?: SpeechSynthesizer } {
  const espeak = () =>
    createOfflineVoice({
      mode: env.OFFLINE_VOICE,
      timeoutMs: env.TTS_TIMEOUT_MS,
      threads: env.OFFLINE_VOICE_THREADS,
      onChoice: (choice) =>
        logger?.info(
          choice,
          choice.systemMs === undefined
            ? `offline voice: ${choice.engine} espeak-ng (system espeak-ng + lame not installed)`
            : `offline voice: ${choice.engine} espeak-ng (the faster one measured)`,
        ),
    });
  if (env.TTS_PROVIDER === 'espeak') return { primary: espeak() };
  const edge = (timeoutMs: number) => new EdgeSpeechSynthesizer({ endpoint: env.EDGE_TTS_URL, timeoutMs });
  if (env.TTS_FALLBACK === 'none') return { primary: edge(env.TTS_TIMEOUT_MS) };
  const edgeTimeoutMs = Math.max(env.TTS_TIMEOUT_MS - FALLBACK_RESERVE_MS, Math.round(env.TTS_TIMEOUT_MS / 2));
  return { primary: edge(edgeTimeoutMs), fallback: espeak() };
}

/** Chooses the speech provider (with its fallback) from configuration: the one place that does. */
export function createSpeechSynthesizer(env: TtsEnv, logger?: Logger): SpeechSynthesizer {
  const { primary, fallback } = speechProviders(env, logger);
  return fallback ? new FallbackSpeechSynthesizer(primary, fallback) : primary;
}

// The benchmark measures the speech cache on its own, through this package's `./speech` export.
export { CachedSpeechSynthesizer } from './cache.js';
export { EdgeSpeechSynthesizer } from './edge.js';
// The benchmark compares the offline engines; the end-to-end tests check the mp3 they deliver.
export { EspeakSpeechSynthesizer } from './espeak.js';
export { WasmEspeakSpeechSynthesizer } from './espeak-wasm.js';
export { mp3DurationMs } from './mp3.js';
export { systemVoiceInstalled } from './offline-voice.js';
