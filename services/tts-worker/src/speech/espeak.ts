import { spawn } from 'node:child_process';
import {
  type Prosody,
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
  /** espeak-ng voice; `cmn-latn-pinyin` reads Chinese characters as Mandarin (`cmn` spells them out). */
  voice?: string;
}

/** espeak-ng's defaults, which the SSML-style percentages are relative to. */
const BASE_WORDS_PER_MINUTE = 160;
const BASE_AMPLITUDE = 100;
const BASE_PITCH = 50;
/** Edge's pitch offsets are in Hz around a ~200 Hz voice; one espeak pitch step is about 2 Hz there. */
const HZ_PER_PITCH_STEP = 2;
export const MP3_BITRATE_KBPS = 48;
/** Reads Chinese characters as Mandarin (`cmn` spells many of them out as English letters). */
export const ESPEAK_VOICE = 'cmn-latn-pinyin';
/** Sample level below which audio counts as silence (of 32767). */
const SILENCE_LEVEL = 64;
const INSTALL_HINT = 'apt-get install espeak-ng lame';

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, Math.round(value)));

/** `'+10%'` with unit `%` → 10; a missing or different unit → 0 (the neutral voice). */
function signedValue(value: string, unit: '%' | 'Hz'): number {
  const match = /^([+-]?\d+(?:\.\d+)?)(%|Hz)$/.exec(value.trim());
  return match && match[2] === unit ? Number(match[1]) : 0;
}

/** SSML-style prosody as espeak-ng flags: words per minute, amplitude (0-200), pitch (0-99). */
export function espeakFlags(prosody: Prosody): string[] {
  const rate = clamp(BASE_WORDS_PER_MINUTE * (1 + signedValue(prosody.rate, '%') / 100), 80, 450);
  const amplitude = clamp(BASE_AMPLITUDE * (1 + signedValue(prosody.volume, '%') / 100), 0, 200);
  const pitchSteps =
    signedValue(prosody.pitch, 'Hz') / HZ_PER_PITCH_STEP + (BASE_PITCH * signedValue(prosody.pitch, '%')) / 100;
  const pitch = clamp(BASE_PITCH + pitchSteps, 0, 99);
  return ['-s', String(rate), '-a', String(amplitude), '-p', String(pitch)];
}

export interface Pcm {
  /** Signed 16-bit little-endian mono samples. */
  samples: Buffer;
  sampleRate: number;
}

/**
 * The samples inside espeak-ng's WAV. It writes to a pipe, so its header cannot know the sizes and
 * claims 0x7ffff000 bytes of data: the data chunk is clamped to what actually arrived.
 */
export function pcmFromWav(wav: Buffer): Pcm {
  if (wav.length < 12 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE')
    throw new SpeechError('espeak-ng produced no WAV audio', 'empty');
  let sampleRate = 0;
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString('ascii', at, at + 4);
    const end = Math.min(wav.length, at + 8 + wav.readUInt32LE(at + 4));
    if (id === 'fmt ' && end - at >= 24) {
      const channels = wav.readUInt16LE(at + 10);
      const bitsPerSample = wav.readUInt16LE(at + 22);
      if (channels !== 1 || bitsPerSample !== 16)
        throw new SpeechError(
          `espeak-ng WAV is ${channels} channels of ${bitsPerSample} bits, not 16-bit mono`,
          'rejected',
        );
      sampleRate = wav.readUInt32LE(at + 12);
    } else if (id === 'data') {
      if (sampleRate === 0) break;
      // Whole samples only: a cut-off byte would shift lame's reading of every sample after it.
      return { samples: wav.subarray(at + 8, end - ((end - at - 8) % 2)), sampleRate };
    }
    at = end + ((end - at) % 2); // chunks are word-aligned
  }
  throw new SpeechError('espeak-ng WAV has no format or data chunk', 'empty');
}

/** Whether 16-bit samples are all (near) zero: for nothing to say, espeak-ng may write a little silence. */
export function isSilent(samples: Buffer): boolean {
  for (let at = 0; at + 1 < samples.length; at += 2)
    if (Math.abs(samples.readInt16LE(at)) > SILENCE_LEVEL) return false;
  return true;
}

/**
 * Runs a program with `input` on stdin and resolves with its stdout, all in memory. The signal
 * kills it; it settles only once the child has exited (and been reaped), so none outlives a call.
 */
function run(path: string, args: string[], input: Buffer, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const child = spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    let spawnError: NodeJS.ErrnoException | undefined;
    // SIGKILL: the child holds nothing worth cleaning up, and must not outlive a cancelled turn.
    const kill = () => child.kill('SIGKILL');
    signal.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 1_000) stderr += chunk.toString();
    });
    child.stdin.on('error', () => {}); // EPIPE when the child exits before reading it all: its exit says why
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError ??= error;
    });
    // 'close' comes after 'error' too (a missing binary exits with -2), so every path ends here.
    child.on('close', (code, killedBy) => {
      signal.removeEventListener('abort', kill);
      if (signal.aborted) reject(signal.reason);
      else if (spawnError?.code === 'ENOENT')
        reject(new SpeechError(`${path} is not installed (${INSTALL_HINT})`, 'rejected', { cause: spawnError }));
      else if (spawnError)
        reject(new SpeechError(`${path} failed to start: ${spawnError.message}`, 'rejected', { cause: spawnError }));
      else if (code === 0) resolve(Buffer.concat(stdout));
      else {
        const how = code === null ? `was killed by ${killedBy}` : `exited with ${code}`;
        reject(new SpeechError(`${path} ${how}: ${stderr.trim().slice(0, 200)}`, 'rejected'));
      }
    });
    child.stdin.end(input);
  });
}

const words = new Intl.Segmenter('zh', { granularity: 'word' });
/** Share of a syllable that espeak-ng pauses at a punctuation mark. */
const PAUSE_WEIGHT = 0.5;

/** Rough syllables in a word: one per Chinese character, about one per three letters or digits otherwise. */
function syllables(word: string): number {
  const han = word.match(/\p{Script=Han}/gu)?.length ?? 0;
  return han > 0 ? han : Math.ceil([...word].length / 3);
}

/**
 * Word timings for a synthesis that reports none: an ESTIMATE that spreads the audio's duration
 * over the words (as Intl.Segmenter cuts Chinese) in proportion to their syllables, with a short
 * pause at each punctuation mark. Good enough to highlight the words as she speaks, no more.
 */
export function estimateBoundaries(text: string, durationMs: number): WordBoundary[] {
  const segments = [...words.segment(text)]
    .filter((s) => s.isWordLike || /[\p{P}\p{S}]/u.test(s.segment))
    .map((s) => ({
      text: s.segment,
      isWord: s.isWordLike === true,
      weight: s.isWordLike ? syllables(s.segment) : PAUSE_WEIGHT,
    }));
  if (!segments.some((s) => s.isWord)) return [];
  const msPerWeight = durationMs / segments.reduce((sum, s) => sum + s.weight, 0);
  const boundaries: WordBoundary[] = [];
  let offsetMs = 0;
  for (const segment of segments) {
    const spanMs = segment.weight * msPerWeight;
    if (segment.isWord)
      boundaries.push({ text: segment.text, offsetMs: Math.round(offsetMs), durationMs: Math.round(spanMs) });
    offsetMs += spanMs;
  }
  return boundaries;
}

/**
 * Offline speech through the system's programs: espeak-ng with the `cmn-latn-pinyin` voice,
 * encoded to mp3 by lame, entirely through pipes (no temporary files). Robotic, but the learner
 * still hears her. Used when those (Debian) packages are installed and faster than the WASM voice.
 * espeak's WAV is buffered (it takes ~20 ms) and its samples handed to lame as raw PCM: this way
 * a bogus header or silent output is caught before encoding.
 */
export class EspeakSpeechSynthesizer implements SpeechSynthesizer {
  readonly name = 'espeak';
  readonly engine = 'system';

  constructor(private readonly options: EspeakOptions) {}

  async synthesize(request: SpeechRequest, signal: AbortSignal): Promise<SpeechResult> {
    return synthesizeWithin(this.options.timeoutMs, signal, 'espeak', async (stop) => {
      // The text goes through stdin, never argv: nothing in it (a leading '-') can become an option.
      const wav = await run(
        this.options.espeakPath ?? 'espeak-ng',
        ['-v', this.options.voice ?? ESPEAK_VOICE, ...espeakFlags(request.prosody), '--stdin', '--stdout'],
        Buffer.from(request.text),
        stop,
      );
      const pcm = pcmFromWav(wav);
      if (isSilent(pcm.samples)) throw new SpeechError('espeak-ng produced no audio', 'empty');
      const audio = await run(this.options.lamePath ?? 'lame', lameRawPcmArgs(pcm.sampleRate), pcm.samples, stop);
      if (audio.length === 0) throw new SpeechError('lame produced no mp3', 'empty');
      return spokenResult(request.text, audio, pcm.samples.length / 2, pcm.sampleRate);
    });
  }
}

/** An offline voice's result: its mp3 and word timings estimated over the speech's duration. */
export function spokenResult(text: string, audio: Buffer, sampleCount: number, sampleRate: number): SpeechResult {
  const durationMs = (sampleCount / sampleRate) * 1000;
  return { audio, format: 'mp3', wordBoundaries: estimateBoundaries(text, durationMs) };
}

/**
 * Runs an offline synthesis with its own timeout on top of the caller's signal, and says which
 * of the two stopped it: the caller (`aborted`) or the clock (`timeout`).
 */
export async function synthesizeWithin<T>(
  timeoutMs: number,
  signal: AbortSignal,
  provider: string,
  work: (stop: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await work(AbortSignal.any([signal, timeout]));
  } catch (error) {
    if (signal.aborted) throw new SpeechError('speech was cancelled', 'aborted', { cause: error });
    if (timeout.aborted) throw new SpeechError(`no audio within ${timeoutMs} ms`, 'timeout', { cause: error });
    if (error instanceof SpeechError) throw error;
    throw new SpeechError(`${provider} speech failed: ${String(error)}`, 'rejected', { cause: error });
  }
}

/** lame reading 16-bit mono PCM from stdin and writing a constant-bitrate mp3 to stdout. */
function lameRawPcmArgs(sampleRate: number): string[] {
  const format = ['-r', '-s', String(sampleRate / 1000), '--bitwidth', '16', '--signed', '--little-endian', '-m', 'm'];
  return ['--quiet', ...format, '-b', String(MP3_BITRATE_KBPS), '-', '-'];
}
