import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { prosodyFor } from '../presets.js';
import { EspeakSpeechSynthesizer } from './espeak.js';
import { WasmEspeakSpeechSynthesizer } from './espeak-wasm.js';
import type { SpeechRequest, SpeechResult, SpeechSynthesizer } from './types.js';

/** `wasm`: npm only; `system`: the Debian espeak-ng + lame; `auto`: the faster one that is there. */
export type OfflineVoiceMode = 'auto' | 'wasm' | 'system';
export type OfflineEngine = 'wasm' | 'system';

export interface OfflineVoiceChoice {
  engine: OfflineEngine;
  /** Milliseconds for the calibration sentence, warm; absent when that engine was not measured or failed. */
  systemMs?: number;
  wasmMs?: number;
}

export interface OfflineVoiceOptions {
  mode: OfflineVoiceMode;
  timeoutMs: number;
  /** Worker threads of the WASM voice. */
  threads: number;
  /** Where to look for espeak-ng and lame (default: this process's PATH). */
  searchPath?: string;
  /** Told which engine `auto` chose, and the measurements it chose by (none: the system one is not installed). */
  onChoice?: (choice: OfflineVoiceChoice) => void;
}

/** An offline voice that holds resources (threads) until closed. */
export interface OfflineVoice extends SpeechSynthesizer {
  /** The engine speaking (for `auto`, once measured). */
  engine(): Promise<OfflineEngine>;
  /** Resolves once the engine is chosen and warm: the first learner does not pay for it. */
  prepare(): Promise<void>;
  close(): Promise<void>;
}

/** Whether `program` is an executable file in one of the directories of `searchPath`. */
export function isInstalled(program: string, searchPath = process.env.PATH ?? ''): boolean {
  return searchPath
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, program), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** The system voice needs both programs. */
export function systemVoiceInstalled(searchPath?: string): boolean {
  return isInstalled('espeak-ng', searchPath) && isInstalled('lame', searchPath);
}

/** Her offline voice as configured by OFFLINE_VOICE. */
export function createOfflineVoice(options: OfflineVoiceOptions): OfflineVoice {
  const wasm = () => new WasmEspeakSpeechSynthesizer({ timeoutMs: options.timeoutMs, threads: options.threads });
  const system = () => new EspeakSpeechSynthesizer({ timeoutMs: options.timeoutMs });
  if (options.mode === 'system') return fixedVoice(system(), 'system');
  if (options.mode === 'wasm') return fixedVoice(wasm(), 'wasm');
  if (!systemVoiceInstalled(options.searchPath)) {
    options.onChoice?.({ engine: 'wasm' });
    return fixedVoice(wasm(), 'wasm');
  }
  return new FasterOfflineVoice(system(), wasm(), options.onChoice);
}

function fixedVoice(voice: SpeechSynthesizer, engine: OfflineEngine): OfflineVoice {
  return {
    name: voice.name,
    synthesize: (request, signal) => voice.synthesize(request, signal),
    engine: async () => engine,
    // A thread compiling WebAssembly is worth starting before the first learner waits for it.
    prepare: async () => void (engine === 'wasm' ? await warmSentenceMs(voice, WARM_UP_TIMEOUT_MS) : undefined),
    close: async () => voice.close?.(),
  };
}

/** Generous: a cold start on a busy machine must not count as a failure. */
const WARM_UP_TIMEOUT_MS = 10_000;

/** A typical line of hers: long enough for the engines' per-sentence costs to show. */
const CALIBRATION: SpeechRequest = {
  text: '师兄，今天我们一起去练剑吧！',
  voice: 'calibration',
  prosody: prosodyFor('neutral'),
};

/**
 * Milliseconds for one warm sentence, or undefined when the voice fails: the first synthesis
 * pays for starting (a thread compiling WebAssembly, the page cache), which a running service
 * pays once; the second is what every later sentence costs.
 */
export async function warmSentenceMs(voice: SpeechSynthesizer, timeoutMs: number): Promise<number | undefined> {
  try {
    await voice.synthesize(CALIBRATION, AbortSignal.timeout(timeoutMs));
    const startedAt = performance.now();
    await voice.synthesize(CALIBRATION, AbortSignal.timeout(timeoutMs));
    return performance.now() - startedAt;
  } catch {
    return undefined;
  }
}

/**
 * `auto` with both engines available: measures each on the same sentence as soon as it is
 * created (in the background), then speaks with the faster one and closes the other. Requests
 * that arrive before the measurement ends wait for it (well under a second).
 */
class FasterOfflineVoice implements OfflineVoice {
  readonly name = 'espeak';
  private readonly choice: Promise<SpeechSynthesizer & { engine: OfflineEngine }>;

  constructor(
    private readonly system: EspeakSpeechSynthesizer,
    private readonly wasm: WasmEspeakSpeechSynthesizer,
    onChoice?: (choice: OfflineVoiceChoice) => void,
  ) {
    this.choice = this.measure().then((choice) => {
      onChoice?.(choice);
      return choice.engine === 'system' ? this.system : this.wasm;
    });
  }

  async synthesize(request: SpeechRequest, signal: AbortSignal): Promise<SpeechResult> {
    return (await this.choice).synthesize(request, signal);
  }

  async engine(): Promise<OfflineEngine> {
    return (await this.choice).engine;
  }

  async prepare(): Promise<void> {
    await this.choice;
  }

  async close(): Promise<void> {
    await this.choice;
    await this.wasm.close();
  }

  private async measure(): Promise<OfflineVoiceChoice> {
    const systemMs = await warmSentenceMs(this.system, WARM_UP_TIMEOUT_MS);
    const wasmMs = await warmSentenceMs(this.wasm, WARM_UP_TIMEOUT_MS);
    if (systemMs !== undefined && (wasmMs === undefined || systemMs <= wasmMs)) {
      await this.wasm.close(); // its threads are not needed
      return { engine: 'system', systemMs, ...(wasmMs === undefined ? {} : { wasmMs }) };
    }
    return {
      engine: 'wasm',
      ...(systemMs === undefined ? {} : { systemMs }),
      ...(wasmMs === undefined ? {} : { wasmMs }),
    };
  }
}
