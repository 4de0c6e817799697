import type {
  actionAnswers,
  ClientAction,
  ClientFrame,
  EventData,
  ServerEventType,
  ServerFrame,
} from '@xiaoyue/shared';
import type { z } from 'zod';

// Types only: @xiaoyue/shared's runtime (Redis, BullMQ) never reaches this package's JavaScript.

/** Any server frame, narrowed by its `type`. */
export type AnyServerFrame = { [T in ServerEventType]: ServerFrame<T> }[ServerEventType];

/** A client frame as it may be sent (defaults such as replay's `rate` may be left out). */
export type ClientRequest = z.input<typeof ClientFrame>;

/** The client frame of one action. */
export type RequestFrame<A extends ClientAction> = Extract<ClientRequest, { action: A }>;

/** The event that answers an action (`typing` for `chat`, `state` for `get_state`, …). */
export type AnswerType<A extends ClientAction> = (typeof actionAnswers)[A];

/** The frame that answers an action. */
export type AnswerFrame<A extends ClientAction> = ServerFrame<AnswerType<A>>;

/** How a turn ends: one `reply`, or `reply_done` on a streaming (`stream: true`) connection. */
export type TurnEndFrame = ServerFrame<'reply'> | ServerFrame<'reply_done'>;

/** The subset of the standard WebSocket API the client uses: the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  // `never` parameters: each implementation has its own event classes; the client reads only
  // `data`, `code` and `reason`, which both have.
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface ReconnectOptions {
  /** Delay before the first retry (ms). */
  initialDelayMs: number;
  /** The delay doubles (times `factor`) per failed attempt up to this (ms). */
  maxDelayMs: number;
  factor: number;
  /** Up to this fraction of each delay is taken off at random, so that many clients do not retry in step. */
  jitter: number;
  /** Consecutive failed attempts before giving up (default: never). */
  maxAttempts: number;
}

export interface ClientOptions {
  /**
   * The gateway: `ws://host:port`, `wss://…` (or `http(s)://…`, e.g. `location.origin`). A function
   * is called before every connection, so a reconnect can go to another gateway.
   */
  url: string | (() => string | Promise<string>);
  userId: string;
  /**
   * A JWT whose `sub` is `userId` (not needed with AUTH_MODE=dev). A function is called before
   * every connection, so a refreshed token is used on reconnect.
   */
  token?: string | (() => string | Promise<string>);
  /**
   * How the token travels: the subprotocols `bearer, <token>` (default: browsers cannot set
   * headers, and it stays out of URLs and access logs) or `?token=`.
   */
  tokenIn?: 'subprotocol' | 'query';
  /** Streamed replies (`?stream=1`): reply_start, reply_text, reply_audio, reply_done. */
  stream?: boolean;
  /** The WebSocket class: `globalThis.WebSocket` by default; in Node 20 pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect with exponential backoff and jitter (defaults below), or `false` for never. */
  reconnect?: Partial<ReconnectOptions> | false;
  /** A request not answered within this is rejected with `timeout` (default 30 s). */
  requestTimeoutMs?: number;
  /** A turn whose end is not seen within this is rejected with `timeout` (default 60 s). */
  turnTimeoutMs?: number;
  /** A connection without `welcome` within this is dropped and retried (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Where an earlier session of this learner stopped (`lastSeq` and `epoch` kept, e.g. in
   * localStorage): the first connection resumes after it, so nothing sent meanwhile is missed.
   */
  resume?: ResumePosition;
}

export interface RequestOptions {
  /** Overrides `requestTimeoutMs`. */
  timeoutMs?: number;
}

export interface ChatOptions extends RequestOptions {
  /** How she addresses the learner (default 师兄). */
  user_role?: string;
  request_id?: string;
  /** Overrides `turnTimeoutMs`. */
  turnTimeoutMs?: number;
}

export interface ChatTurn {
  /** The accepted turn (`data.turn_id`). */
  typing: ServerFrame<'typing'>;
  /** The turn's end (its `reply`, or `reply_done` when streaming); waits through reconnects. */
  reply: Promise<TurnEndFrame>;
}

export interface CloseInfo {
  /** 1006 when the upgrade was refused or the connection failed (browsers tell nothing more). */
  code: number;
  reason: string;
  /**
   * The HTTP status that refused the upgrade (400, 401, 403, 429, 503), when the WebSocket
   * implementation tells it: Node's `ws` does, browsers do not.
   */
  status?: number;
  /** False after `close()`, a 1008 or HTTP 400/401/403 refusal, or when reconnecting is off or gave up. */
  willReconnect: boolean;
}

/** Listeners of the server's events, typed by the event catalog. */
export type ServerEventListeners = {
  [T in ServerEventType]: (data: EventData<T>, frame: ServerFrame<T>) => void;
};

/** Listeners of the connection's own events. (`resync` is a server event: reload state with `get_state`.) */
export interface ConnectionEventListeners {
  /** The socket opened; `welcome` follows. */
  open: () => void;
  close: (info: CloseInfo) => void;
  /** A new connection is attempted after `delayMs`; `attempt` counts from 1 since the last welcome. */
  reconnecting: (info: { attempt: number; delayMs: number }) => void;
  /**
   * Every frame exactly as received, before de-duplication (a replayed or repeated outbox event
   * shows here, but not as an event). Not validated: it is what the server sent.
   */
  frame: (frame: AnyServerFrame, raw: string) => void;
  /** The socket failed (cannot connect, …: a `close` follows) or a frame was not readable JSON. */
  transport_error: (error: Error) => void;
  /**
   * Where a resume would start moved on (after an event was shown, a welcome or a resync): keep it
   * (e.g. in localStorage) and pass it back as `resume` after a reload.
   */
  position: (position: ResumePosition) => void;
}

export interface ResumePosition {
  lastSeq: number;
  epoch?: string | null;
}

export type ClientEvents = ServerEventListeners & ConnectionEventListeners;

// The connection's event names must never shadow a server event's.
type Assert<T extends true> = T;
type EventNamesAreDisjoint = Assert<
  [Extract<keyof ConnectionEventListeners, ServerEventType>] extends [never] ? true : false
>;
