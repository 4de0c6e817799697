import type { Outbox } from './outbox.js';
import { type ReplyData, successFrame } from './protocol.js';

/** Idempotency key of a turn's final `reply` event. */
export function replyEventKey(turnId: string): string {
  return `${turnId}-reply`;
}

export interface ReplyDelivery {
  userId: string;
  requestId?: string;
  data: ReplyData;
}

/**
 * Ends a turn: appends its `reply` event to the learner's outbox (once, whoever gets there first:
 * the TTS worker, or the deadline watchdog) and releases the learner's active-turn lock.
 */
export async function deliverReply(
  outbox: Outbox,
  delivery: ReplyDelivery,
): Promise<{ seq: number; duplicate: boolean }> {
  return outbox.append({
    userId: delivery.userId,
    idempotencyKey: replyEventKey(delivery.data.turn_id),
    event: successFrame('reply', delivery.data, delivery.requestId),
    completesTurnId: delivery.data.turn_id,
  });
}

/** Whether the learner already has this turn's reply. */
export function isTurnAnswered(outbox: Outbox, userId: string, turnId: string): Promise<boolean> {
  return outbox.has(userId, replyEventKey(turnId));
}
