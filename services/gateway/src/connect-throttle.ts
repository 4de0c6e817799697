/**
 * Token buckets kept in this gateway's memory, one per key (a learner, a client address): how
 * often connections may be attempted. Not shared between gateways: a client spread over N
 * gateways gets up to N times the budget, which is enough to make abuse cost something.
 *
 * Memory stays bounded: the map is kept in order of last use, an entry idle long enough to have
 * refilled says nothing more than no entry and is dropped, and past `maxKeys` the least recently
 * used go first.
 */
export class ConnectThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly ratePerMs: number;
  /** How long an empty bucket takes to fill up. */
  private readonly refillMs: number;

  constructor(
    private readonly options: { perMinute: number; burst: number; maxKeys?: number },
    private readonly now: () => number = Date.now,
  ) {
    this.ratePerMs = options.perMinute / 60_000;
    this.refillMs = options.burst / this.ratePerMs;
  }

  /** Takes one attempt from the key's budget; `retryAfterMs` when there is none left. */
  take(key: string): { allowed: true } | { allowed: false; retryAfterMs: number } {
    const now = this.now();
    this.forgetIdle(now);
    const bucket = this.buckets.get(key);
    const tokens = bucket
      ? Math.min(this.options.burst, bucket.tokens + (now - bucket.at) * this.ratePerMs)
      : this.options.burst;
    // Deleted and set again: the entry moves to the end, the most recently used.
    this.buckets.delete(key);
    const allowed = tokens >= 1;
    this.buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now });
    if (this.buckets.size > (this.options.maxKeys ?? 100_000))
      this.buckets.delete(this.buckets.keys().next().value as string);
    return allowed ? { allowed: true } : { allowed: false, retryAfterMs: Math.ceil((1 - tokens) / this.ratePerMs) };
  }

  /** Keys with a bucket (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private forgetIdle(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at < this.refillMs) return;
      this.buckets.delete(key);
    }
  }
}
