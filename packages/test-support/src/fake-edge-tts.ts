import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { scheduledTimers } from './timers.js';

/** What the fake does with the next synthesis. */
export type FakeEdgeBehaviour =
  /** Normal synthesis, optionally slow: `delayMs` before the first audio, then `msPerChar`. */
  | { kind: 'speak'; delayMs?: number; msPerChar?: number }
  /** Refuses the WebSocket upgrade with this HTTP status (Microsoft's handshake changes look like 403). */
  | { kind: 'reject'; status: number }
  /** Accepts and never answers the SSML. */
  | { kind: 'hang' }
  /** Sends some audio, then closes the socket without `turn.end`. */
  | { kind: 'truncate' };

export interface FakeEdgeRequest {
  ssml: string;
  /** The text inside <prosody>, XML-unescaped. */
  text: string;
  voice: string;
  rate: string;
  volume: string;
  pitch: string;
  outputFormat: string;
  wordBoundaryEnabled: boolean;
  query: URLSearchParams;
  origin?: string;
}

export interface FakeEdgeTts {
  /** Read-aloud endpoint, for EDGE_TTS_URL. */
  url: string;
  requests: FakeEdgeRequest[];
  enqueue(...behaviours: FakeEdgeBehaviour[]): void;
  setDefault(behaviour: FakeEdgeBehaviour): void;
  /** Forgets requests and queued behaviours, and restores the default behaviour. */
  reset(): void;
  close(): Promise<void>;
}

const PATH = '/consumer/speech/synthesize/readaloud/edge/v1';
/** 100-ns ticks per millisecond, Edge's unit for word boundaries. */
const TICKS_PER_MS = 10_000;

/**
 * Deterministic bytes the fake "speaks" for a text: an ID3 tag then MPEG-frame-shaped chunks
 * derived from the text, so a test can assert that exactly this audio reached the learner.
 * `realistic`: as many bytes as Edge's 48 kbit/s MP3 of the text would have (~10 frames of 288
 * bytes a character), for tests of what audio costs in memory.
 */
export function fakeAudioFor(text: string, size: 'small' | 'realistic' = 'small'): Buffer {
  const id3 = Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
  const frames: Buffer[] = [id3];
  const digest = createHash('sha256').update(text).digest();
  const characters = [...text].length;
  const frameCount = size === 'realistic' ? Math.max(4, 10 * characters) : Math.max(4, Math.min(40, characters));
  const frameBytes = size === 'realistic' ? 288 : 144;
  for (let i = 0; i < frameCount; i++) {
    const frame = Buffer.alloc(frameBytes, digest[i % digest.length] ?? 0);
    frame[0] = 0xff;
    frame[1] = 0xf3; // MPEG-2 layer III sync
    frame[2] = 0x64;
    frame[3] = 0xc4;
    frame.writeUInt16BE(i, 4);
    frames.push(frame);
  }
  return Buffer.concat(frames);
}

function xmlUnescape(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function attr(tag: string | undefined, name: string): string {
  return (tag && new RegExp(`${name}="([^"]*)"`).exec(tag)?.[1]) ?? '';
}

/** Splits text into "words" the way Edge reports Chinese: 1-2 characters, punctuation dropped. */
function words(text: string): string[] {
  const out: string[] = [];
  for (const run of text.split(/[\s\p{P}\p{S}]+/u).filter(Boolean)) {
    const chars = [...run];
    for (let i = 0; i < chars.length; i += 2) out.push(chars.slice(i, i + 2).join(''));
  }
  return out;
}

function textFrame(requestId: string, path: string, body = ''): string {
  const timestamp = new Date().toISOString();
  return `X-RequestId:${requestId}\r\nContent-Type:application/json; charset=utf-8\r\nX-Timestamp:${timestamp}\r\nPath:${path}\r\n\r\n${body}`;
}

function audioFrame(requestId: string, audio: Buffer): Buffer {
  const header = Buffer.from(`X-RequestId:${requestId}\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n`);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(header.length);
  return Buffer.concat([length, header, audio]);
}

/**
 * A local WebSocket server speaking Edge's read-aloud protocol (speech.config, ssml → turn.start,
 * response, audio.metadata, binary audio frames, turn.end) so the real msedge-tts library runs.
 */
export async function startFakeEdgeTts(
  options: { port?: number; host?: string; default?: FakeEdgeBehaviour; audio?: 'small' | 'realistic' } = {},
): Promise<FakeEdgeTts> {
  const initialDefault = options.default ?? { kind: 'speak' };
  let fallback: FakeEdgeBehaviour = initialDefault;
  const queue: FakeEdgeBehaviour[] = [];
  const requests: FakeEdgeRequest[] = [];
  const timers = scheduledTimers();
  const later = timers.later;

  const http = createServer((_req, res) => res.writeHead(426).end('WebSocket only'));
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname !== PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    // One synthesis per connection, as msedge-tts opens one socket per request.
    const behaviour = queue.shift() ?? fallback;
    if (behaviour.kind === 'reject') {
      socket.end(`HTTP/1.1 ${behaviour.status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, behaviour, url.searchParams, req.headers.origin));
  });

  function serve(ws: WebSocket, behaviour: FakeEdgeBehaviour, query: URLSearchParams, origin?: string): void {
    let outputFormat = '';
    let wordBoundaryEnabled = false;
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = data.toString();
      if (message.includes('Path:speech.config')) {
        const json = message.slice(message.indexOf('{'));
        try {
          const audio = JSON.parse(json).context.synthesis.audio;
          outputFormat = audio.outputFormat;
          wordBoundaryEnabled = String(audio.metadataoptions?.wordBoundaryEnabled) === 'true';
        } catch {
          // keep defaults: the real service ignores a malformed config too
        }
        return;
      }
      if (!message.includes('Path:ssml')) return;
      const requestId = /X-RequestId:([^\r\n]+)/.exec(message)?.[1] ?? '';
      const ssml = message.slice(message.indexOf('<speak'));
      const prosody = /<prosody[^>]*>/.exec(ssml)?.[0];
      const inner = /<prosody[^>]*>([\s\S]*?)<\/prosody>/.exec(ssml)?.[1] ?? '';
      const text = xmlUnescape(inner.trim());
      requests.push({
        ssml,
        text,
        voice: attr(/<voice[^>]*>/.exec(ssml)?.[0], 'name'),
        rate: attr(prosody, 'rate'),
        volume: attr(prosody, 'volume'),
        pitch: attr(prosody, 'pitch'),
        outputFormat,
        wordBoundaryEnabled,
        query,
        origin,
      });
      if (behaviour.kind === 'hang') return;
      respond(ws, requestId, text, behaviour, wordBoundaryEnabled);
    });
  }

  function respond(ws: WebSocket, requestId: string, text: string, behaviour: FakeEdgeBehaviour, boundaries: boolean) {
    const send = (payload: string | Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(payload);
    };
    const audio = fakeAudioFor(text, options.audio);
    const delayMs = behaviour.kind === 'speak' ? (behaviour.delayMs ?? 0) : 0;
    const totalMs = delayMs + (behaviour.kind === 'speak' ? (behaviour.msPerChar ?? 0) * [...text].length : 0);
    send(textFrame(requestId, 'turn.start', '{"context":{"serviceTag":"fake"}}'));
    send(textFrame(requestId, 'response', '{"context":{"serviceTag":"fake"},"audio":{"type":"inline"}}'));
    later(delayMs, () => {
      if (boundaries) {
        let offsetMs = 50;
        for (const word of words(text)) {
          const durationMs = 180 * [...word].length;
          const metadata = {
            Metadata: [
              {
                Type: 'WordBoundary',
                Data: {
                  Offset: offsetMs * TICKS_PER_MS,
                  Duration: durationMs * TICKS_PER_MS,
                  text: { Text: word, Length: word.length, BoundaryType: 'WordBoundary' },
                },
              },
            ],
          };
          send(textFrame(requestId, 'audio.metadata', JSON.stringify(metadata)));
          offsetMs += durationMs + 20;
        }
      }
      const chunkSize = Math.ceil(audio.length / 4);
      const first = audio.subarray(0, chunkSize);
      send(audioFrame(requestId, first));
      if (behaviour.kind === 'truncate') {
        ws.terminate();
        return;
      }
      later(Math.max(0, totalMs - delayMs), () => {
        for (let i = chunkSize; i < audio.length; i += chunkSize)
          send(audioFrame(requestId, audio.subarray(i, i + chunkSize)));
        send(audioFrame(requestId, Buffer.alloc(0)));
        send(textFrame(requestId, 'turn.end', '{}'));
      });
    });
  }

  await new Promise<void>((resolve) => http.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://${options.host ?? '127.0.0.1'}:${port}${PATH}`,
    requests,
    enqueue: (...behaviours) => void queue.push(...behaviours),
    setDefault: (behaviour) => {
      fallback = behaviour;
    },
    reset: () => {
      requests.length = 0;
      queue.length = 0;
      fallback = initialDefault;
    },
    close: async () => {
      timers.cancelAll();
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
