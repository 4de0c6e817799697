import { type AnyServerFrame, type ClientOptions, XiaoYueClient, XiaoYueError } from '@xiaoyue/client';
import WebSocket from 'ws';

/**
 * A learner that keeps talking through failures, on XiaoYueClient as a real learner would: its
 * reconnect with backoff (to the next gateway in its list) and resume with last_seq and epoch. It
 * counts what a scenario asserts: turns accepted (`typing`) and replies shown (the client's `reply`
 * events, de-duplicated), and, from the raw frame hook, replies the server sent twice and outbox
 * events that came out of order.
 */
export class ResilientLearner {
  readonly client: XiaoYueClient;
  /** Turns the server accepted: their `typing` came. */
  readonly accepted = new Set<string>();
  /** Replies the client showed, by turn. */
  readonly shown = new Map<string, number>();
  /** Replies the server sent, by turn, repeats included. */
  readonly sent = new Map<string, number>();
  /** Error codes of chats that were not accepted (`busy`, `disconnected`, …). */
  readonly refusals: string[] = [];
  /** Outbox events the server sent with a seq not above one it had sent before. */
  outOfOrder = 0;
  /** Reconnect attempts (the client's `reconnecting` events). */
  reconnects = 0;
  /** The newest outbox seq the server sent, to see one come after a later one. */
  private newestSentSeq: number | undefined;

  constructor(
    readonly userId: string,
    gateways: string[],
    /** More client options (a token function, say). */
    options: Partial<ClientOptions> = {},
  ) {
    let connections = 0;
    this.client = new XiaoYueClient({
      url: () => gateways[connections++ % gateways.length] as string,
      userId,
      WebSocket,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
      ...options,
    });
    this.client.on('frame', (frame) => this.received(frame));
    this.client.on('typing', (data) => this.accepted.add(data.turn_id));
    this.client.on('reply', (data) => countOne(this.shown, data.turn_id));
    this.client.on('reconnecting', () => this.reconnects++);
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  /** Sends a chat once connected (waiting through a reconnect); resolves when it is answered. */
  async chat(message: string): Promise<void> {
    try {
      await this.client.connect();
      await this.client.chat(message, { timeoutMs: 5_000 });
    } catch (error) {
      this.refusals.push(error instanceof XiaoYueError ? error.code : String(error));
    }
  }

  /** Resolves once every accepted turn has its reply shown, or after `timeoutMs`. */
  async settle(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && [...this.accepted].some((turn) => !this.shown.has(turn))) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  stop(): void {
    this.client.close();
  }

  /** Every frame as the server sent it, before the client drops what it has already shown. */
  private received(frame: AnyServerFrame): void {
    if (frame.type === 'welcome') this.newestSentSeq ??= frame.data.last_seq;
    // The outbox was recreated: its events count from the seq it names.
    if (frame.type === 'resync') this.newestSentSeq = frame.data.last_seq;
    if (typeof frame.seq === 'number') {
      if (this.newestSentSeq !== undefined && frame.seq <= this.newestSentSeq) this.outOfOrder++;
      this.newestSentSeq = frame.seq;
    }
    if (frame.type === 'reply') countOne(this.sent, frame.data.turn_id);
  }
}

function countOne(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export interface Tally {
  scenario: string;
  accepted: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  reconnects: number;
}

/**
 * Sums the learners' counts and prints the scenario's CHAOS line. Lost: accepted turns whose reply
 * was never shown. Duplicated: replies the server sent again (the client shows them once, so only
 * the raw frames tell).
 */
export function tally(scenario: string, learners: ResilientLearner[]): Tally {
  const sum = (count: (learner: ResilientLearner) => number) => learners.reduce((n, l) => n + count(l), 0);
  const accepted = sum((l) => l.accepted.size);
  const delivered = sum((l) => [...l.accepted].filter((turn) => l.shown.has(turn)).length);
  const duplicated = sum((l) => [...l.sent.values()].reduce((n, times) => n + times - 1, 0));
  const outOfOrder = sum((l) => l.outOfOrder);
  const reconnects = sum((l) => l.reconnects);
  const result = { scenario, accepted, delivered, lost: accepted - delivered, duplicated, outOfOrder, reconnects };
  console.log(
    `CHAOS ${scenario}: accepted ${accepted}, delivered ${delivered}, lost ${result.lost}, duplicated ${duplicated}, out of order ${outOfOrder}, reconnects ${reconnects}`,
  );
  return result;
}
