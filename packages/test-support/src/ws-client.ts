import WebSocket from 'ws';

export interface Frame {
  type: string;
  status: 'success' | 'error';
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of server frames
  data: Record<string, any>;
  request_id?: string;
  seq?: number;
}

/**
 * A WebSocket client for tests: keeps every frame it receives and lets a test wait for the next
 * frame matching a condition.
 */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.waiters.splice(0)) wake();
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

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame (after those already taken) that matches, waiting up to `timeoutMs`. */
  async next(match: string | ((frame: Frame) => boolean), timeoutMs = 10_000): Promise<Frame> {
    const predicate = typeof match === 'string' ? (f: Frame) => f.type === match : match;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const frame = this.frames[this.cursor++] as Frame;
        if (predicate(frame)) return frame;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        const seen = this.frames.map((f) => f.type).join(', ');
        throw new Error(`no matching frame within ${timeoutMs} ms (received: ${seen || 'nothing'})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
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
