import { type CatalogQueue, enqueue, queueCatalog, type StoredQuiz, type SulkingLevel } from '@xiaoyue/shared';

export interface JudgeRequest {
  userId: string;
  quiz: StoredQuiz;
  answer: string;
  sulkingLevel: SulkingLevel;
  requestId?: string;
}

/**
 * Queues a translation for the agents' LLM to judge, when the agents run one (`online`); the
 * learner gets its `quiz_result` within `timeoutMs`, by the LLM or else by the rules.
 */
export async function requestJudgement(
  deps: { judgeQueue: CatalogQueue<'quizJudge'>; agentMode: () => Promise<string | null>; timeoutMs: number },
  request: JudgeRequest,
): Promise<boolean> {
  if ((await deps.agentMode()) !== 'online') return false;
  await enqueue(deps.judgeQueue, queueCatalog.quizJudge, {
    user_id: request.userId,
    request_id: request.requestId,
    quiz: request.quiz,
    answer: request.answer,
    sulking_level: request.sulkingLevel,
    deadline_at: Date.now() + deps.timeoutMs,
  });
  return true;
}
