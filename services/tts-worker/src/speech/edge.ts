import { MsEdgeTTS, OUTPUT_FORMAT } from 'msedge-tts';
import {
  SpeechError,
  type SpeechRequest,
  type SpeechResult,
  type SpeechSynthesizer,
  type WordBoundary,
} from './types.js';

export interface EdgeOptions {
  /** Replaces Edge's read-aloud WebSocket endpoint (EDGE_TTS_URL). */
  endpoint?: string;
  /** Time allowed for one synthesis, connect included. */
  timeoutMs: number;
}

const TICKS_PER_MS = 10_000;

/** msedge-tts puts the text into SSML as is; unescaped `<` or `&` would break the document. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

interface EdgeSocket {
  onmessage: unknown;
  onerror: unknown;
  onclose: unknown;
  terminate?: () => void;
  close: () => void;
}

/**
 * Microsoft Edge's read-aloud voices through msedge-tts: one WebSocket per synthesis (reusing one
 * is reported to get clients throttled), a hard timeout (the library has none), and every failure
 * turned into a SpeechError so a turn can go on without audio.
 */
export class EdgeSpeechSynthesizer implements SpeechSynthesizer {
  readonly name = 'edge';

  constructor(private readonly options: EdgeOptions) {
    // The library reads its endpoint from a static; it is process-wide configuration anyway.
    // It is private in the typings but a plain writable static: the library's only endpoint seam.
    if (options.endpoint) (MsEdgeTTS as unknown as { WSS_URL: string }).WSS_URL = options.endpoint;
  }

  async synthesize(request: SpeechRequest, signal: AbortSignal): Promise<SpeechResult> {
    const tts = new MsEdgeTTS();
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const stop = AbortSignal.any([signal, timeout]);
    const chunks: Buffer[] = [];
    const wordBoundaries: WordBoundary[] = [];
    const startedAt = performance.now();
    let firstByteMs: number | undefined;

    const synthesis = (async () => {
      await tts.setMetadata(request.voice, OUTPUT_FORMAT.AUDIO_24KHZ_48KBITRATE_MONO_MP3, {
        wordBoundaryEnabled: true,
      });
      if (stop.aborted) return;
      const { audioStream, metadataStream } = tts.toStream(escapeXml(request.text), request.prosody);
      metadataStream?.on('error', () => {});
      metadataStream?.on('data', (data: Buffer) => wordBoundaries.push(...parseBoundaries(data)));
      for await (const chunk of audioStream) {
        firstByteMs ??= performance.now() - startedAt;
        chunks.push(chunk as Buffer);
      }
    })();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(stop.reason);
      stop.addEventListener('abort', onAbort, { once: true });
    });

    try {
      await Promise.race([synthesis, aborted]);
    } catch (error) {
      if (signal.aborted) throw new SpeechError('speech was cancelled', 'aborted', { cause: error });
      if (timeout.aborted)
        throw new SpeechError(`no complete audio within ${this.options.timeoutMs} ms`, 'timeout', { cause: error });
      throw classify(error);
    } finally {
      if (onAbort) stop.removeEventListener('abort', onAbort);
      synthesis.catch(() => {}); // settled or abandoned: its late failure is not ours to report
      detach(tts);
    }
    const audio = Buffer.concat(chunks);
    if (audio.length === 0) throw new SpeechError('Edge returned no audio', 'empty');
    return { audio, format: 'mp3', wordBoundaries, firstByteMs };
  }
}

/**
 * Closes the library's socket after muting its handlers: a message arriving for a stream the
 * library already deleted would otherwise throw inside its handler and crash the process.
 */
function detach(tts: MsEdgeTTS): void {
  const ws = (tts as unknown as { _ws?: EdgeSocket })._ws;
  if (!ws) return;
  const ignore = () => {};
  ws.onmessage = ignore;
  ws.onerror = ignore;
  ws.onclose = ignore;
  try {
    if (ws.terminate) ws.terminate();
    else ws.close();
  } catch {
    // already closed
  }
}

function classify(error: unknown): SpeechError {
  const message = error instanceof Error ? error.message : String(error);
  const status = /Unexpected server response: (\d+)/.exec(message)?.[1];
  if (status) return new SpeechError(`Edge refused the connection (HTTP ${status})`, 'rejected', { cause: error });
  if (/no turn\.end|truncated/i.test(message)) {
    return new SpeechError('Edge closed the connection before the audio was complete', 'truncated', { cause: error });
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up/i.test(message)) {
    return new SpeechError(`cannot reach Edge: ${message}`, 'network', { cause: error });
  }
  return new SpeechError(`Edge speech failed: ${message}`, 'rejected', { cause: error });
}

/** Word boundaries from an `audio.metadata` message (offsets in 100-ns ticks). */
function parseBoundaries(data: Buffer): WordBoundary[] {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as {
      Metadata?: { Type: string; Data: { Offset: number; Duration: number; text: { Text: string } } }[];
    };
    return (parsed.Metadata ?? [])
      .filter((m) => m.Type === 'WordBoundary')
      .map((m) => ({
        text: m.Data.text.Text,
        offsetMs: m.Data.Offset / TICKS_PER_MS,
        durationMs: m.Data.Duration / TICKS_PER_MS,
      }));
  } catch {
    return []; // boundaries are a nicety; never fail speech over them
  }
}
