import type { QuizResultData, ReviewData } from '../protocol.js';
import type { QuizType, SulkingLevel } from '../reply.js';
import { dueAt } from './cards.js';
import { gradeAnswer } from './grading.js';
import type { LearnerStore } from './learner-store.js';
import { quizReaction, reviewOpening } from './reactions.js';

export type AnswerOutcome =
  | { kind: 'graded'; type: QuizType; result: QuizResultData }
  | { kind: 'unknown_quiz' }
  | { kind: 'already_answered'; expected: string };

/** How many due cards one review quiz asks. */
export const REVIEW_SIZE = 3;

/**
 * Grades the learner's answer to a quiz, once: counts it, turns a wrong answer into a review card
 * (or sets its card back), reviews the card of a right answer, and has her react.
 */
export async function answerQuiz(
  store: LearnerStore,
  userId: string,
  input: { quizId: string; answer: string; sulkingLevel: SulkingLevel },
  now = new Date(),
): Promise<AnswerOutcome> {
  const claim = await store.claimQuiz(userId, input.quizId);
  if (claim.kind === 'unknown') return { kind: 'unknown_quiz' };
  if (claim.kind === 'answered') return { kind: 'already_answered', expected: claim.quiz.draft.answer };
  const { draft } = claim.quiz;
  const correct = gradeAnswer(draft, input.answer);
  await store.recordAnswer(userId, correct, now);
  const eventId = `answer:${input.quizId}`;
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
    kind: 'graded',
    type: draft.type,
    result: {
      quiz_id: input.quizId,
      correct,
      answer: input.answer,
      expected: draft.answer,
      explanation: draft.explanation,
      reaction: quizReaction(correct, input.sulkingLevel, input.quizId),
      ...(card ? { card: { id: card.id, due_at: new Date(dueAt(card)).toISOString() } } : {}),
    },
  };
}

/** A quiz of the learner's due cards, asked now (`review` action). */
export async function startReview(store: LearnerStore, userId: string, now = Date.now()): Promise<ReviewData> {
  const [cards, progress] = await Promise.all([store.dueCards(userId, REVIEW_SIZE, now), store.progress(userId, now)]);
  const quizList = await store.saveQuizzes(
    userId,
    `review-${now.toString(36)}`,
    cards.map((card) => card.quiz),
  );
  return {
    ...reviewOpening(cards.length),
    quiz_list: quizList,
    due: progress.cards_due,
    next_due_at: progress.next_due_at,
  };
}
