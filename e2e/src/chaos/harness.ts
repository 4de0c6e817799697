import WebSocket from 'ws';

interface Frame {
  type: string;
  seq?: number;
  data: Record<string, unknown>;
}

/**
 * A learner that keeps talking through failures: it reconnects (to the next gateway in its list)
 * with `last_seq` whenever its socket drops, and records everything it receives so a scenario can
 * count delivered, lost, duplicated and out-of-order replies.
 */
export class ResilientLearner {
  readonly accepted = new Set<string>();
  readonly replies = new Map<string, number>();
  readonly refusals: string[] = [];
  outOfOrder = 0;
  reconnects = 0;
  private lastSeq: number | undefined;
  private socket: WebSocket | undefined;
  private gatewayIndex = 0;
  private stopped = false;
  private opened!: Promise<void>;
  private answered: (() => void) | undefined;

  constructor(
    readonly userId: string,
    private readonly gateways: string[],
  ) {}

  connect(): Promise<void> {
    const base = this.gateways[this.gatewayIndex % this.gateways.length];
    const query = this.lastSeq === undefined ? '' : `?last_seq=${this.lastSeq}`;
    const socket = new WebSocket(`${base}/ws/chat/${this.userId}${query}`);
    this.socket = socket;
    this.opened = new Promise((resolve) => {
      socket.once('message', () => resolve()); // the welcome
      socket.once('close', () => resolve());
    });
    socket.on('message', (data) => this.receive(JSON.parse(data.toString()) as Frame));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.stopped) return;
      this.reconnects++;
      this.gatewayIndex++;
      setTimeout(() => void this.connect(), 100 + Math.random() * 200);
    });
    return this.opened;
  }

  private receive(frame: Frame): void {
    if (frame.type === 'welcome') {
      this.lastSeq ??= frame.data.last_seq as number;
      return;
    }
    if (typeof frame.seq === 'number') {
      if (this.lastSeq !== undefined && frame.seq <= this.lastSeq) this.outOfOrder++;
      this.lastSeq = frame.seq;
    }
    if (frame.type === 'typing') this.accepted.add(frame.data.turn_id as string);
    if (frame.type === 'typing' || frame.type === 'error') this.answered?.();
    if (frame.type === 'reply') {
      const turn = frame.data.turn_id as string;
      this.replies.set(turn, (this.replies.get(turn) ?? 0) + 1);
    }
    if (frame.type === 'error') this.refusals.push(frame.data.code as string);
  }

  /** Sends a chat once the socket is open (waiting through a reconnect); resolves when it is answered. */
  async chat(message: string): Promise<void> {
    for (let i = 0; i < 100 && this.socket?.readyState !== WebSocket.OPEN; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.opened;
    const answered = new Promise<void>((resolve) => {
      this.answered = resolve;
      setTimeout(resolve, 5_000);
    });
    this.socket?.send(JSON.stringify({ action: 'chat', message }));
    await answered;
  }

  /** Resolves once every accepted turn has its reply, or after `timeoutMs`. */
  async settle(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && [...this.accepted].some((turn) => !this.replies.has(turn))) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  stop(): void {
    this.stopped = true;
    this.socket?.close();
  }
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

export function tally(scenario: string, learners: ResilientLearner[]): Tally {
  let accepted = 0;
  let delivered = 0;
  let duplicated = 0;
  for (const learner of learners) {
    accepted += learner.accepted.size;
    for (const turn of learner.accepted) {
      const count = learner.replies.get(turn) ?? 0;
      if (count > 0) delivered++;
      if (count > 1) duplicated += count - 1;
    }
  }
  const outOfOrder = learners.reduce((n, l) => n + l.outOfOrder, 0);
  const reconnects = learners.reduce((n, l) => n + l.reconnects, 0);
  const result = { scenario, accepted, delivered, lost: accepted - delivered, duplicated, outOfOrder, reconnects };
  console.log(
    `CHAOS ${scenario}: accepted ${accepted}, delivered ${delivered}, lost ${result.lost}, duplicated ${duplicated}, out of order ${outOfOrder}, reconnects ${reconnects}`,
  );
  return result;
}
