import type { RedisKeys } from './keys.js';
import type { RedisClient } from './redis.js';

/** How long a cancel request waits for an agent that has not picked the turn up yet. */
const CANCEL_TTL_SECONDS = 120;

/** Asks the agents to stop a streaming turn: a marker for one that has not started it, a message for one that has. */
export async function requestTurnCancel(
  redis: RedisClient,
  keys: RedisKeys,
  userId: string,
  turnId: string,
): Promise<void> {
  await redis
    .multi()
    .set(keys.turnCancel(userId, turnId), '1', 'EX', CANCEL_TTL_SECONDS)
    .publish(keys.turnCancelChannel(), `${userId} ${turnId}`)
    .exec();
}

/**
 * An agent process's running turns that a learner may interrupt: each gets an AbortSignal that
 * fires when a cancel request for it arrives (one subscription per process).
 */
export class TurnCancellations {
  private readonly running = new Map<string, AbortController>();

  private constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** `subscriber` becomes a dedicated pub/sub connection. */
  static async listen(redis: RedisClient, subscriber: RedisClient, keys: RedisKeys): Promise<TurnCancellations> {
    const cancellations = new TurnCancellations(redis, keys);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== keys.turnCancelChannel()) return;
      const turnId = message.split(' ')[1];
      if (turnId) cancellations.running.get(turnId)?.abort(new Error('interrupted by the learner'));
    });
    await subscriber.subscribe(keys.turnCancelChannel());
    return cancellations;
  }

  /** The turn's cancel signal, already aborted if the learner interrupted it before it started. */
  async watch(userId: string, turnId: string): Promise<AbortSignal> {
    const controller = new AbortController();
    this.running.set(turnId, controller);
    if ((await this.redis.exists(this.keys.turnCancel(userId, turnId))) === 1)
      controller.abort(new Error('interrupted by the learner'));
    return controller.signal;
  }

  unwatch(turnId: string): void {
    this.running.delete(turnId);
  }
}
