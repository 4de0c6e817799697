import { envKit, parseEnv, workerEnv } from '@xiaoyue/shared';
import { z } from 'zod';

export const ttsEnvSchema = workerEnv.extend({
  /** `edge`: Microsoft Edge's neural voices (online); `espeak`: espeak-ng, offline and robotic (OFFLINE_VOICE). */
  TTS_PROVIDER: z.enum(['edge', 'espeak']).default('edge'),
  /** With `espeak`, a failed Edge synthesis is spoken by espeak-ng instead of arriving silent. */
  TTS_FALLBACK: z.enum(['none', 'espeak']).default('espeak'),
  /**
   * Which espeak-ng speaks offline: `wasm` (npm, compiled to WebAssembly, in worker threads),
   * `system` (the Debian espeak-ng + lame), or `auto`: the system one when installed and faster
   * on a calibration sentence at start, else wasm.
   */
  OFFLINE_VOICE: z.enum(['auto', 'wasm', 'system']).default('auto'),
  /** Worker threads of the WASM voice (syntheses at once; each is CPU-bound). */
  OFFLINE_VOICE_THREADS: envKit.int(1, 16).default(2),
  TTS_VOICE: z
    .string()
    .regex(/^[a-z]{2,3}-[A-Z]{2}-\w+$/, 'must look like zh-CN-XiaoxiaoNeural')
    .default('zh-CN-XiaoxiaoNeural'),
  /** Overrides Edge's read-aloud WebSocket endpoint (proxies, local test servers). */
  EDGE_TTS_URL: z
    .string()
    .regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL')
    .optional(),
  /** Time allowed for one synthesis; the turn's own deadline may cut it shorter. */
  TTS_TIMEOUT_MS: envKit.int(200, 120_000).default(8_000),
  /** Syntheses one TTS process runs at once. */
  TTS_CONCURRENCY: envKit.int(1, 500).default(16),
  /** Cached audio expires after this long unused… */
  TTS_CACHE_TTL_SECONDS: envKit.int(60, 90 * 24 * 3600).default(7 * 24 * 3600),
  /** …and the least recently used goes beyond this many bytes in total. 0 turns the cache off. */
  TTS_CACHE_MAX_BYTES: envKit.int(0, 64 * 1024 * 1024 * 1024).default(256 * 1024 * 1024),
});
export type TtsEnv = z.infer<typeof ttsEnvSchema>;

export const loadTtsEnv = (source: NodeJS.ProcessEnv = process.env) => parseEnv(ttsEnvSchema, source);
