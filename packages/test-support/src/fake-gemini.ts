import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scheduledTimers } from './timers.js';

/** What the fake does with the next request. */
export type FakeGeminiBehaviour =
  /** 200 with `body` as the model's text (objects are JSON-encoded); SSE splits it into `chunks`, `intervalMs` apart. */
  | { kind: 'reply'; body: object | string; delayMs?: number; chunks?: number; intervalMs?: number }
  /** `{"error":{code,message,status}}` with that HTTP status, as Google's API answers. */
  | { kind: 'error'; status: number; message?: string }
  /** Accepts the request and never answers (until the client gives up). */
  | { kind: 'hang' }
  /** 200 whose model text is not JSON. */
  | { kind: 'garbage' };

export interface FakeGeminiRequest {
  model: string;
  method: 'generateContent' | 'streamGenerateContent';
  apiKey: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: the request body is whatever the SDK sent
  body: any;
  receivedAt: number;
}

export interface FakeGeminiLatency {
  /** Delay before the first token. */
  firstTokenMs: number;
  /** Streaming speed after the first token (a token ≈ 4 characters of JSON). */
  tokensPerSecond: number;
}

export interface FakeGeminiOptions {
  port?: number;
  host?: string;
  default?: FakeGeminiBehaviour | ((request: FakeGeminiRequest) => FakeGeminiBehaviour);
  latency?: FakeGeminiLatency;
}

export interface FakeGemini {
  /** API root, for GEMINI_BASE_URL. */
  url: string;
  requests: FakeGeminiRequest[];
  enqueue(...behaviours: FakeGeminiBehaviour[]): void;
  setDefault(behaviour: FakeGeminiBehaviour | ((request: FakeGeminiRequest) => FakeGeminiBehaviour)): void;
  /** Forgets requests and queued behaviours, and restores the default behaviour. */
  reset(): void;
  close(): Promise<void>;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** The last user message's text in a generateContent body. */
// biome-ignore lint/suspicious/noExplicitAny: request bodies are untyped JSON
export function lastUserText(body: any): string {
  const contents = Array.isArray(body?.contents) ? body.contents : [];
  for (let i = contents.length - 1; i >= 0; i--) {
    const content = contents[i];
    if (content?.role === 'user' || content?.role === undefined) {
      // biome-ignore lint/suspicious/noExplicitAny: see above
      return (content?.parts ?? []).map((p: any) => p?.text ?? '').join('');
    }
  }
  return '';
}

/** A valid, in-character XiaoYue reply that echoes the learner's message. */
export function defaultTutorReply(userMessage: string): object {
  const said = userMessage.trim().slice(0, 60) || '……';
  return {
    emotion: 'happy',
    chinese_content: `师兄说"${said}"？小师妹记住了！`,
    pinyin: `Shīxiōng shuō "${said}"? Xiǎo shīmèi jìzhù le!`,
    vietnamese_display: `Sư huynh nói "${said}" à? Tiểu sư muội nhớ rồi!`,
    action: 'none',
    quiz_list: [],
    user_tone: 'polite',
    thought: 'fake-gemini echo',
  };
}

const defaultBehaviour = (request: FakeGeminiRequest): FakeGeminiBehaviour => ({
  kind: 'reply',
  body: defaultTutorReply(lastUserText(request.body)),
});

function responseFor(text: string, model: string, finishReason?: string) {
  return {
    candidates: [
      { content: { role: 'model', parts: [{ text }] }, index: 0, ...(finishReason ? { finishReason } : {}) },
    ],
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: Math.ceil(text.length / 4), totalTokenCount: 10 },
    modelVersion: model,
  };
}

/**
 * A local server answering the Gemini REST API (`v1beta` generateContent and
 * streamGenerateContent?alt=sse) so that the real @google/genai SDK runs in tests.
 */
export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const requests: FakeGeminiRequest[] = [];
  const queue: FakeGeminiBehaviour[] = [];
  const initialDefault = options.default ?? defaultBehaviour;
  let fallback = initialDefault;
  const timers = scheduledTimers();
  const later = timers.later;

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(url.pathname);
    const raw = await readBody(req);
    if (req.method !== 'POST' || !match) {
      return sendJson(res, 404, {
        error: { code: 404, message: `no route ${req.method} ${url.pathname}`, status: 'NOT_FOUND' },
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendJson(res, 400, { error: { code: 400, message: 'Invalid JSON payload', status: 'INVALID_ARGUMENT' } });
    }
    const request: FakeGeminiRequest = {
      model: match[1] as string,
      method: match[2] as FakeGeminiRequest['method'],
      apiKey: (req.headers['x-goog-api-key'] as string | undefined) ?? null,
      body,
      receivedAt: Date.now(),
    };
    requests.push(request);
    const behaviour = queue.shift() ?? (typeof fallback === 'function' ? fallback(request) : fallback);
    const streaming = request.method === 'streamGenerateContent';
    let closed = false;
    res.on('close', () => {
      closed = true;
    });

    switch (behaviour.kind) {
      case 'hang':
        return; // the socket stays open until the client aborts or the server closes
      case 'error': {
        const status = STATUS_NAMES[behaviour.status] ?? 'UNKNOWN';
        return sendJson(res, behaviour.status, {
          error: { code: behaviour.status, message: behaviour.message ?? `fake ${status}`, status },
        });
      }
      case 'garbage':
      case 'reply': {
        const text =
          behaviour.kind === 'garbage'
            ? 'I am not JSON {{{'
            : typeof behaviour.body === 'string'
              ? behaviour.body
              : JSON.stringify(behaviour.body);
        const delayMs =
          (behaviour.kind === 'reply' ? behaviour.delayMs : undefined) ?? options.latency?.firstTokenMs ?? 0;
        if (!streaming) {
          const streamMs = options.latency ? (text.length / 4 / options.latency.tokensPerSecond) * 1000 : 0;
          later(delayMs + streamMs, () => {
            if (!closed) sendJson(res, 200, responseFor(text, request.model, 'STOP'));
          });
          return;
        }
        const pieces = splitText(text, behaviour.kind === 'reply' ? behaviour.chunks : undefined, options.latency);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let at = delayMs;
        pieces.forEach((piece, index) => {
          if (index > 0 && options.latency) at += (piece.length / 4 / options.latency.tokensPerSecond) * 1000;
          if (index > 0 && behaviour.kind === 'reply' && behaviour.intervalMs) at += behaviour.intervalMs;
          const last = index === pieces.length - 1;
          later(at, () => {
            if (closed) return;
            res.write(`data: ${JSON.stringify(responseFor(piece, request.model, last ? 'STOP' : undefined))}\r\n\r\n`);
            if (last) res.end();
          });
        });
        return;
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
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
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Splits the model's text into SSE fragments: `chunks` pieces, or ~4-token pieces when streaming speed is set. */
function splitText(text: string, chunks: number | undefined, latency: FakeGeminiLatency | undefined): string[] {
  const count = chunks ?? (latency ? Math.max(1, Math.ceil(text.length / 16)) : 3);
  const size = Math.max(1, Math.ceil(text.length / count));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces.length > 0 ? pieces : [''];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}
