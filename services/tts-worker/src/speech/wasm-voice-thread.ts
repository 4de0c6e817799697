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

const TEXT_FILE = '/utterance.txt';
const WAV_FILE = '/utterance.wav';
/** lamejs takes any length, but smaller slices keep its temporary buffers small. */
const SAMPLES_PER_ENCODE = 1152 * 64;

/** Node's WebAssembly global; its types live in TypeScript's DOM library, which this package does not load. */
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}

// Compiled once per thread; every utterance instantiates it afresh (the build runs espeak-ng's
// main() once per instance and exports nothing to call it again).
const wasmPath = createRequire(import.meta.url)
  .resolve('espeak-ng')
  .replace(/\.js$/, '.wasm');
const compiled = webAssembly.compile(readFileSync(wasmPath));

async function speakToWav(task: WasmVoiceTask): Promise<Buffer> {
  const module = await compiled;
  const stderr: string[] = [];
  const instance = await ESpeakNg({
    // The text is read from a file, never argv: nothing in it (a leading '-') can become an option.
    arguments: ['-v', task.voice, ...task.flags, '-w', WAV_FILE, '-f', TEXT_FILE],
    preRun: [(m) => m.FS.writeFile(TEXT_FILE, task.text)],
    print: () => {},
    printErr: (line: string) => stderr.push(line),
    instantiateWasm(imports, done) {
      webAssembly.instantiate(module, imports).then(done);
      return {};
    },
  });
  try {
    return Buffer.from(instance.FS.readFile(WAV_FILE));
  } catch {
    throw new SpeechError(`espeak-ng (wasm) wrote no audio: ${stderr.join(' ').slice(0, 200)}`, 'rejected');
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
});
