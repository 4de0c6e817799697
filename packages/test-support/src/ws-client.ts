import { randomBytes } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import WebSocket from 'ws';
import { type Frame, FrameLog } from './frame-log.js';

export type { Frame } from './frame-log.js';

/**
 * A raw WebSocket client for tests: keeps every frame it receives and lets a test wait for the
 * next frame matching a condition. For tests of a service's own protocol handling; end-to-end
 * tests connect through @xiaoyue/client (e2e/src/learner.ts).
 */
export class TestClient {
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly log = new FrameLog();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.log.push(JSON.parse(data.toString()) as Frame);
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.log.end();
      });
    });
  }

  static async connect(
    url: string,
    options: { protocols?: string[]; headers?: Record<string, string> } = {},
  ): Promise<TestClient> {
    const socket = new WebSocket(url, options.protocols, { headers: options.headers });
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('close', () => resolve());
    });
    return client;
  }

  /** Every frame received, in order. */
  get frames(): readonly Frame[] {
    return this.log.frames;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame (after those already taken) that matches, waiting up to `timeoutMs`. */
  next(match: string | ((frame: Frame) => boolean), timeoutMs?: number): Promise<Frame> {
    return this.log.next(match, timeoutMs);
  }

  /** Sends a frame and waits for the answer of the given type. */
  async request(frame: Record<string, unknown>, answerType: string, timeoutMs?: number): Promise<Frame> {
    this.send(frame);
    return this.next((f) => f.type === answerType || f.type === 'error', timeoutMs);
  }

  close(): void {
    this.socket.close();
  }
}

/** How a server answered a WebSocket upgrade: 101, or an HTTP refusal with its Retry-After and JSON body. */
export interface UpgradeAnswer {
  status: number;
  retryAfter?: string;
  body?: unknown;
}

/**
 * Asks for a WebSocket upgrade and tells how the server answered, without keeping a socket: an
 * accepted upgrade is closed at once. For tests of refusals that come before the upgrade.
 */
export function answerToUpgrade(
  url: string,
  options: { protocols?: string[]; headers?: Record<string, string> } = {},
): Promise<UpgradeAnswer> {
  const socket = new WebSocket(url, options.protocols, { headers: options.headers });
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.terminate();
      resolve({ status: 101 });
    });
    socket.once('unexpected-response', (request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => {
        request.destroy();
        const retryAfter = response.headers['retry-after'];
        resolve({ status: response.statusCode ?? 0, ...(retryAfter ? { retryAfter } : {}), body: parseJson(text) });
      });
    });
    socket.once('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Sends a WebSocket upgrade request by hand, for the failed upgrades no client library makes.
 * `badKey`: a Sec-WebSocket-Key the WebSocket layer refuses (it answers 400 after the route
 * admitted the request). `hangUp: 'midway'` drops the TCP connection halfway through the request,
 * `'before-answer'` right after sending all of it. Resolves with the status of the answer, or
 * undefined when it hung up (or the server closed without answering).
 */
export function rawUpgrade(
  url: string,
  options: { headers?: Record<string, string>; badKey?: boolean; hangUp?: 'midway' | 'before-answer' } = {},
): Promise<number | undefined> {
  const { hostname, port, pathname, search } = new URL(url);
  const headers = {
    host: `${hostname}:${port}`,
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-version': '13',
    'sec-websocket-key': options.badKey ? 'not-a-key' : randomBytes(16).toString('base64'),
    ...options.headers,
  };
  const request = `GET ${pathname}${search} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  return new Promise((resolve) => {
    const socket = connectTcp(Number(port), hostname);
    let answer = '';
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => resolve(undefined));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      const statusLine = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (!statusLine) return;
      resolve(Number(statusLine[1]));
      socket.destroy();
    });
    socket.once('connect', () => {
      if (options.hangUp === 'midway')
        return void socket.write(request.slice(0, request.length / 2), () => socket.destroy());
      if (options.hangUp === 'before-answer') return void socket.write(request, () => socket.destroy());
      socket.write(request);
    });
  });
}
