import type { ClientAction, ServerEventType, ServerFrame } from '@xiaoyue/shared';
import { actionAnswers, TURN_END_EVENTS } from '@xiaoyue/shared/wire';
import { backoffDelay, DEFAULT_RECONNECT, longestDelay } from './backoff.js';
import { XiaoYueError } from './errors.js';
import { Listeners } from './listeners.js';
import type {
  AnswerFrame,
  AnyServerFrame,
  ChatOptions,
  ChatTurn,
  ClientEvents,
  ClientOptions,
  ClientRequest,
  ReconnectOptions,
  RequestFrame,
  RequestOptions,
  TurnEndFrame,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

type Timer = ReturnType<typeof setTimeout>;

/** `readyState` of an open socket, the same in every WebSocket implementation. */
const OPEN = 1;
/** A socket refused once open (it lost the race for the learner's last slot): retrying the same way cannot help. */
const POLICY_VIOLATION = 1008;
/**
 * HTTP answers to the upgrade that retrying the same way cannot change: a bad user id (400), a
 * missing, bad or expired token (401), another learner's token or a forbidden origin (403).
 */
const REFUSED_STATUSES: readonly number[] = [400, 401, 403];
/** Too many connection attempts or sockets: the next attempt waits the longest delay. */
const THROTTLED_STATUS = 429;

interface PendingRequest {
  answerType: ServerEventType;
  resolve(frame: AnyServerFrame): void;
  reject(error: Error): void;
  timer: Timer;
}

interface TurnWaiter {
  requestId: string;
  /** Known once `typing` came; until then the turn's end is recognised by its request id. */
  turnId?: string;
  resolve(frame: TurnEndFrame): void;
  reject(error: Error): void;
  timer: Timer;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

/**
 * A learner's connection to XiaoYue: typed events, requests matched by `request_id`, and a
 * connection that comes back by itself and resumes where it left off (`last_seq`, `epoch`)
 * without ever showing an outbox event twice.
 */
export class XiaoYueClient {
  readonly userId: string;
  private readonly WebSocketClass: WebSocketConstructor;
  private readonly reconnectOptions: ReconnectOptions | undefined;
  private readonly events = new Listeners<ClientEvents>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly turns = new Set<TurnWaiter>();
  private readonly requestIdPrefix = Math.random().toString(36).slice(2, 8);
  private requestCount = 0;

  private socket: WebSocketLike | undefined;
  /** The current socket's welcome: set while connected. */
  private currentWelcome: ServerFrame<'welcome'> | undefined;
  private connecting: Deferred<ServerFrame<'welcome'>> | undefined;
  private stopped = true;
  /** Failed attempts since the last welcome. */
  private attempt = 0;
  private reconnectTimer: Timer | undefined;
  private welcomeTimer: Timer | undefined;
  /** The newest outbox event seen, and the outbox epoch it belongs to. */
  private seq: number | undefined;
  private currentEpoch: string | null | undefined;

  constructor(private readonly options: ClientOptions) {
    this.userId = options.userId;
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketClass) throw new TypeError('no global WebSocket here: pass one as options.WebSocket (in Node: ws)');
    this.WebSocketClass = WebSocketClass;
    this.reconnectOptions = options.reconnect === false ? undefined : { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.seq = options.resume?.lastSeq;
    this.currentEpoch = options.resume?.epoch ?? undefined;
  }

  /** Connected: the socket is open and its `welcome` came. */
  get connected(): boolean {
    return this.currentWelcome !== undefined;
  }

  /** The current connection's `welcome`. */
  get welcome(): ServerFrame<'welcome'> | undefined {
    return this.currentWelcome;
  }

  /** The `seq` of the newest outbox event seen (what a reconnect resumes after). */
  get lastSeq(): number | undefined {
    return this.seq;
  }

  get epoch(): string | null | undefined {
    return this.currentEpoch;
  }

  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  off<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): void {
    this.events.off(event, listener);
  }

  /**
   * Connects (or waits for the connection under way) and resolves with its `welcome`. Retries as
   * configured; rejects (`closed`) on a refusal (1008, or HTTP 400/401/403 where the WebSocket
   * tells the status), on `close()` or when reconnecting gives up.
   */
  connect(): Promise<ServerFrame<'welcome'>> {
    if (this.currentWelcome) return Promise.resolve(this.currentWelcome);
    this.connecting ??= deferred();
    if (this.stopped) {
      this.stopped = false;
      this.attempt = 0;
      void this.open();
    }
    return this.connecting.promise;
  }

  /** Closes for good (no reconnect); pending requests and turns are rejected with `closed`. */
  close(): void {
    this.stop('the client was closed');
    this.socket?.close(1000, 'bye');
  }

  /** Sends a frame without waiting for its answer; false if not connected. */
  send(frame: ClientRequest): boolean {
    if (!this.currentWelcome || this.socket?.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends an action and resolves with the frame that answers it (the catalog's answer echoing its
   * `request_id`, generated if not given). Rejects with the server's `error` as a XiaoYueError
   * (`code` = the error code), or with `disconnected` / `timeout`.
   */
  request<A extends ClientAction>(frame: RequestFrame<A>, options: RequestOptions = {}): Promise<AnswerFrame<A>> {
    const requestId = frame.request_id ?? this.nextRequestId();
    const answerType = actionAnswers[frame.action];
    return new Promise((resolve, reject) => {
      if (this.pending.has(requestId)) {
        reject(new TypeError(`request_id "${requestId}" is already waiting for its answer`));
        return;
      }
      if (!this.send({ ...frame, request_id: requestId })) {
        reject(new XiaoYueError('disconnected', `not connected: "${frame.action}" was not sent`));
        return;
      }
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new XiaoYueError('timeout', `no ${answerType} for "${frame.action}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, { answerType, resolve: resolve as (frame: AnyServerFrame) => void, reject, timer });
    });
  }

  /**
   * Sends a chat message: resolves with the accepted turn's `typing` (rejects with `busy` if a turn
   * of this learner is still running) and a promise of the turn's end, which waits through reconnects.
   */
  async chat(message: string, options: ChatOptions = {}): Promise<ChatTurn> {
    const requestId = options.request_id ?? this.nextRequestId();
    // Listening before sending: the end is caught even if it overtook `typing`.
    const turn = this.awaitTurnEnd(requestId, options.turnTimeoutMs ?? this.options.turnTimeoutMs ?? 60_000);
    try {
      const { user_role } = options;
      const typing = await this.request(
        { action: 'chat', message, request_id: requestId, ...(user_role === undefined ? {} : { user_role }) },
        options,
      );
      turn.waiter.turnId = typing.data.turn_id;
      return { typing, reply: turn.promise };
    } catch (error) {
      this.turns.delete(turn.waiter);
      clearTimeout(turn.waiter.timer);
      throw error;
    }
  }

  // --- connection -----------------------------------------------------------------------------

  private async open(): Promise<void> {
    let socket: WebSocketLike;
    try {
      const { url, token } = this.options;
      const base = typeof url === 'function' ? await url() : url;
      const value = typeof token === 'function' ? await token() : token;
      if (this.stopped) return; // closed while the URL or the token was fetched
      const protocols = value !== undefined && this.options.tokenIn !== 'query' ? ['bearer', value] : undefined;
      socket = new this.WebSocketClass(this.urlFor(base, value), protocols);
    } catch (error) {
      this.events.emit('transport_error', asError(error));
      this.retryOrStop(1006, 'could not open a connection');
      return;
    }
    this.socket = socket;
    /** The HTTP status that refused the upgrade, when the implementation tells it (Node's ws does, browsers do not). */
    let refusedWith: number | undefined;
    socket.onopen = () => {
      if (this.socket === socket) this.events.emit('open');
    };
    socket.onmessage = (event: { data: unknown }) => {
      if (this.socket === socket) this.receive(event.data);
    };
    socket.onerror = (event: { error?: unknown; message?: string }) => {
      if (this.socket !== socket) return;
      const error = asError(event.error ?? event.message);
      refusedWith ??= upgradeStatus(error);
      this.events.emit('transport_error', error);
    };
    socket.onclose = (event: { code: number; reason: string }) => {
      if (this.socket === socket) this.dropped(event.code, event.reason, refusedWith);
    };
    const connectTimeoutMs = this.options.connectTimeoutMs ?? 10_000;
    this.welcomeTimer = setTimeout(() => {
      if (this.socket !== socket || this.currentWelcome) return;
      // A socket stuck connecting may never report its close: let it go and count a failure.
      this.socket = undefined;
      socket.close();
      this.dropped(1006, `no welcome within ${connectTimeoutMs} ms`);
    }, connectTimeoutMs);
  }

  private urlFor(base: string, token: string | undefined): string {
    const query = new URLSearchParams();
    if (this.options.stream) query.set('stream', '1');
    if (this.seq !== undefined) {
      query.set('last_seq', String(this.seq));
      if (this.currentEpoch) query.set('epoch', this.currentEpoch);
    }
    if (token !== undefined && this.options.tokenIn === 'query') query.set('token', token);
    const search = query.toString();
    const origin = base.replace(/^http/, 'ws').replace(/\/+$/, '');
    return `${origin}/ws/chat/${encodeURIComponent(this.userId)}${search ? `?${search}` : ''}`;
  }

  private dropped(code: number, reason: string, status?: number): void {
    this.socket = undefined;
    this.currentWelcome = undefined;
    clearTimeout(this.welcomeTimer);
    this.rejectRequests(
      new XiaoYueError(
        'disconnected',
        `the connection dropped (${code}) before the answer came; the action may or may not have happened`,
      ),
    );
    this.retryOrStop(code, reason, status);
  }

  private retryOrStop(code: number, reason: string, status?: number): void {
    const retry = this.reconnectOptions;
    const refused = code === POLICY_VIOLATION || (status !== undefined && REFUSED_STATUSES.includes(status));
    const willReconnect = !this.stopped && !refused && !!retry && this.attempt < retry.maxAttempts;
    if (!willReconnect && !this.stopped) {
      const by = status === undefined ? code : `HTTP ${status}`;
      this.stop(refused ? `refused by the server (${by})${reason ? `: ${reason}` : ''}` : `disconnected (${by})`);
    }
    this.events.emit('close', { code, reason, willReconnect, ...(status === undefined ? {} : { status }) });
    if (!willReconnect || !retry) return;
    this.attempt++;
    const delayMs = status === THROTTLED_STATUS ? longestDelay(retry) : backoffDelay(this.attempt, retry);
    this.events.emit('reconnecting', { attempt: this.attempt, delayMs });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.open(), delayMs);
  }

  private stop(message: string): void {
    this.stopped = true;
    this.currentWelcome = undefined;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.welcomeTimer);
    const error = new XiaoYueError('closed', message);
    this.rejectRequests(error);
    for (const waiter of this.turns) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.turns.clear();
    this.connecting?.reject(error);
    this.connecting = undefined;
  }

  private rejectRequests(error: XiaoYueError): void {
    for (const request of this.pending.values()) {
      clearTimeout(request.timer);
      request.reject(error);
    }
    this.pending.clear();
  }

  // --- frames ---------------------------------------------------------------------------------

  private receive(data: unknown): void {
    let frame: AnyServerFrame;
    try {
      frame = JSON.parse(String(data)) as AnyServerFrame;
      if (typeof frame?.type !== 'string') throw new Error('no "type"');
    } catch (error) {
      this.events.emit('transport_error', new Error(`unreadable frame (${asError(error).message})`));
      return;
    }
    this.events.emit('frame', frame, String(data));
    const [seqBefore, epochBefore] = [this.seq, this.currentEpoch];
    if (typeof frame.seq === 'number') {
      // Already shown: a replay overlapping what this client saw, or a repeat.
      if (this.seq !== undefined && frame.seq <= this.seq) return;
      this.seq = frame.seq;
    }
    if (frame.type === 'welcome') this.welcomed(frame);
    if (frame.type === 'resync') {
      // The events after our last_seq are gone (or belong to a past epoch): carry on from here.
      this.seq = frame.data.last_seq;
      this.currentEpoch = frame.data.epoch;
    }
    // One call for every event type: the listener map is keyed by the same `type`.
    (this.events.emit as (event: string, ...args: unknown[]) => void)(frame.type, frame.data, frame);
    // Told after the event was shown: a position kept before would skip it after a reload.
    if (this.seq !== undefined && (this.seq !== seqBefore || this.currentEpoch !== epochBefore)) {
      this.events.emit('position', { lastSeq: this.seq, epoch: this.currentEpoch });
    }
    this.settleRequest(frame);
    if (isTurnEnd(frame)) this.endTurn(frame);
  }

  private welcomed(frame: ServerFrame<'welcome'>): void {
    // A fresh start begins at the newest event; a resume keeps its own last_seq (the gateway
    // replays what followed it, or sends resync) and only learns the epoch if it had none.
    this.seq ??= frame.data.last_seq;
    this.currentEpoch ??= frame.data.epoch;
    this.currentWelcome = frame;
    this.attempt = 0;
    clearTimeout(this.welcomeTimer);
    this.connecting?.resolve(frame);
    this.connecting = undefined;
  }

  private settleRequest(frame: AnyServerFrame): void {
    const request = frame.request_id === undefined ? undefined : this.pending.get(frame.request_id);
    if (!request || (frame.type !== request.answerType && frame.type !== 'error')) return;
    this.pending.delete(frame.request_id as string);
    clearTimeout(request.timer);
    if (frame.type === 'error') request.reject(XiaoYueError.fromFrame(frame));
    else request.resolve(frame);
  }

  private awaitTurnEnd(requestId: string, timeoutMs: number): { waiter: TurnWaiter; promise: Promise<TurnEndFrame> } {
    const { promise, resolve, reject } = deferred<TurnEndFrame>();
    // An app may never read `reply`: its rejection must not become an unhandled one.
    promise.catch(() => {});
    const waiter: TurnWaiter = {
      requestId,
      resolve,
      reject,
      timer: setTimeout(() => {
        this.turns.delete(waiter);
        reject(new XiaoYueError('timeout', `the turn did not end within ${timeoutMs} ms`));
      }, timeoutMs),
    };
    this.turns.add(waiter);
    return { waiter, promise };
  }

  private endTurn(frame: TurnEndFrame): void {
    for (const waiter of this.turns) {
      const ours =
        waiter.turnId === undefined ? waiter.requestId === frame.request_id : waiter.turnId === frame.data.turn_id;
      if (!ours) continue;
      this.turns.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
    }
  }

  private nextRequestId(): string {
    return `${this.requestIdPrefix}-${++this.requestCount}`;
  }
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function isTurnEnd(frame: AnyServerFrame): frame is TurnEndFrame {
  return (TURN_END_EVENTS as readonly string[]).includes(frame.type);
}

/** The status of a refused upgrade in the error Node's ws reports ("Unexpected server response: 401"). */
function upgradeStatus(error: Error): number | undefined {
  const status = /Unexpected server response: (\d{3})/.exec(error.message)?.[1];
  return status === undefined ? undefined : Number(status);
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(typeof value === 'string' ? value : 'WebSocket error');
}
