import type { ReplyData } from './events.js';
import type { Outbox } from './outbox.js';

export interface TurnEnd {
  userId: string;
  requestId?: string;
  /** The whole reply, in the seed's shape. */
  data: ReplyData;
  /**
   * A streamed turn ends with `reply_done` instead of `reply`: in order after its last sentence's
   * audio (`sentences` were streamed), or `cut` short (interrupted, or out of time): the gate
   * closes, speech still on its way is dropped, and `sentences` defaults to those delivered.
   */
  stream?: { sentences: number; cut?: false } | { sentences?: number; cut: true };
}

/**
 * Ends a learner's turn: its last event reaches the outbox once, whoever gets there first (the TTS
 * worker, the agent, or the deadline watchdog), and the learner's active-turn lock is released.
 * Every path that ends a turn goes through here.
 */
export async function endTurn(outbox: Outbox, end: TurnEnd): Promise<{ seq: number; duplicate: boolean }> {
  const { userId, requestId, data, stream } = end;
  if (!stream) return outbox.append(userId, { type: 'reply', data, requestId });
  const gate = data.turn_id;
  if (!stream.cut) {
    const done = { ...data, sentences: stream.sentences };
    return outbox.appendInOrder(
      userId,
      { type: 'reply_done', data: done, requestId },
      { gate, index: stream.sentences },
    );
  }
  const sentences = stream.sentences ?? (await outbox.gateState(userId, gate)).next;
  await outbox.closeGate(userId, gate);
  return outbox.append(userId, { type: 'reply_done', data: { ...data, sentences }, requestId });
}

/** Whether the learner already has this turn's last event. */
export function isTurnAnswered(outbox: Outbox, userId: string, turnId: string): Promise<boolean> {
  return outbox.has(userId, 'reply', { turn_id: turnId });
}
