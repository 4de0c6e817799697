import type { QuizResultData, ReviewData } from '../events.js';
import type { QuizType, SulkingLevel } from '../reply.js';
import { dueAt } from './cards.js';
import { gradeAnswer } from './grading.js';
import type { LearnerStore, StoredQuiz } from './learner-store.js';
import { quizReaction, reviewOpening } from './reactions.js';

export type AnswerOutcome =
  | { kind: 'graded'; type: QuizType; result: QuizResultData }
  /** Handed to a judge (a translation the rules call wrong, for the LLM to read); its result comes later. */
  | { kind: 'deferred'; quiz: StoredQuiz }
  | { kind: 'unknown_quiz' }
  | { kind: 'already_answered'; expected: string };

/** How many due cards one review quiz asks. */
export const REVIEW_SIZE = 3;

export interface AnswerInput {
  quizId: string;
  answer: string;
  sulkingLevel: SulkingLevel;
  /**
   * Asked about a claimed quiz the rules grade wrong: true hands it to a judge that will settle
   * it (a translation may be right in other words); false or absent grades it by the rules.
   */
  defer?: (quiz: StoredQuiz) => Promise<boolean>;
}

/**
 * Grades the learner's answer to a quiz, once (whichever gateway it reaches): by the rules, or
 * handed to a judge when `defer` takes it.
 */
export async function answerQuiz(
  store: LearnerStore,
  userId: string,
  input: AnswerInput,
  now = new Date(),
): Promise<AnswerOutcome> {
  const claim = await store.claimQuiz(userId, input.quizId);
  if (claim.kind === 'unknown') return { kind: 'unknown_quiz' };
  if (claim.kind === 'answered') return { kind: 'already_answered', expected: claim.quiz.draft.answer };
  const correct = gradeAnswer(claim.quiz.draft, input.answer);
  if (!correct && (await input.defer?.(claim.quiz))) return { kind: 'deferred', quiz: claim.quiz };
  const result = await settleAnswer(store, userId, { ...input, quiz: claim.quiz, correct }, now);
  return { kind: 'graded', type: claim.quiz.draft.type, result };
}

/**
 * Records a graded answer: counts it, turns a wrong answer into a review card (or sets its card
 * back), reviews the card of a right answer, and has her react.
 */
export async function settleAnswer(
  store: LearnerStore,
  userId: string,
  input: {
    quiz: StoredQuiz;
    answer: string;
    correct: boolean;
    sulkingLevel: SulkingLevel;
    /** The judge's own explanation, in place of the quiz's. */
    explanation?: string;
    gradedBy?: QuizResultData['graded_by'];
  },
  now = new Date(),
): Promise<QuizResultData> {
  const { quiz, correct } = input;
  const { draft } = quiz;
  await store.recordAnswer(userId, correct, now);
  const eventId = `answer:${quiz.id}`;
  const card = draft.card_id
    ? await store.reviewCard(userId, draft.card_id, correct, eventId, now)
    : correct
      ? undefined
      : await store.recordMistake(
          userId,
          { kind: 'quiz', front: draft.question, back: draft.answer, explanation: draft.explanation, quiz: draft },
          eventId,
          now,
        );
  return {
    quiz_id: quiz.id,
    correct,
    answer: input.answer,
    expected: draft.answer,
    explanation: input.explanation || draft.explanation,
    reaction: quizReaction(correct, input.sulkingLevel, quiz.id),
    graded_by: input.gradedBy ?? 'rules',
    ...(card ? { card: { id: card.id, due_at: new Date(dueAt(card)).toISOString() } } : {}),
  };
}

/**
 * A quiz of the learner's due cards, asked now (`review` action); asked again before it is
 * answered, the same quizzes (those not answered yet) rather than new ones.
 */
export async function startReview(store: LearnerStore, userId: string, now = Date.now()): Promise<ReviewData> {
  const [cards, { due, next_due_at }] = await Promise.all([
    store.dueCards(userId, REVIEW_SIZE, now),
    store.dueSummary(userId, now),
  ]);
  const quizList = await store.openReview(
    userId,
    cards.map((card) => card.quiz),
    now,
  );
  return {
    ...reviewOpening(quizList.length),
    quiz_list: quizList,
    due,
    next_due_at,
  };
}
