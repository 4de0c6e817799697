import {
  type AgentMode,
  answerQuiz,
  type ClientFrame,
  type ConversationStore,
  DEFAULT_USER_ROLE,
  endsTurn,
  envelopeOf,
  errorFrame,
  type FrameLimits,
  type LearnerStore,
  type Logger,
  type Outbox,
  type ProtocolError,
  parseClientFrame,
  type ServerFrame,
  seqOf,
  startReview,
  successFrame,
} from '@xiaoyue/shared';
import type { WebSocket } from 'ws';
import type { EventFeed, FeedListener } from './event-feed.js';
import type { JudgeRequest } from './judge.js';
import type { GatewayMetrics } from './metrics.js';
import type { ReplayRequest } from './replay.js';
import type { TurnStarter } from './turns.js';

export interface SessionDeps {
  feed: EventFeed;
  outbox: Outbox;
  store: ConversationStore;
  /** The learner's progress: quizzes, review cards, level. */
  learners: LearnerStore;
  turns: TurnStarter;
  limits: FrameLimits;
  maxBufferedBytes: number;
  logger: Logger;
  /** `online` or `offline` (practice tutor), as the agent pool announced it; null if unknown. */
  agentMode: () => Promise<AgentMode | null>;
  metrics?: GatewayMetrics;
  /** Asks the agents to stop a streaming turn (the learner spoke again). */
  interruptTurn: (userId: string, turnId: string) => Promise<void>;
  /** `set_sulking` and other testing aids are answered only when true. */
  allowDebugActions: boolean;
  /** Takes one action from the learner's rate budget. */
  takeAction: (userId: string) => Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
  /**
   * Hands a translation the rules graded wrong to the agents' LLM (its `quiz_result` comes through
   * the outbox); false when no LLM can judge (offline tutor), so the rules' grade stands.
   */
  judgeTranslation: (request: JudgeRequest) => Promise<boolean>;
  /** Queues a past line for speech again; false if the turn is not in the history. */
  replay: (request: ReplayRequest) => Promise<boolean>;
}

const DEBUG_ACTIONS = new Set<ClientFrame['action']>(['set_sulking']);

/** While a turn is in flight the outbox is also read this often: a safety net under pub/sub. */
const IN_FLIGHT_CHECK_MS = 5_000;

/** A replay waits this long for a client to read before giving up on it. */
const REPLAY_STALL_MS = 30_000;

/** How long a message that interrupted a streaming turn waits for that turn to end. */
const INTERRUPT_WAIT_MS = 5_000;

/** Close codes a client can act on. */
export const CloseCode = { policy: 1008, restarting: 1012, tryAgainLater: 1013 } as const;

const CATCH_UP_RETRY_MS = 1_000;

/**
 * One learner's socket: validates and handles their frames, and delivers their outbox events in
 * seq order, exactly once. Live pub/sub events are checked for gaps and gaps are read back from
 * the outbox; while it catches up, live events wait in `pendingLive`.
 */
export class SocketSession implements FeedListener {
  private lastSeq = 0;
  /** The epoch the client's last_seq belongs to; checked on the first catch-up only. */
  private expectedEpoch: string | undefined;
  private catchingUp = true;
  private pendingLive: string[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private frames: Promise<void> = Promise.resolve();
  private closed = false;
  /** A message that interrupted a streaming turn, sent as soon as that turn has ended. */
  private afterInterrupt: { frame: ClientFrame; timer: NodeJS.Timeout } | undefined;
  /** This socket's turn in flight, timed from the learner's message to her first audio and end. */
  private turnTimer: { startedAt: number; heardAudio: boolean } | undefined;
  private inFlightCheck: NodeJS.Timeout | undefined;

  constructor(
    private readonly userId: string,
    private readonly socket: WebSocket,
    private readonly deps: SessionDeps,
    /** Replies come as reply_start / reply_text / reply_audio / reply_done (`?stream=1`). */
    private readonly stream = false,
  ) {}

  /**
   * Subscribes, greets, then replays what the client missed after `resume.lastSeq` (if given) of
   * `resume.epoch` (if given).
   */
  async open(resume: { lastSeq?: number; epoch?: string } = {}): Promise<void> {
    this.unsubscribe = await this.deps.feed.subscribe(this.userId, this);
    // The client may have left while we subscribed: do not leave the subscription behind.
    if (this.closed) {
      await this.unsubscribe();
      return;
    }
    const [state, head, mode] = await Promise.all([
      this.deps.store.getState(this.userId),
      this.deps.outbox.head(this.userId),
      this.deps.agentMode(),
    ]);
    const welcome = { user_id: this.userId, ...state, last_seq: head.seq, epoch: head.epoch };
    this.send(successFrame('welcome', mode ? { ...welcome, mode } : welcome));
    this.lastSeq = resume.lastSeq ?? head.seq;
    this.expectedEpoch = resume.lastSeq === undefined ? undefined : resume.epoch;
    await this.catchUp();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.afterInterrupt?.timer);
    clearInterval(this.inFlightCheck);
    this.pendingLive = [];
    void this.unsubscribe?.().catch(() => {});
  }

  /** Frames are handled one after another so that answers keep the order of the questions. */
  handleMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.frames = this.frames.then(() => this.handleFrame(data, isBinary));
  }

  /** Made when first needed: most sockets never log, and a child logger per socket adds up. */
  private get logger(): Logger {
    return this.deps.logger.child({ userId: this.userId });
  }

  // --- FeedListener -------------------------------------------------------------------------

  onEvent(payload: string): void {
    if (this.closed) return;
    if (this.catchingUp) {
      this.pendingLive.push(payload);
      return;
    }
    const seq = seqOf(payload);
    if (!(seq > this.lastSeq)) return; // already delivered (or not an outbox event)
    if (seq === this.lastSeq + 1) {
      this.lastSeq = seq;
      this.deliver(payload);
      return;
    }
    // A gap: some event was published while we could not hear it. Read it back first.
    this.pendingLive.push(payload);
    void this.catchUp();
  }

  onFeedInterrupted(): void {
    if (!this.closed && !this.catchingUp) void this.catchUp();
  }

  // --- delivery -----------------------------------------------------------------------------

  private async catchUp(): Promise<void> {
    this.catchingUp = true;
    try {
      const result = await this.deps.outbox.readAfter(this.userId, this.lastSeq, this.expectedEpoch);
      this.expectedEpoch = undefined;
      if (this.closed) return;
      if (result.kind === 'resync') {
        const state = await this.deps.store.getState(this.userId);
        this.lastSeq = result.head.seq;
        this.send(
          successFrame('resync', {
            reason: result.reason,
            last_seq: result.head.seq,
            epoch: result.head.epoch,
            ...state,
          }),
        );
      } else {
        for (const payload of result.events) {
          const seq = seqOf(payload);
          if (seq > this.lastSeq) {
            // A replay can be megabytes of audio: pace it by what the client reads.
            if (!(await this.drained())) return;
            this.lastSeq = seq;
            this.deliver(payload);
          }
        }
      }
    } catch (error) {
      // Redis is unreachable: keep what arrived and try again shortly.
      this.logger.warn({ err: error }, 'outbox catch-up failed; retrying');
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.catchUp(), CATCH_UP_RETRY_MS);
      return;
    }
    this.catchingUp = false;
    const pending = this.pendingLive;
    this.pendingLive = [];
    for (const payload of pending) this.onEvent(payload);
  }

  /**
   * Until the learner's turn ends, reads the outbox now and then: a reply published while this
   * gateway's subscription was being re-established is found even if no later event reveals the gap.
   */
  private watchInFlight(): void {
    clearInterval(this.inFlightCheck);
    this.inFlightCheck = setInterval(() => {
      if (!this.catchingUp) void this.catchUp();
    }, IN_FLIGHT_CHECK_MS);
    this.inFlightCheck.unref();
  }

  /** Sends an outbox event, times the learner's turn by it, and starts a turn waiting on its end. */
  private deliver(payload: string): void {
    this.sendRaw(payload);
    const { type } = envelopeOf(payload);
    const turnEnded = endsTurn(type);
    if (turnEnded) clearInterval(this.inFlightCheck);
    if (this.afterInterrupt && turnEnded) {
      const { frame, timer } = this.afterInterrupt;
      clearTimeout(timer);
      this.afterInterrupt = undefined;
      this.frames = this.frames.then(() => this.handleAction(frame).catch((error) => this.failed(frame, error)));
    }
    const timer = this.turnTimer;
    const metrics = this.deps.metrics;
    if (!timer || !metrics) return;
    const seconds = (performance.now() - timer.startedAt) / 1000;
    const mode = this.stream ? 'stream' : 'seed';
    if ((type === 'reply' || type === 'reply_audio') && !timer.heardAudio && !payload.includes('"audio_base64":null')) {
      timer.heardAudio = true;
      metrics.turnFirstAudio.observe({ mode }, seconds);
    }
    if (turnEnded) {
      metrics.turnDone.observe({ mode }, seconds);
      this.turnTimer = undefined;
    }
  }

  /**
   * Waits while the socket's send buffer is over half its bound (a client reading a long replay).
   * False if the socket closed or the client stopped reading altogether (it is then closed 1013).
   */
  private async drained(): Promise<boolean> {
    const limit = this.deps.maxBufferedBytes / 2;
    for (let waited = 0; this.socket.bufferedAmount > limit; waited += 10) {
      if (this.closed || this.socket.readyState !== this.socket.OPEN) return false;
      if (waited > REPLAY_STALL_MS) {
        this.socket.close(CloseCode.tryAgainLater, 'too slow; reconnect with last_seq');
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return !this.closed;
  }

  private send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  private sendRaw(text: string): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.deps.maxBufferedBytes) {
      // A client that does not read would grow our memory; it can reconnect with last_seq.
      this.logger.warn({ buffered: this.socket.bufferedAmount }, 'closing a socket that does not keep up');
      this.socket.close(CloseCode.tryAgainLater, 'too slow; reconnect with last_seq');
      return;
    }
    this.socket.send(text);
  }

  // --- client frames ------------------------------------------------------------------------

  private async handleFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): Promise<void> {
    if (this.closed) return;
    if (isBinary) {
      this.sendError({ code: 'invalid_message', message: 'Binary frames are not supported; send JSON text' });
      return;
    }
    const raw = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    const parsed = parseClientFrame(raw, this.deps.limits);
    if (!parsed.ok) {
      this.sendError(parsed.error);
      return;
    }
    const { frame } = parsed;
    if (DEBUG_ACTIONS.has(frame.action) && !this.deps.allowDebugActions) {
      this.sendError({
        code: 'forbidden',
        message: `"${frame.action}" is a debug action and is off here (ALLOW_DEBUG_ACTIONS)`,
        request_id: frame.request_id,
      });
      return;
    }
    try {
      const budget = await this.deps.takeAction(this.userId);
      if (!budget.allowed) {
        const seconds = Math.ceil(budget.retryAfterMs / 1000);
        this.sendError({
          code: 'rate_limited',
          message: `Too many messages; try again in ${seconds} s`,
          request_id: frame.request_id,
        });
        return;
      }
      await this.handleAction(frame);
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

  private async handleAction(frame: ClientFrame): Promise<void> {
    const { store } = this.deps;
    const requestId = frame.request_id;
    switch (frame.action) {
      case 'chat': {
        const started = await this.deps.turns.start({
          userId: this.userId,
          message: frame.message,
          userRole: frame.user_role ?? DEFAULT_USER_ROLE,
          requestId,
          stream: this.stream,
        });
        if (started.kind === 'busy' && this.stream && started.activeTurnId) {
          // Streaming: a new message interrupts her; it goes out once that turn has ended.
          if (this.afterInterrupt) {
            clearTimeout(this.afterInterrupt.timer);
            this.sendBusy(this.afterInterrupt.frame.request_id);
          }
          const timer = setTimeout(() => {
            this.afterInterrupt = undefined;
            this.sendBusy(requestId);
          }, INTERRUPT_WAIT_MS);
          this.afterInterrupt = { frame, timer };
          await this.deps.interruptTurn(this.userId, started.activeTurnId);
          return;
        }
        if (started.kind === 'busy') {
          this.sendBusy(requestId);
          return;
        }
        this.turnTimer = { startedAt: performance.now(), heardAudio: false };
        this.watchInFlight();
        this.send(successFrame('typing', { is_typing: true, turn_id: started.turnId }, requestId));
        return;
      }
      case 'reset':
        this.send(successFrame('reset', await store.reset(this.userId), requestId));
        return;
      case 'get_state': {
        const [state, history] = await Promise.all([store.getState(this.userId), store.history(this.userId)]);
        this.send(successFrame('state', { ...state, history }, requestId));
        return;
      }
      case 'set_sulking':
        this.send(successFrame('sulking_set', await store.setSulkingLevel(this.userId, frame.level), requestId));
        return;
      case 'answer':
        return this.answer(frame.quiz_id, frame.answer, requestId);
      case 'review':
        this.send(successFrame('review', await startReview(this.deps.learners, this.userId), requestId));
        return;
      case 'get_progress':
        this.send(successFrame('progress', await this.deps.learners.progress(this.userId), requestId));
        return;
      case 'set_level':
        await this.deps.learners.setLevel(this.userId, frame.level);
        this.send(successFrame('level_set', { level: frame.level }, requestId));
        return;
      case 'clear_progress':
        await this.deps.learners.clear(this.userId);
        this.send(successFrame('progress_cleared', await this.deps.learners.progress(this.userId), requestId));
        return;
      case 'replay': {
        const queued = await this.deps.replay({
          userId: this.userId,
          turnId: frame.turn_id,
          rate: frame.rate,
          requestId,
        });
        if (!queued) {
          this.sendError({
            code: 'unknown_turn',
            message: `No line of hers with turn_id "${frame.turn_id.slice(0, 64)}" in this conversation`,
            request_id: requestId,
          });
        }
        return;
      }
    }
  }

  /** Grades the learner's answer to a quiz (once) and sends `quiz_result`. */
  private async answer(quizId: string, answer: string, requestId: string | undefined): Promise<void> {
    const { sulking_level } = await this.deps.store.getState(this.userId);
    const outcome = await answerQuiz(this.deps.learners, this.userId, {
      quizId,
      answer,
      sulkingLevel: sulking_level,
      defer: async (quiz) =>
        quiz.draft.type === 'translate' &&
        this.deps.judgeTranslation({ userId: this.userId, quiz, answer, sulkingLevel: sulking_level, requestId }),
    });
    if (outcome.kind === 'deferred') {
      this.watchInFlight();
      return;
    }
    if (outcome.kind === 'graded') {
      this.deps.metrics?.quizAnswers.inc({ type: outcome.type, correct: String(outcome.result.correct) });
      this.send(successFrame('quiz_result', outcome.result, requestId));
      return;
    }
    this.sendError(
      outcome.kind === 'unknown_quiz'
        ? { code: 'unknown_quiz', message: `No open quiz with id "${quizId.slice(0, 64)}"`, request_id: requestId }
        : {
            code: 'already_answered',
            message: `Quiz "${quizId.slice(0, 64)}" was already answered (the answer: ${outcome.expected})`,
            request_id: requestId,
          },
    );
  }

  private sendBusy(requestId: string | undefined): void {
    this.sendError({
      code: 'busy',
      message: 'XiaoYue is still answering your previous message; send this one after her reply',
      request_id: requestId,
    });
  }

  private sendError(error: ProtocolError): void {
    this.deps.metrics?.clientErrors.inc({ code: error.code });
    this.send(errorFrame(error));
  }
}
