import { ESPEAK_VOICE, espeakFlags, MP3_BITRATE_KBPS, spokenResult, synthesizeWithin } from './espeak.js';
import { WorkerThreadPool } from './thread-pool.js';
import { SpeechError, type SpeechRequest, type SpeechResult, type SpeechSynthesizer } from './types.js';
import type { WasmVoiceReply, WasmVoiceTask } from './wasm-voice-thread.js';

export interface WasmEspeakOptions {
  /** Time allowed for one synthesis. */
  timeoutMs: number;
  /** Worker threads speaking at once. */
  threads: number;
}

/**
 * The built thread, from `src/speech` (tests) as from `dist/speech` (the service): both are two
 * levels under the package. Node cannot start a thread from TypeScript, so tests need `pnpm build`.
 */
const THREAD_SCRIPT = new URL('../../dist/speech/wasm-voice-thread.js', import.meta.url);

/**
 * Offline speech with nothing but npm packages: eSpeak NG compiled to WebAssembly and the lamejs
 * mp3 encoder, in a small pool of worker threads so that synthesis never blocks the event loop.
 * Same voice, prosody flags, mp3 bitrate and estimated word timings as the system espeak-ng.
 */
export class WasmEspeakSpeechSynthesizer implements SpeechSynthesizer {
  readonly name = 'espeak';
  readonly engine = 'wasm';
  private readonly pool: WorkerThreadPool<WasmVoiceTask, WasmVoiceReply>;

  constructor(private readonly options: WasmEspeakOptions) {
    this.pool = new WorkerThreadPool(THREAD_SCRIPT, options.threads);
  }

  synthesize(request: SpeechRequest, signal: AbortSignal): Promise<SpeechResult> {
    return synthesizeWithin(this.options.timeoutMs, signal, 'espeak (wasm)', async (stop) => {
      const task = {
        text: request.text,
        voice: ESPEAK_VOICE,
        flags: espeakFlags(request.prosody),
        bitrateKbps: MP3_BITRATE_KBPS,
      };
      const reply = await this.pool.run(task, stop);
      if (!reply.ok) throw new SpeechError(reply.message, reply.kind);
      return spokenResult(request.text, Buffer.from(reply.mp3), reply.sampleCount, reply.sampleRate);
    });
  }

  /** Stops the voice threads; a synthesis still running is rejected. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
