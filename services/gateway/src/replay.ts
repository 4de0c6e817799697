import { randomUUID } from 'node:crypto';
import {
  type CatalogQueue,
  type ConversationStore,
  enqueue,
  type LearnerStore,
  queueCatalog,
  type ReplayRate,
  voiceFor,
} from '@xiaoyue/shared';

export interface ReplayRequest {
  userId: string;
  turnId: string;
  rate: ReplayRate;
  requestId?: string;
}

/**
 * Speaks a past line of hers again (in the learner's voice): found in the learner's history and queued for speech; the
 * audio comes back as a `replay_audio` event. False if the turn is not in the history (or said
 * nothing).
 */
export async function startReplay(
  deps: { store: ConversationStore; learners: LearnerStore; ttsQueue: CatalogQueue<'tts'>; timeoutMs: number },
  request: ReplayRequest,
): Promise<boolean> {
  const [history, voice] = await Promise.all([deps.store.history(request.userId), deps.learners.voice(request.userId)]);
  const turn = history.find((t) => t.turn_id === request.turnId);
  if (!turn || turn.chinese_content.trim() === '') return false;
  await enqueue(deps.ttsQueue, queueCatalog.tts, {
    turn_id: turn.turn_id,
    user_id: request.userId,
    request_id: request.requestId,
    text: turn.chinese_content,
    emotion: voiceFor(turn.emotion, turn.sulking_level),
    deadline_at: Date.now() + deps.timeoutMs,
    replay: { rate: request.rate, id: randomUUID().slice(0, 8) },
    ...(voice ? { voice } : {}),
  });
  return true;
}
