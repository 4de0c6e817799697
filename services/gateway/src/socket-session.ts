import {
  type ClientFrame,
  errorFrame,
  type FrameLimits,
  type Logger,
  type ProtocolError,
  parseClientFrame,
} from '@xiaoyue/shared';
import type { WebSocket } from 'ws';
import {
  type ActionContext,
  type ActionFrame,
  type ActionServices,
  actionHandlers,
  busyError,
  runAction,
} from './actions.js';
import { CloseCode } from './close-codes.js';
import type { GatewayMetrics } from './metrics.js';
import { type DeliveryDeps, type DeliveryListener, OrderedDelivery, type Resume } from './ordered-delivery.js';
import { type Refusal, SocketBudget, type SocketBudgetOptions } from './socket-budget.js';

export interface SessionDeps {
  /** What the action handlers work with. */
  services: ActionServices;
  delivery: DeliveryDeps;
  limits: FrameLimits;
  logger: Logger;
  metrics?: GatewayMetrics;
  /** `set_sulking` and other testing aids are answered only when true. */
  allowDebugActions: boolean;
  /** Each socket's own budget, checked before the learner's (`takeAction`). */
  socketBudget: SocketBudgetOptions;
  /** Takes one action from the learner's rate budget. */
  takeAction: (userId: string) => Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
  /** Asks the agents to stop a streaming turn (the learner spoke again). */
  interruptTurn: (userId: string, turnId: string) => Promise<void>;
}

/** How long a message that interrupted a streaming turn waits for that turn to end. */
const INTERRUPT_WAIT_MS = 5_000;

const REFUSALS_CLOSE_REASON = 'too many refused frames; slow down';

/**
 * After the close, ws reads on until the client's close frame (or for 30 s): a client that keeps
 * sending is cut off after this instead.
 */
const REFUSALS_CLOSE_GRACE_MS = 1_000;

type FrameData = Buffer | ArrayBuffer | Buffer[];

/**
 * One learner's socket: takes their frames one at a time (within the socket's budget, parsed, debug
 * actions gated, within the learner's budget) to the action handlers, and sends what the handlers
 * answer; `OrderedDelivery` sends everything else. A socket that keeps sending refused frames is
 * closed. It also times this socket's turns, and holds a chat that interrupted her
 * streamed reply until that turn has ended.
 */
export class SocketSession implements DeliveryListener {
  private readonly delivery: OrderedDelivery;
  private readonly context: ActionContext;
  private readonly budget: SocketBudget;
  private frames: Promise<void> = Promise.resolve();
  /** Frames that came on this socket, for the log line of a socket closed for its refusals. */
  private framesReceived = 0;
  /** Once the socket is closed for its refusals, what still comes in is dropped unread. */
  private closingForRefusals = false;
  /** A chat that interrupted her streamed reply, sent as soon as that turn has ended. */
  private afterInterrupt: { frame: ActionFrame<'chat'>; timer: NodeJS.Timeout } | undefined;
  /** This socket's turn in flight, timed from the learner's message to her first audio and end. */
  private turnTimer: { startedAt: number; heardAudio: boolean } | undefined;

  constructor(
    private readonly userId: string,
    private readonly socket: WebSocket,
    private readonly deps: SessionDeps,
    /** Replies come as reply_start / reply_text / reply_audio / reply_done (`?stream=1`). */
    private readonly stream = false,
  ) {
    this.delivery = new OrderedDelivery(userId, socket, deps.delivery, this);
    this.budget = new SocketBudget(deps.socketBudget, performance.now());
    this.context = {
      ...deps.services,
      userId,
      stream,
      metrics: deps.metrics,
      turnStarted: () => this.turnStarted(),
      interruptWith: (frame, activeTurnId) => this.interruptWith(frame, activeTurnId),
      awaitOutbox: (event) => this.delivery.watchFor(event),
    };
  }

  /** Subscribes, greets, then replays what the client missed (see `OrderedDelivery.open`). */
  open(resume: Resume = {}): Promise<void> {
    return this.delivery.open(resume);
  }

  close(): void {
    this.delivery.close();
    clearTimeout(this.afterInterrupt?.timer);
  }

  /**
   * Frames are handled one after another so that answers keep the order of the questions. The
   * socket's budget is checked at once, on arrival: a refused frame costs no Redis command and is
   * parsed only for its request_id; once the socket is closing for its refusals, frames are dropped
   * unread.
   */
  handleMessage(data: FrameData, isBinary: boolean): void {
    if (this.closingForRefusals) return;
    this.framesReceived++;
    const verdict = this.budget.admit(performance.now());
    if (verdict.kind === 'pass') {
      this.frames = this.frames.then(() => this.handleFrame(data, isBinary));
      return;
    }
    this.deps.metrics?.refusedFrames.inc({ budget: 'socket' });
    if (verdict.kind === 'close') this.closingForRefusals = true;
    // Queued like any answer: the frames before it are answered first.
    const requestId = verdict.kind === 'refuse' ? this.requestIdOf(data, isBinary) : undefined;
    this.frames = this.frames.then(() => this.refuse(verdict, requestId));
  }

  /** Made when first needed: most sockets never log, and a child logger per socket adds up. */
  private get logger(): Logger {
    return this.deps.logger.child({ userId: this.userId });
  }

  // --- DeliveryListener: this socket's turn -------------------------------------------------

  onAudio(): void {
    const timer = this.turnTimer;
    if (!timer || timer.heardAudio) return;
    timer.heardAudio = true;
    this.deps.metrics?.turnFirstAudio.observe({ mode: this.mode }, secondsSince(timer.startedAt));
  }

  onTurnEnded(): void {
    const queued = this.afterInterrupt;
    if (queued) {
      clearTimeout(queued.timer);
      this.afterInterrupt = undefined;
      // Its budget was taken when it came in.
      this.frames = this.frames.then(() => this.dispatch(queued.frame));
    }
    const timer = this.turnTimer;
    if (!timer) return;
    this.turnTimer = undefined;
    this.deps.metrics?.turnDone.observe({ mode: this.mode }, secondsSince(timer.startedAt));
  }

  private get mode(): 'stream' | 'seed' {
    return this.stream ? 'stream' : 'seed';
  }

  private turnStarted(): void {
    this.turnTimer = { startedAt: performance.now(), heardAudio: false };
    this.delivery.watchFor('turn_end');
  }

  /** Only the latest chat waits for the interrupted turn: an earlier one still waiting is answered busy. */
  private async interruptWith(frame: ActionFrame<'chat'>, activeTurnId: string): Promise<void> {
    if (this.afterInterrupt) {
      clearTimeout(this.afterInterrupt.timer);
      this.sendError({ ...busyError, request_id: this.afterInterrupt.frame.request_id });
    }
    const timer = setTimeout(() => {
      this.afterInterrupt = undefined;
      this.sendError({ ...busyError, request_id: frame.request_id });
    }, INTERRUPT_WAIT_MS);
    this.afterInterrupt = { frame, timer };
    await this.deps.interruptTurn(this.userId, activeTurnId);
  }

  // --- client frames ------------------------------------------------------------------------

  private async handleFrame(data: FrameData, isBinary: boolean): Promise<void> {
    if (this.delivery.closed) return;
    const frame = this.parse(data, isBinary);
    if (!frame) return;
    if (actionHandlers[frame.action].debug && !this.deps.allowDebugActions) {
      this.sendError({
        code: 'forbidden',
        message: `"${frame.action}" is a debug action and is off here (ALLOW_DEBUG_ACTIONS)`,
        request_id: frame.request_id,
      });
      return;
    }
    if (await this.withinBudget(frame)) await this.dispatch(frame);
  }

  private parse(data: FrameData, isBinary: boolean): ClientFrame | undefined {
    if (isBinary) {
      this.sendError({ code: 'invalid_message', message: 'Binary frames are not supported; send JSON text' });
      return undefined;
    }
    const parsed = parseClientFrame(textOf(data), this.deps.limits);
    if (parsed.ok) return parsed.frame;
    this.sendError(parsed.error);
    return undefined;
  }

  /** The request_id of a frame refused unparsed, if it has one: the refusal carries it like any answer. */
  private requestIdOf(data: FrameData, isBinary: boolean): string | undefined {
    const bytes = Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength;
    if (isBinary || bytes > this.deps.limits.maxFrameBytes) return undefined;
    try {
      const requestId = (JSON.parse(textOf(data)) as { request_id?: unknown } | null)?.request_id;
      return typeof requestId === 'string' ? requestId.slice(0, 128) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Takes a token from the learner's budget in Redis, unless it said to wait and that is not over. */
  private async withinBudget(frame: ClientFrame): Promise<boolean> {
    try {
      const heldMs = this.budget.heldMs(performance.now());
      const budget =
        heldMs > 0 ? { allowed: false as const, retryAfterMs: heldMs } : await this.deps.takeAction(this.userId);
      if (budget.allowed) return true;
      this.deps.metrics?.refusedFrames.inc({ budget: 'learner' });
      const verdict = this.budget.refusedByShared(budget.retryAfterMs, performance.now());
      // A close already queued behind this frame ends the run in its turn.
      if (verdict.kind !== 'close' || !this.closingForRefusals) this.refuse(verdict, frame.request_id);
    } catch (error) {
      this.failed(frame, error);
    }
    return false;
  }

  /**
   * Answers a refusal with `rate_limited`, or closes a socket that does not slow down. Every refusal
   * is answered, so that a request never waits for an answer that does not come: an answer costs
   * about as much again as reading and dropping the frame (~5 µs), and the close bounds a run of
   * refusals to MAX_CONSECUTIVE_REFUSALS answers.
   */
  private refuse(verdict: Refusal, requestId: string | undefined): void {
    if (verdict.kind === 'close') {
      if (this.delivery.closed) return;
      this.closingForRefusals = true;
      this.logger.warn(
        { frames: this.framesReceived, refusalsInARow: verdict.refusals },
        'closing a socket that keeps sending refused frames',
      );
      this.socket.close(CloseCode.policy, REFUSALS_CLOSE_REASON);
      const cutOff = setTimeout(() => this.socket.terminate(), REFUSALS_CLOSE_GRACE_MS);
      cutOff.unref();
      this.socket.once('close', () => clearTimeout(cutOff));
      return;
    }
    this.sendError({
      code: 'rate_limited',
      message: `Too many messages; try again in ${Math.ceil(verdict.retryAfterMs / 1000)} s`,
      request_id: requestId,
    });
  }

  /** Runs the frame's handler and sends its answer or error (or nothing: it comes through the outbox). */
  private async dispatch(frame: ClientFrame): Promise<void> {
    try {
      const reply = await runAction(frame, this.context);
      if (reply === undefined) return;
      if ('code' in reply) this.sendError({ ...reply, request_id: frame.request_id });
      else this.delivery.send(reply);
    } catch (error) {
      this.failed(frame, error);
    }
  }

  private failed(frame: ClientFrame, error: unknown): void {
    this.logger.error({ err: error, action: frame.action }, 'action failed');
    this.sendError({
      code: 'unavailable',
      message: 'XiaoYue cannot reach her memory right now; nothing was changed, please try again',
      request_id: frame.request_id,
    });
  }

  private sendError(error: ProtocolError): void {
    this.deps.metrics?.clientErrors.inc({ code: error.code });
    this.delivery.send(errorFrame(error));
  }
}

function textOf(data: FrameData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
}

function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}
