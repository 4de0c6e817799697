import type { ReconnectOptions } from './types.js';

export const DEFAULT_RECONNECT: ReconnectOptions = {
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** The wait before reconnect attempt `attempt` (1, 2, …): exponential, capped, minus random jitter. */
export function backoffDelay(attempt: number, options: ReconnectOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** (attempt - 1));
  return Math.round(ceiling * (1 - options.jitter * random()));
}

/** The wait after the server answered 429 (too many attempts or sockets): the cap, less the jitter. */
export function longestDelay(options: ReconnectOptions, random: () => number = Math.random): number {
  return Math.round(options.maxDelayMs * (1 - options.jitter * random()));
}
