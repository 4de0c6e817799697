import { randomUUID } from 'node:crypto';
import {
  type CatalogQueue,
  enqueue,
  queueCatalog,
  type RedisClient,
  type RedisKeys,
  type TurnDeadlineJob,
  type TurnDeadlines,
} from '@xiaoyue/shared';

export interface TurnRequest {
  userId: string;
  message: string;
  userRole: string;
  requestId?: string;
  /** Stream the reply sentence by sentence (the socket connected with `?stream=1`). */
  stream?: boolean;
}

export type TurnStart = { kind: 'started'; turnId: string } | { kind: 'busy'; activeTurnId: string | null };

/** How long after the deadline the active-turn lock may outlive a turn nobody finished. */
const LOCK_GRACE_MS = 5_000;

/**
 * Starts a learner's turn: one at a time per learner, across every gateway. The lock is taken
 * here and released when the turn's reply reaches the outbox; a second message meanwhile is
 * answered `busy`, so each turn is built on the complete history of the ones before it.
 */
export class TurnStarter {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly chatQueue: CatalogQueue<'chat'>,
    /** Where the turn's deadline goes, for the agents' watchdog sweep. */
    private readonly deadlines: TurnDeadlines,
    private readonly turnTimeoutMs: number,
  ) {}

  async start(request: TurnRequest): Promise<TurnStart> {
    const turnId = randomUUID();
    const lockKey = this.keys.activeTurn(request.userId);
    const locked = await this.redis.set(lockKey, turnId, 'PX', this.turnTimeoutMs + LOCK_GRACE_MS, 'NX');
    if (locked !== 'OK') return { kind: 'busy', activeTurnId: await this.redis.get(lockKey) };
    const now = Date.now();
    const deadline: TurnDeadlineJob = {
      turn_id: turnId,
      user_id: request.userId,
      request_id: request.requestId,
      user_message: request.message,
      user_role: request.userRole,
      ...(request.stream ? { stream: true } : {}),
    };
    // The turn and its deadline go in together: nothing depends on their order.
    const [turn, watchdog] = await Promise.allSettled([
      enqueue(this.chatQueue, queueCatalog.chat, {
        turn_id: turnId,
        user_id: request.userId,
        message: request.message,
        user_role: request.userRole,
        request_id: request.requestId,
        deadline_at: now + this.turnTimeoutMs,
        enqueued_at: now,
        ...(request.stream ? { stream: true } : {}),
      }),
      this.deadlines.schedule(deadline, now + this.turnTimeoutMs),
    ]);
    if (turn.status === 'rejected') {
      if (watchdog.status === 'fulfilled') await this.deadlines.cancel(deadline).catch(() => {});
      await this.releaseLock(request.userId, turnId);
      throw turn.reason;
    }
    return { kind: 'started', turnId };
  }

  private async releaseLock(userId: string, turnId: string): Promise<void> {
    const key = this.keys.activeTurn(userId);
    if ((await this.redis.get(key).catch(() => null)) === turnId) await this.redis.del(key).catch(() => {});
  }
}
