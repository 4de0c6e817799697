import { type ClientOptions, type ClientRequest, XiaoYueClient, XiaoYueError } from '@xiaoyue/client';
import type { ServerEventType } from '@xiaoyue/shared';
import { type Frame, FrameLog } from '@xiaoyue/test-support';
import WebSocket from 'ws';

export interface Closed {
  code: number;
  reason: string;
  /** The HTTP status that refused the upgrade (the socket never opened: code 1006). */
  status?: number;
}

/**
 * A learner of the end-to-end tests: a XiaoYueClient (what real learners run) read the way tests
 * read test-support's TestClient: every frame as received, `next`, `request`, `closed`, and the
 * socket itself for frames no client would send. It does not reconnect unless told to: tests
 * assert close codes.
 *
 * The raw TestClient stays for a service's own protocol tests (services/gateway/src/app.test.ts:
 * paths, headers and subprotocols no client builds) and for the witness socket of
 * packages/client/src/client.test.ts, which must not be the code under test.
 */
export class Learner {
  readonly client: XiaoYueClient;
  /** The connection is over (with reconnect off: the first close). */
  readonly closed: Promise<Closed>;
  private readonly log = new FrameLog();
  private currentSocket: WebSocket | undefined;
  private opened = false;
  private refusedWith: number | undefined;

  constructor(options: Omit<ClientOptions, 'WebSocket'>) {
    const learner = this;
    // Records each socket the client opens: raw access for tests, without widening the client's API.
    class RecordedWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        learner.currentSocket = this;
      }
    }
    this.client = new XiaoYueClient({
      reconnect: false,
      requestTimeoutMs: 10_000,
      ...options,
      WebSocket: RecordedWebSocket,
    });
    this.client.on('open', () => {
      this.opened = true;
    });
    // The frame hook: every frame as the server sent it, repeats included.
    this.client.on('frame', (frame) => this.log.push(frame as Frame));
    this.closed = new Promise((resolve) => {
      this.client.on('close', ({ code, reason, status, willReconnect }) => {
        if (willReconnect) return;
        this.log.end();
        this.refusedWith = status;
        resolve({ code, reason, ...(status === undefined ? {} : { status }) });
      });
    });
  }

  /**
   * Connects and resolves at the welcome, or once refused: by an HTTP answer to the upgrade (a 401,
   * say) or by the server closing the socket it accepted (a 1008): the test reads the status or
   * the code from `closed`.
   */
  static async connect(options: Omit<ClientOptions, 'WebSocket'>): Promise<Learner> {
    const learner = new Learner(options);
    try {
      await learner.client.connect();
    } catch (error) {
      if (!learner.opened && learner.refusedWith === undefined) throw error;
    }
    return learner;
  }

  /** Every frame received, in order (before the client's de-duplication). */
  get frames(): readonly Frame[] {
    return this.log.frames;
  }

  /** The client's current socket. */
  get socket(): WebSocket {
    if (!this.currentSocket) throw new Error('the client has opened no socket');
    return this.currentSocket;
  }

  /**
   * Sends a frame through the client; a string goes as it is through the socket (junk, or a frame
   * the client's types would not allow).
   */
  send(frame: ClientRequest | string): void {
    if (typeof frame === 'string') this.socket.send(frame);
    else if (!this.client.send(frame)) throw new Error(`not connected: ${JSON.stringify(frame)} was not sent`);
  }

  /** The next frame (after those already taken) that matches, waiting up to `timeoutMs`. */
  next(match: string | ((frame: Frame) => boolean), timeoutMs?: number): Promise<Frame> {
    return this.log.next(match, timeoutMs);
  }

  /**
   * Sends an action with the client's `request` (its answer matched by request_id) and resolves
   * with the answer, or with the `error` frame that refused it. `answerType` is the answer the test
   * expects besides an error. Reading goes on after the answer, as with TestClient.
   */
  async request(frame: ClientRequest, answerType: ServerEventType, timeoutMs?: number): Promise<Frame> {
    const answer = await this.client.request(frame, { timeoutMs }).catch((error: unknown) => {
      if (error instanceof XiaoYueError && error.frame) return error.frame;
      throw error;
    });
    if (answer.type !== answerType && answer.type !== 'error') {
      throw new Error(`"${frame.action}" was answered with ${answer.type}, not ${answerType}`);
    }
    this.log.skipPast(answer as Frame);
    return answer as Frame;
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Client options for a connection query as tests write it: `?stream=1`, `?last_seq=3&epoch=…`
 * (resume), `?token=…` (sent in the query).
 */
export function optionsFromQuery(query: string): Partial<ClientOptions> {
  const params = new URLSearchParams(query);
  const options: Partial<ClientOptions> = {};
  for (const [name, value] of params) {
    if (name === 'stream') options.stream = value === '1';
    else if (name === 'token') Object.assign(options, { token: value, tokenIn: 'query' });
    else if (name !== 'last_seq' && name !== 'epoch') throw new Error(`no client option for "?${name}"`);
  }
  const lastSeq = params.get('last_seq');
  if (lastSeq !== null) options.resume = { lastSeq: Number(lastSeq), epoch: params.get('epoch') };
  return options;
}
