export interface SocketBudgetOptions {
  /** The learner's budget (RATE_LIMIT_PER_MINUTE, RATE_LIMIT_BURST): a client within it never meets this one. */
  perMinute: number;
  burst: number;
  /** Refused frames in a row after which the next refused frame closes the socket. */
  maxConsecutiveRefusals: number;
}

/**
 * What to do with one frame: let it through (valid frames then take a token from the learner's
 * shared budget in Redis), refuse it (`rate_limited`), or close the socket.
 */
export type Verdict = { kind: 'pass' } | Refusal;
export type Refusal = { kind: 'refuse'; retryAfterMs: number } | { kind: 'close'; refusals: number };

const PASS: Verdict = { kind: 'pass' };

/**
 * One socket's budget, in memory, in front of the learner's token bucket in Redis (which stays the
 * truth across sockets and gateways): every frame, valid or not, takes a token here first, so a
 * flood is refused without a Redis round trip. When Redis refuses, its "retry after" is held here
 * and frames are refused locally until then. Times are in ms from any monotonic clock.
 */
export class SocketBudget {
  private tokens: number;
  private refilledAt: number;
  private readonly tokensPerMs: number;
  /** Until then the shared bucket is empty: refuse without asking it. */
  private heldUntil = Number.NEGATIVE_INFINITY;
  private refusalsInARow = 0;

  constructor(
    private readonly options: SocketBudgetOptions,
    now: number,
  ) {
    this.tokens = options.burst;
    this.refilledAt = now;
    this.tokensPerMs = options.perMinute / 60_000;
  }

  /** A frame arrived. */
  admit(now: number): Verdict {
    if (now < this.heldUntil) return this.refuse(this.heldUntil - now);
    this.tokens = Math.min(this.options.burst, this.tokens + (now - this.refilledAt) * this.tokensPerMs);
    this.refilledAt = now;
    if (this.tokens < 1) return this.refuse(Math.ceil((1 - this.tokens) / this.tokensPerMs));
    this.tokens -= 1;
    this.refusalsInARow = 0;
    return PASS;
  }

  /** How long the shared bucket said to wait, if that is not over yet (0: ask it). */
  heldMs(now: number): number {
    return Math.max(0, this.heldUntil - now);
  }

  /** The shared bucket refused a frame that passed here (or it is still held): refuse until it has a token. */
  refusedByShared(retryAfterMs: number, now: number): Refusal {
    this.heldUntil = Math.max(this.heldUntil, now + retryAfterMs);
    return this.refuse(retryAfterMs);
  }

  private refuse(retryAfterMs: number): Refusal {
    this.refusalsInARow++;
    if (this.refusalsInARow > this.options.maxConsecutiveRefusals) {
      return { kind: 'close', refusals: this.refusalsInARow };
    }
    return { kind: 'refuse', retryAfterMs };
  }
}
