/** Prosody as SSML percentages, e.g. `{ rate: '+5%', volume: '-5%', pitch: '+0Hz' }`. */
export interface Prosody {
  rate: string;
  volume: string;
  pitch: string;
}

export interface SpeechRequest {
  text: string;
  voice: string;
  prosody: Prosody;
}

/** A spoken word: where it is in the audio and which characters of the text it covers. */
export interface WordBoundary {
  text: string;
  offsetMs: number;
  durationMs: number;
}

export interface SpeechResult {
  /** Complete mp3 bytes. */
  audio: Buffer;
  format: 'mp3';
  wordBoundaries: WordBoundary[];
  /** Milliseconds from the request to the first audio byte, when the provider streams. */
  firstByteMs?: number;
}

/** Text to speech, one utterance at a time. */
export interface SpeechSynthesizer {
  readonly name: string;
  synthesize(request: SpeechRequest, signal: AbortSignal): Promise<SpeechResult>;
  /** Gets ready to speak before the first request (chooses and warms the offline engine). */
  prepare?(): Promise<void>;
  /** Releases what the provider holds (the WASM voice's threads); called once, at shutdown. */
  close?(): Promise<void>;
}

export type SpeechErrorKind = 'timeout' | 'rejected' | 'truncated' | 'network' | 'empty' | 'aborted';

export class SpeechError extends Error {
  override name = 'SpeechError';
  constructor(
    message: string,
    readonly kind: SpeechErrorKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
