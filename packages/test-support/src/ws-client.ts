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
