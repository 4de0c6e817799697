import {
  type ConversationStore,
  endTurn,
  isTurnAnswered,
  type Logger,
  noAudio,
  type Outbox,
  PendingReply,
  type RedisClient,
  type RedisKeys,
  type ReplyData,
  type TurnDeadlineJob,
} from '@xiaoyue/shared';
import { fallbackReply } from './fallback.js';
import { commitTurn, replyDataFrom } from './turn.js';

export interface DeadlineDeps {
  outbox: Outbox;
  store: ConversationStore;
  redis: RedisClient;
  keys: RedisKeys;
  logger: Logger;
  pendingReplyTtlSeconds: number;
  /** Counts the turns the watchdog had to answer with a fallback line. */
  onFallback?: () => void;
}

export type DeadlineOutcome = 'already_answered' | 'delivered_without_audio' | 'delivered_fallback';

/**
 * The turn-deadline watchdog: a learner never waits forever. If the turn has no reply yet, it
 * delivers the written reply without audio when the agent had finished, else her fallback line.
 */
export async function enforceTurnDeadline(job: TurnDeadlineJob, deps: DeadlineDeps): Promise<DeadlineOutcome> {
  const { outbox } = deps;
  if (await isTurnAnswered(outbox, job.user_id, job.turn_id)) return 'already_answered';
  const logger = deps.logger.child({ turnId: job.turn_id, userId: job.user_id });

  const pending = await deps.redis.get(deps.keys.pendingReply(job.user_id, job.turn_id));
  const parsed = pending ? PendingReply.safeParse(JSON.parse(pending)) : undefined;
  if (parsed?.success) {
    logger.warn('turn deadline passed before speech; delivering the reply without audio');
    await endLateTurn(job, deps, { ...parsed.data, ...noAudio('turn_timeout') });
    return 'delivered_without_audio';
  }

  logger.warn('turn deadline passed with no reply; delivering the fallback line');
  deps.onFallback?.();
  const { sulking_level } = await deps.store.getState(job.user_id);
  const data = replyDataFrom(job.turn_id, fallbackReply(job.turn_id, sulking_level), sulking_level, true);
  const delivered = await endLateTurn(job, deps, { ...data, ...noAudio('turn_timeout') });
  // Delivered first, so an agent finishing late sees the turn answered and leaves history alone.
  if (!delivered.duplicate) {
    const turn = { turn_id: job.turn_id, user_id: job.user_id, message: job.user_message, user_role: job.user_role };
    await commitTurn(deps, turn, data);
  }
  return 'delivered_fallback';
}

/** Ends a late turn: a streamed one is cut (speech still on its way is dropped; the learner has the words). */
function endLateTurn(job: TurnDeadlineJob, deps: DeadlineDeps, data: ReplyData): Promise<{ duplicate: boolean }> {
  return endTurn(deps.outbox, {
    userId: job.user_id,
    requestId: job.request_id,
    data,
    ...(job.stream ? { stream: { cut: true } } : {}),
  });
}
