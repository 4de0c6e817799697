import { type LearnerStore, type Logger, type Outbox, type QuizJudgeJob, settleAnswer } from '@xiaoyue/shared';
import type { TranslationVerdict, TutorLlm } from './llm/types.js';

export interface JudgeDeps {
  llm: TutorLlm;
  learners: LearnerStore;
  outbox: Outbox;
  logger: Logger;
}

export type JudgeOutcome = 'llm' | 'rules' | 'duplicate';

/**
 * Settles a translation the rules graded wrong: the LLM reads it (other wordings may be right)
 * within the job's deadline; if it cannot, the rules' verdict stands. The `quiz_result` reaches
 * the learner through the outbox.
 */
export async function judgeAnswer(job: QuizJudgeJob, deps: JudgeDeps, signal?: AbortSignal): Promise<JudgeOutcome> {
  // A retried job never settles the quiz twice: its result is keyed by the quiz.
  if (await deps.outbox.has(job.user_id, 'quiz_result', { quiz_id: job.quiz.id })) return 'duplicate';
  const verdict = await askJudge(job, deps, signal);
  const result = await settleAnswer(deps.learners, job.user_id, {
    quiz: job.quiz,
    answer: job.answer,
    correct: verdict?.correct ?? false,
    sulkingLevel: job.sulking_level,
    explanation: verdict?.explanation,
    gradedBy: verdict ? 'llm' : 'rules',
  });
  await deps.outbox.append(job.user_id, { type: 'quiz_result', data: result, requestId: job.request_id });
  return verdict ? 'llm' : 'rules';
}

async function askJudge(
  job: QuizJudgeJob,
  deps: JudgeDeps,
  signal: AbortSignal | undefined,
): Promise<TranslationVerdict | undefined> {
  const budgetMs = job.deadline_at - Date.now();
  if (!deps.llm.judgeTranslation || budgetMs <= 0) return undefined;
  const deadline = AbortSignal.timeout(budgetMs);
  try {
    return await deps.llm.judgeTranslation(
      { question: job.quiz.draft.question, expected: job.quiz.draft.answer, answer: job.answer },
      signal ? AbortSignal.any([signal, deadline]) : deadline,
    );
  } catch (error) {
    deps.logger.warn(
      { quizId: job.quiz.id, userId: job.user_id, err: error instanceof Error ? error.message : String(error) },
      'LLM could not judge the translation; the rules grade it',
    );
    return undefined;
  }
}
