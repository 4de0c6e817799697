import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultTutorReply } from './fake-gemini.js';
import { scheduledTimers } from './timers.js';

/** What the fake does with the next chat completion request. */
export type FakeOpenAiBehaviour =
  | {
      /** 200 with `body` as the message content (objects are JSON-encoded). */
      kind: 'reply';
      body: object | string;
      delayMs?: number;
      /** Streamed: the content in this many deltas (cut by UTF-16 units, so an emoji may be split). */
      chunks?: number;
      /** Streamed: cut the content at exactly these offsets instead (to split an escape, say). */
      cuts?: number[];
      /** Streamed: time between chunks. */
      intervalMs?: number;
      /** Reasoning the model does first, as DeepSeek R1 / Qwen3 servers send it: `reasoning_content`. */
      reasoning?: string;
      /** A `<think>…</think>` block written into the content before the answer. */
      think?: string;
      /** Streamed: a last chunk with `usage` and `choices: []` before `[DONE]`. */
      usage?: boolean;
    }
  /** `{"error":{message,type,code}}` with that HTTP status; `retryAfter` as a `retry-after` header. */
  | { kind: 'error'; status: number; message?: string; retryAfter?: string }
  /** Accepts the request and never answers (until the client gives up). */
  | { kind: 'hang' }
  /** 200 whose content is not JSON. */
  | { kind: 'garbage' }
  /** Starts answering (streamed: the first deltas of `body`; else half the JSON body) and drops the connection. */
  | { kind: 'truncate'; body: object | string };

export interface FakeOpenAiRequest {
  path: string;
  model: string;
  stream: boolean;
  /** The Authorization header, or null when none was sent. */
  authorization: string | null;
  body: any;
  receivedAt: number;
}

export interface FakeOpenAiLatency {
  /** Delay before the first token. */
  firstTokenMs: number;
  /** Streaming speed after the first token (a token ≈ 4 characters of JSON). */
  tokensPerSecond: number;
}

export interface FakeOpenAiOptions {
  port?: number;
  host?: string;
  default?: FakeOpenAiBehaviour | ((request: FakeOpenAiRequest) => FakeOpenAiBehaviour);
  latency?: FakeOpenAiLatency;
  /** Models listed by GET /v1/models and /api/tags (Ollama's). */
  models?: string[];
}

export interface FakeOpenAi {
  /** API root including `/v1`, for OPENAI_BASE_URL. */
  url: string;
  requests: FakeOpenAiRequest[];
  enqueue(...behaviours: FakeOpenAiBehaviour[]): void;
  setDefault(behaviour: FakeOpenAiBehaviour | ((request: FakeOpenAiRequest) => FakeOpenAiBehaviour)): void;
  /** Forgets requests and queued behaviours, and restores the default behaviour. */
  reset(): void;
  close(): Promise<void>;
}

/** The model name the fake answers as when none other is asked for. */
export const FAKE_OPENAI_MODEL = 'fake-chat-1';

/** The agent's variables for talking to this fake (after the system's defaults). */
export function openAiAgentEnv(fake: FakeOpenAi, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: 'test-key',
    OPENAI_MODEL: FAKE_OPENAI_MODEL,
    ...extra,
  };
}

const ERROR_TYPES: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
  500: { type: 'server_error', code: null },
  503: { type: 'server_error', code: null },
};

/** The text of a chat message's content (a string, or text parts). */
function textOf(content: any): string {
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? content.map((p: any) => p?.text ?? '').join('') : '';
}

/** The last user message of a chat completions body. */
export function lastUserMessage(body: any): string {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  return textOf(messages.findLast((m) => m?.role === 'user')?.content);
}

/** The system messages of a chat completions body, joined. */
export function systemPromptOf(body: any): string {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  return messages
    .filter((m) => m?.role === 'system' || m?.role === 'developer')
    .map((m) => textOf(m.content))
    .join('\n');
}

const defaultBehaviour = (request: FakeOpenAiRequest): FakeOpenAiBehaviour => ({
  kind: 'reply',
  body: defaultTutorReply(lastUserMessage(request.body)),
});

/**
 * A local server speaking OpenAI's chat completions as real servers do (`POST /v1/chat/completions`,
 * JSON or SSE `chat.completion.chunk`s ending in `data: [DONE]`, `{"error":{message,type,code}}`
 * bodies), so that the real `openai` SDK runs in tests. Streamed events are written in two halves
 * cut at the middle byte, so that a multi-byte character is split across network reads.
 */
export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const requests: FakeOpenAiRequest[] = [];
  const queue: FakeOpenAiBehaviour[] = [];
  const initialDefault = options.default ?? defaultBehaviour;
  let fallback = initialDefault;
  const timers = scheduledTimers();
  const later = timers.later;
  const models = options.models ?? [FAKE_OPENAI_MODEL];
  let served = 0;

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })),
      });
    }
    if (req.method === 'GET' && url.pathname === '/api/tags') {
      return sendJson(res, 200, { models: models.map((name) => ({ name, model: name })) });
    }
    if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions') {
      return sendError(res, 404, `Unknown request URL: ${req.method} ${url.pathname}`);
    }
    let body: { model?: unknown; stream?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      return sendError(res, 400, 'We could not parse the JSON body of your request.');
    }
    const request: FakeOpenAiRequest = {
      path: url.pathname,
      model: typeof body.model === 'string' ? body.model : '',
      stream: body.stream === true,
      authorization: (req.headers.authorization as string | undefined) ?? null,
      body,
      receivedAt: Date.now(),
    };
    requests.push(request);
    if (!request.model) return sendError(res, 400, 'you must provide a model parameter');
    const behaviour = queue.shift() ?? (typeof fallback === 'function' ? fallback(request) : fallback);
    const id = `chatcmpl-fake${++served}`;
    const created = Math.floor(Date.now() / 1000);
    let closed = false;
    res.on('close', () => {
      closed = true;
    });

    if (behaviour.kind === 'hang') return; // the socket stays open until the client aborts or the server closes
    if (behaviour.kind === 'error') {
      return sendError(res, behaviour.status, behaviour.message ?? `fake error ${behaviour.status}`, {
        ...(behaviour.retryAfter ? { 'retry-after': behaviour.retryAfter } : {}),
      });
    }
    const reply = behaviour.kind === 'garbage' ? { kind: 'reply' as const, body: 'I am not JSON {{{' } : behaviour;
    const answer = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const spec = reply.kind === 'reply' ? reply : { kind: 'reply' as const, body: answer };
    const content = spec.think !== undefined ? `<think>${spec.think}</think>\n\n${answer}` : answer;
    const truncated = behaviour.kind === 'truncate';
    const delayMs = spec.delayMs ?? options.latency?.firstTokenMs ?? 0;

    if (!request.stream) {
      const streamMs = options.latency ? (content.length / 4 / options.latency.tokensPerSecond) * 1000 : 0;
      const completion = JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model: request.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content,
              ...(spec.reasoning !== undefined ? { reasoning_content: spec.reasoning } : {}),
              refusal: null,
            },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: usage(content),
        system_fingerprint: 'fp_fake',
      });
      later(delayMs + streamMs, () => {
        if (closed) return;
        if (!truncated) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(completion);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(completion.slice(0, Math.floor(completion.length / 2)));
        later(50, () => res.destroy()); // once what was written has left
      });
      return;
    }

    const chunk = (delta: object, finishReason: string | null = null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: request.model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
    const events: object[] = [chunk({ role: 'assistant', content: '' })];
    if (spec.reasoning !== undefined) {
      for (const piece of split(spec.reasoning, undefined, 3, undefined))
        events.push(chunk({ reasoning_content: piece }));
    }
    const pieces = split(content, spec.cuts, spec.chunks, options.latency);
    for (const piece of truncated ? pieces.slice(0, Math.max(1, Math.floor(pieces.length / 2))) : pieces)
      events.push(chunk({ content: piece }));
    if (!truncated) {
      events.push(chunk({}, 'stop'));
      if (spec.usage) {
        events.push({
          id,
          object: 'chat.completion.chunk',
          created,
          model: request.model,
          choices: [],
          usage: usage(content),
        });
      }
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    let at = delayMs;
    events.forEach((event, index) => {
      // As fast as the model writes: the text a delta carries (≈ 4 characters a token).
      if (index > 0 && options.latency) at += (deltaText(event).length / 4 / options.latency.tokensPerSecond) * 1000;
      if (index > 0 && spec.intervalMs) at += spec.intervalMs;
      later(at, () => {
        if (closed) return;
        writeSplit(res, `data: ${JSON.stringify(event)}\n\n`);
        if (index < events.length - 1) return;
        if (truncated)
          later(50, () => res.destroy()); // once what was written has left
        else res.end('data: [DONE]\n\n');
      });
    });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/v1`,
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

/** The text a chunk carries (content or reasoning). */
function deltaText(event: object): string {
  const delta = (event as { choices?: { delta?: { content?: string; reasoning_content?: string } }[] }).choices?.[0]
    ?.delta;
  return `${delta?.content ?? ''}${delta?.reasoning_content ?? ''}`;
}

function usage(content: string) {
  const completion = Math.ceil(content.length / 4);
  return { prompt_tokens: 10, completion_tokens: completion, total_tokens: 10 + completion };
}

/** The content's deltas: at `cuts`, or in `chunks` pieces, or ~4-token pieces when streaming speed is set. */
function split(text: string, cuts: number[] | undefined, chunks: number | undefined, latency?: FakeOpenAiLatency) {
  if (cuts) {
    const at = [0, ...cuts.filter((c) => c > 0 && c < text.length).sort((a, b) => a - b), text.length];
    return at.slice(1).map((end, i) => text.slice(at[i], end));
  }
  const count = chunks ?? (latency ? Math.max(1, Math.ceil(text.length / 16)) : 3);
  const size = Math.max(1, Math.ceil(text.length / count));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces.length > 0 ? pieces : [''];
}

/** Writes an SSE event in two network writes cut at its middle byte (often inside a UTF-8 character). */
function writeSplit(res: ServerResponse, event: string): void {
  const bytes = Buffer.from(event, 'utf8');
  const middle = Math.floor(bytes.length / 2);
  res.write(bytes.subarray(0, middle));
  res.write(bytes.subarray(middle));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const { type, code } = ERROR_TYPES[status] ?? { type: 'api_error', code: null };
  sendJson(res, status, { error: { message, type, param: null, code } }, headers);
}
