// A worker thread of the WASM voice pool: eSpeak NG compiled to WebAssembly (npm `espeak-ng`)
// speaks one utterance to WAV, and lamejs encodes it to mp3. Both are CPU-bound and synchronous
// once started, so they run here, never on the service's event loop.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import { Mp3Encoder } from '@breezystack/lamejs';
import ESpeakNg from 'espeak-ng';
import { isSilent, pcmFromWav } from './espeak.js';
import { SpeechError } from './types.js';

export interface WasmVoiceTask {
  text: string;
  /** espeak-ng voice, e.g. `cmn-latn-pinyin`. */
  voice: string;
  /** Prosody flags from `espeakFlags`. */
  flags: string[];
  bitrateKbps: number;
}

export type WasmVoiceReply =
  | { ok: true; mp3: Uint8Array; sampleCount: number; sampleRate: number }
  | { ok: false; message: string; kind: SpeechError['kind'] };

// This build of espeak-ng (assertions on) captures a stack trace for every failed file lookup,
// thousands per utterance: about a quarter of its time. Nothing in this thread shows a stack.
Error.stackTraceLimit = 0;

const TEXT_FILE = '/utterance.txt';
const WAV_FILE = '/utterance.wav';
/** lamejs takes any length, but smaller slices keep its temporary buffers small. */
const SAMPLES_PER_ENCODE = 1152 * 64;

/** Node's WebAssembly global; its types live in TypeScript's DOM library, which this package does not load. */
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ exports: EspeakExports }>;
}
/** The raw exports of the espeak-ng build that running its main() by hand needs. */
interface EspeakExports {
  memory: { buffer: ArrayBuffer };
  malloc(bytes: number): number;
  __main_argc_argv(argc: number, argv: number): number;
}

/** An instance whose runtime is up (its embedded data files unpacked) and whose main() has not run. */
interface ReadyEspeak {
  fs: EspeakFs;
  exports: EspeakExports;
  stderr: string[];
}
type EspeakFs = Awaited<ReturnType<typeof ESpeakNg>>['FS'];

// Compiled once per thread. An instance runs espeak-ng's main() once (its globals are not meant
// for a second run), so every utterance gets a fresh one. Starting one (unpacking its 18 MB of data
// files) costs more than speaking with it, so the next is readied while the thread waits for work.
const wasmPath = createRequire(import.meta.url)
  .resolve('espeak-ng')
  .replace(/\.js$/, '.wasm');
const compiled = webAssembly.compile(readFileSync(wasmPath));

async function readyEspeak(): Promise<ReadyEspeak> {
  const module = await compiled;
  const stderr: string[] = [];
  let exports: EspeakExports | undefined;
  const instance = await ESpeakNg({
    arguments: [],
    noInitialRun: true,
    print: () => {},
    printErr: (line: string) => stderr.push(line),
    // exit() inside main() must not set this thread's exit code: it ends the call, nothing else.
    quit: (_status, toThrow) => {
      throw toThrow;
    },
    instantiateWasm(imports, done) {
      webAssembly.instantiate(module, imports).then((wasm) => {
        exports = wasm.exports;
        done(wasm);
      });
      return {};
    },
  });
  if (!exports) throw new SpeechError('espeak-ng (wasm) did not start', 'rejected');
  return { fs: instance.FS, exports, stderr };
}

/** Runs main() with `args`, as a C program gets them: NUL-terminated strings, then a NULL. */
function runMain({ exports }: ReadyEspeak, args: string[]): number {
  const argv = ['espeak-ng', ...args].map((arg) => {
    const bytes = Buffer.from(`${arg}\0`);
    const at = exports.malloc(bytes.length);
    new Uint8Array(exports.memory.buffer, at, bytes.length).set(bytes);
    return at;
  });
  const argvAt = exports.malloc(4 * (argv.length + 1));
  new Uint32Array(exports.memory.buffer, argvAt, argv.length + 1).set([...argv, 0]);
  try {
    return exports.__main_argc_argv(argv.length, argvAt);
  } catch (error) {
    // exit(n) arrives as Emscripten's ExitStatus.
    if ((error as { name?: string }).name === 'ExitStatus') return (error as { status: number }).status;
    throw error;
  }
}

let next: Promise<ReadyEspeak> | undefined;

/** Starts readying the instance for the next utterance; one that fails is tried again when needed. */
function readyNext(): void {
  next = readyEspeak();
  next.catch(() => {
    next = undefined;
  });
}

async function speakToWav(task: WasmVoiceTask): Promise<Buffer> {
  const espeak = await (next ?? readyEspeak());
  next = undefined;
  espeak.fs.writeFile(TEXT_FILE, task.text);
  // The text is read from a file, never argv: nothing in it (a leading '-') can become an option.
  const status = runMain(espeak, ['-v', task.voice, ...task.flags, '-w', WAV_FILE, '-f', TEXT_FILE]);
  try {
    return Buffer.from(espeak.fs.readFile(WAV_FILE));
  } catch {
    const why = espeak.stderr.join(' ').slice(0, 200);
    throw new SpeechError(`espeak-ng (wasm) wrote no audio (exit ${status}): ${why}`, 'rejected');
  }
}

function mp3FromPcm(samples: Buffer, sampleRate: number, bitrateKbps: number): Uint8Array {
  // Copied into an aligned Int16Array: a Buffer's offset into its pool may be odd.
  const pcm = new Int16Array(samples.length / 2);
  Buffer.from(pcm.buffer).set(samples);
  const encoder = new Mp3Encoder(1, sampleRate, bitrateKbps);
  const frames: Uint8Array[] = [];
  for (let at = 0; at < pcm.length; at += SAMPLES_PER_ENCODE)
    frames.push(encoder.encodeBuffer(pcm.subarray(at, at + SAMPLES_PER_ENCODE)));
  frames.push(encoder.flush());
  // A fresh buffer of its own, never Buffer's shared pool: it is transferred to the main thread.
  const mp3 = new Uint8Array(frames.reduce((bytes, frame) => bytes + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    mp3.set(frame, offset);
    offset += frame.length;
  }
  return mp3;
}

async function speak(task: WasmVoiceTask): Promise<WasmVoiceReply> {
  try {
    const pcm = pcmFromWav(await speakToWav(task));
    const sampleCount = pcm.samples.length / 2;
    if (isSilent(pcm.samples)) throw new SpeechError('espeak-ng produced no audio', 'empty');
    return {
      ok: true,
      mp3: mp3FromPcm(pcm.samples, pcm.sampleRate, task.bitrateKbps),
      sampleCount,
      sampleRate: pcm.sampleRate,
    };
  } catch (error) {
    if (error instanceof SpeechError) return { ok: false, message: error.message, kind: error.kind };
    return { ok: false, message: `espeak-ng (wasm) failed: ${String(error)}`, kind: 'rejected' };
  }
}

parentPort?.on('message', async (task: WasmVoiceTask) => {
  const reply = await speak(task);
  parentPort?.postMessage(reply, reply.ok ? [reply.mp3.buffer as ArrayBuffer] : []);
  readyNext();
});
readyNext();
