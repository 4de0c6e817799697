import {
  type AgentMode,
  type ConversationStore,
  endsTurn,
  envelopeOf,
  type Logger,
  type Outbox,
  type OutboxEventType,
  type ReadAfterResult,
  type ServerFrame,
  seqOf,
  successFrame,
} from '@xiaoyue/shared';
import type { WebSocket } from 'ws';
import { CloseCode } from './close-codes.js';
import type { EventFeed, FeedListener } from './event-feed.js';

/** What a socket waits for through the outbox: its turn's end, or a deferred answer of this type. */
export type AwaitedEvent = 'turn_end' | 'quiz_result' | 'replay_audio';

export interface DeliveryDeps {
  feed: EventFeed;
  outbox: Outbox;
  /** Her state, shown by the welcome and a resync. */
  store: ConversationStore;
  /** `online` or `offline` (practice tutor), as the agent pool announced it; null if unknown. */
  agentMode: () => Promise<AgentMode | null>;
  maxBufferedBytes: number;
  logger: Logger;
}

/** What the owner of a delivery hears about the events it delivered. */
export interface DeliveryListener {
  /** An event that ends the learner's turn went out (a reply, a streamed reply's end). */
  onTurnEnded(): void;
  /** A reply or one of its sentences went out with speech. */
  onAudio(): void;
}

export interface Resume {
  /** The client's newest event; absent: only what comes after the welcome is delivered. */
  lastSeq?: number;
  /** The outbox epoch `lastSeq` belongs to. */
  epoch?: string;
}

/** While a turn is in flight the outbox is also read this often: a safety net under pub/sub. */
const IN_FLIGHT_CHECK_MS = 5_000;

/** A replay waits this long for a client to read before giving up on it. */
const REPLAY_STALL_MS = 30_000;

const CATCH_UP_RETRY_MS = 1_000;

/** How many of the last delivered events are remembered to tell a stale repeat from a rolled-back seq. */
const REMEMBERED_EVENTS = 16;

/**
 * What tells two outbox events apart without keeping them: their length and first bytes (the seq,
 * type, turn and sentence). A repeat of a delivered event has the same; another event at that seq
 * (the outbox was rolled back by a failover, see docs/chaos.md) almost surely does not.
 */
function fingerprintOf(payload: string): string {
  return `${payload.length}:${payload.slice(0, 160)}`;
}

/**
 * Everything one socket is sent: frames the gateway answers directly, at once, and the learner's
 * outbox events in seq order, exactly once. Live pub/sub events are checked for gaps and gaps are
 * read back from the outbox; while it catches up, live events wait in `pendingLive`. A client that
 * does not read is closed 1013 (it resumes with last_seq).
 */
export class OrderedDelivery implements FeedListener {
  private lastSeq = 0;
  /** Fingerprints of the last events delivered, by seq (at most REMEMBERED_EVENTS). */
  private readonly delivered = new Map<number, string>();
  /** The epoch the client's last_seq belongs to; checked on the first catch-up only. */
  private expectedEpoch: string | undefined;
  private catchingUp = true;
  private pendingLive: string[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private inFlightCheck: NodeJS.Timeout | undefined;
  /** Outbox events this socket waits for (one entry per request); the in-flight reads stop with the last. */
  private awaited: AwaitedEvent[] = [];
  private unsubscribe: (() => Promise<void>) | undefined;
  private isClosed = false;

  constructor(
    private readonly userId: string,
    private readonly socket: WebSocket,
    private readonly deps: DeliveryDeps,
    private readonly listener: DeliveryListener,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Subscribes, greets, then replays what the client missed after `resume.lastSeq` (if given). */
  async open(resume: Resume = {}): Promise<void> {
    this.unsubscribe = await this.deps.feed.subscribe(this.userId, this);
    // The client may have left while we subscribed: do not leave the subscription behind.
    if (this.isClosed) {
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
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.inFlightCheck);
    this.pendingLive = [];
    void this.unsubscribe?.().catch(() => {});
  }

  /** Sends a frame the gateway answers itself (no seq): it goes out at once. */
  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  /**
   * Until an event of this kind is delivered (a turn's end, a judged quiz's result, a replay's
   * audio), reads the outbox now and then: an event published while this gateway's subscription was
   * being re-established is found even if no later event reveals the gap.
   */
  watchFor(awaited: AwaitedEvent): void {
    this.awaited.push(awaited);
    if (this.inFlightCheck) return;
    this.inFlightCheck = setInterval(() => {
      if (!this.catchingUp) void this.catchUp();
    }, IN_FLIGHT_CHECK_MS);
    this.inFlightCheck.unref();
  }

  /** Made when first needed: most sockets never log, and a child logger per socket adds up. */
  private get logger(): Logger {
    return this.deps.logger.child({ userId: this.userId });
  }

  // --- FeedListener -------------------------------------------------------------------------

  onEvent(payload: string): void {
    if (this.isClosed) return;
    if (this.catchingUp) {
      this.pendingLive.push(payload);
      return;
    }
    const seq = seqOf(payload);
    if (!(seq > this.lastSeq)) {
      // Already delivered (or not an outbox event), unless another event now has that seq.
      if (this.wasRolledBack(seq, payload)) void this.catchUp({ rolledBack: true });
      return;
    }
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
    if (!this.isClosed && !this.catchingUp) void this.catchUp();
  }

  // --- delivery -----------------------------------------------------------------------------

  /**
   * Whether the outbox went back: an event at a seq already delivered that is not the one
   * delivered. A failover to a replica that had not yet received the newest events does that (its
   * seq counts again from where the replica was); the client then resyncs rather than take the new
   * events for ones it has.
   */
  private wasRolledBack(seq: number, payload: string): boolean {
    const delivered = this.delivered.get(seq);
    return delivered !== undefined && delivered !== fingerprintOf(payload);
  }

  private async catchUp({ rolledBack = false } = {}): Promise<void> {
    this.catchingUp = true;
    try {
      let result: ReadAfterResult;
      if (rolledBack) {
        const head = await this.deps.outbox.head(this.userId);
        this.logger.warn({ lastSeq: this.lastSeq, head }, 'the outbox went back (a failover); resyncing');
        result = { kind: 'resync', head, reason: 'the outbox went back after a Redis failover' };
      } else {
        // From the last event delivered, if remembered: another event there means a rollback.
        const from = this.delivered.has(this.lastSeq) ? this.lastSeq - 1 : this.lastSeq;
        result = await this.deps.outbox.readAfter(this.userId, from, this.expectedEpoch);
      }
      this.expectedEpoch = undefined;
      if (this.isClosed) return;
      if (result.kind === 'resync') {
        const state = await this.deps.store.getState(this.userId);
        this.lastSeq = result.head.seq;
        this.delivered.clear();
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
          if (this.wasRolledBack(seq, payload)) {
            this.catchingUp = false;
            return this.catchUp({ rolledBack: true });
          }
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

  /** Sends an outbox event and tells the listener whether it carried speech or ended a turn. */
  private deliver(payload: string): void {
    this.sendRaw(payload);
    const { seq, type } = envelopeOf(payload);
    this.delivered.set(seq, fingerprintOf(payload));
    if (this.delivered.size > REMEMBERED_EVENTS) this.delivered.delete(this.delivered.keys().next().value as number);
    if (carriesAudio(type, payload)) this.listener.onAudio();
    const turnEnded = endsTurn(type);
    const settled = this.awaited.findIndex((awaited) => (awaited === 'turn_end' ? turnEnded : awaited === type));
    if (settled >= 0) {
      this.awaited.splice(settled, 1);
      if (this.awaited.length === 0) {
        clearInterval(this.inFlightCheck);
        this.inFlightCheck = undefined;
      }
    }
    if (turnEnded) this.listener.onTurnEnded();
  }

  /**
   * Waits while the socket's send buffer is over half its bound (a client reading a long replay).
   * False if the socket closed or the client stopped reading altogether (it is then closed 1013).
   */
  private async drained(): Promise<boolean> {
    const limit = this.deps.maxBufferedBytes / 2;
    for (let waited = 0; this.socket.bufferedAmount > limit; waited += 10) {
      if (this.isClosed || this.socket.readyState !== this.socket.OPEN) return false;
      if (waited > REPLAY_STALL_MS) {
        this.socket.close(CloseCode.tryAgainLater, 'too slow; reconnect with last_seq');
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return !this.isClosed;
  }

  private sendRaw(text: string): void {
    if (this.isClosed || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.deps.maxBufferedBytes) {
      // A client that does not read would grow our memory; it can reconnect with last_seq.
      this.logger.warn({ buffered: this.socket.bufferedAmount }, 'closing a socket that does not keep up');
      this.socket.close(CloseCode.tryAgainLater, 'too slow; reconnect with last_seq');
      return;
    }
    this.socket.send(text);
  }
}

/** The key is found before any audio, so a sentence's megabytes are not scanned. */
const AUDIO_KEY = '"audio_base64":';

/**
 * Whether an outbox event is a reply (or a sentence of one) with speech. Inside a JSON string a
 * quote is escaped, so the first `"audio_base64":` is the key itself.
 */
function carriesAudio(type: OutboxEventType | undefined, payload: string): boolean {
  if (type !== 'reply' && type !== 'reply_audio') return false;
  const at = payload.indexOf(AUDIO_KEY);
  return at >= 0 && !payload.startsWith('null', at + AUDIO_KEY.length);
}
