import { spawn } from 'node:child_process';
import {
  SpeechError,
  type SpeechRequest,
  type SpeechResult,
  type SpeechSynthesizer,
  type WordBoundary,
} from './types.js';

export interface EspeakOptions {
  /** Time allowed for one synthesis. */
  timeoutMs: number;
  espeakPath?: string;
  lamePath?: string;
  /** espeak-ng voice; `cmn-latn-pinyin` reads Chinese characters as Mandarin. */
  voice?: string;
}

const BASE_WORDS_PER_MINUTE = 160;
const BASE_AMPLITUDE = 100;
const BASE_PITCH = 50;
const MISSING_HINT = 'is not installed (apt-get install espeak-ng lame)';

/** `+10%` → 10; anything unparseable → 0. */
function percent(value: string): number {
  const match = /^([+-]?\d+(?:\.\d+)?)%$/.exec(value.trim());
  return match ? Number(match[1]) : 0;
}

/** SSML prosody as espeak-ng flags: words per minute, amplitude (0-200), pitch (0-99). */
export function espeakFlags(prosody: SpeechRequest['prosody']): string[] {
  const rate = Math.round(BASE_WORDS_PER_MINUTE * (1 + percent(prosody.rate) / 100));
  const amplitude = Math.min(200, Math.max(0, Math.round(BASE_AMPLITUDE * (1 + percent(prosody.volume) / 100))));
  // Edge pitch is in Hz around a ~200 Hz voice: 2 Hz per espeak pitch step is close enough.
  const hz = Number(/^([+-]?\d+)Hz$/.exec(prosody.pitch.trim())?.[1] ?? 0);
  const pitch = Math.min(99, Math.max(0, BASE_PITCH + Math.round(hz / 2)));
  return ['-s', String(Math.max(80, rate)), '-a', String(amplitude), '-p', String(pitch)];
}

interface Pcm {
  samples: Buffer;
  sampleRate: number;
}

/**
 * The PCM inside espeak-ng's WAV. Its header claims a data size of 0x7ffff000 (it streams), so
 * the real size is whatever follows the `data` chunk header.
 */
export function pcmFromWav(wav: Buffer): Pcm {
  if (wav.length < 44 || wav.toString('ascii', 0, 4) !== 'RIFF')
    throw new SpeechError('espeak-ng produced no WAV audio', 'empty');
  const sampleRate = wav.readUInt32LE(24);
  const dataAt = wav.indexOf('data', 12, 'ascii');
  if (dataAt < 0) throw new SpeechError('espeak-ng WAV has no data chunk', 'empty');
  return { samples: wav.subarray(dataAt + 8), sampleRate };
}

/** Runs a program with `input` on stdin and resolves with its stdout, all in memory. */
function run(path: string, args: string[], input: Buffer, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdin.on('error', () => {}); // EPIPE when the child exits early: reported via 'close'
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') reject(error);
      else if (error.code === 'ENOENT')
        reject(new SpeechError(`${path} ${MISSING_HINT}`, 'rejected', { cause: error }));
      else reject(new SpeechError(`${path} failed: ${error.message}`, 'rejected', { cause: error }));
    });
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else if (code !== null)
        reject(new SpeechError(`${path} exited with ${code}: ${err.trim().slice(0, 200)}`, 'rejected'));
    });
    child.stdin.end(input);
  });
}

/** Spreads the audio's duration over the text's characters: espeak reports no word timings. */
export function estimateBoundaries(text: string, durationMs: number): WordBoundary[] {
  const words = text.split(/[\s\p{P}\p{S}]+/u).filter(Boolean);
  const characters = words.reduce((sum, word) => sum + [...word].length, 0);
  if (characters === 0) return [];
  const perCharacter = durationMs / characters;
  let offsetMs = 0;
  return words.map((word) => {
    const durationForWord = [...word].length * perCharacter;
    const boundary = { text: word, offsetMs: Math.round(offsetMs), durationMs: Math.round(durationForWord) };
    offsetMs += durationForWord;
    return boundary;
  });
}

/**
 * Offline speech: Debian's espeak-ng with the `cmn-latn-pinyin` voice, encoded to mp3 by lame,
 * entirely through pipes (no temporary files). Robotic, but the learner still hears her.
 */
export class EspeakSpeechSynthesizer implements SpeechSynthesizer {
  readonly name = 'espeak';

  constructor(private readonly options: EspeakOptions) {}

  async synthesize(request: SpeechRequest, signal: AbortSignal): Promise<SpeechResult> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const stop = AbortSignal.any([signal, timeout]);
    const espeak = this.options.espeakPath ?? 'espeak-ng';
    const lame = this.options.lamePath ?? 'lame';
    try {
      // Text goes through stdin, so nothing in it can be read as an option.
      const wav = await run(
        espeak,
        ['-v', this.options.voice ?? 'cmn-latn-pinyin', ...espeakFlags(request.prosody), '--stdin', '--stdout'],
        Buffer.from(request.text.replace(/\s+/g, ' ')),
        stop,
      );
      const pcm = pcmFromWav(wav);
      if (pcm.samples.length === 0) throw new SpeechError('espeak-ng produced silence', 'empty');
      const khz = String(pcm.sampleRate / 1000);
      const audio = await run(
        lame,
        [
          '--quiet',
          '-r',
          '-s',
          khz,
          '--bitwidth',
          '16',
          '--signed',
          '--little-endian',
          '-m',
          'm',
          '-b',
          '48',
          '-',
          '-',
        ],
        pcm.samples,
        stop,
      );
      if (audio.length === 0) throw new SpeechError('lame produced no mp3', 'empty');
      const durationMs = (pcm.samples.length / 2 / pcm.sampleRate) * 1000;
      return { audio, format: 'mp3', wordBoundaries: estimateBoundaries(request.text, durationMs) };
    } catch (error) {
      if (error instanceof SpeechError) throw error;
      if (signal.aborted) throw new SpeechError('speech was cancelled', 'aborted', { cause: error });
      if (timeout.aborted)
        throw new SpeechError(`no audio within ${this.options.timeoutMs} ms`, 'timeout', { cause: error });
      throw new SpeechError(`espeak speech failed: ${String(error)}`, 'rejected', { cause: error });
    }
  }
}
