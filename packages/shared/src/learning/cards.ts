import { createHash } from 'node:crypto';
import { type Card, createEmptyCard, fsrs, Rating, State } from 'ts-fsrs';
import { z } from 'zod';
import { QuizDraft } from '../reply.js';
import { normalizeAnswer } from './grading.js';

/** FSRS memory state of a card, as stored (dates as ISO strings). */
const FsrsState = z.object({
  due: z.string(),
  stability: z.number(),
  difficulty: z.number(),
  elapsed_days: z.number(),
  scheduled_days: z.number(),
  learning_steps: z.number().default(0),
  reps: z.number(),
  lapses: z.number(),
  state: z.number(),
  last_review: z.string().optional(),
});

/**
 * One thing the learner got wrong, to be asked again on the FSRS schedule. Front: what she asks
 * (the quiz); back: the right form and why.
 */
export const ReviewCard = z.object({
  id: z.string(),
  kind: z.enum(['correction', 'quiz']),
  /** The learner's wrong sentence (a correction) or the question they missed. */
  front: z.string(),
  /** The right form. */
  back: z.string(),
  /** Why, in Vietnamese. */
  explanation: z.string(),
  /** How she asks it again. */
  quiz: QuizDraft,
  fsrs: FsrsState,
  /** Times the learner made this mistake (each correction or wrong answer). */
  mistakes: z.number(),
  created_at: z.string(),
  /** The last turn or quiz that rated the card: a retried job must not rate it twice. */
  last_event: z.string().optional(),
});
export type ReviewCard = z.infer<typeof ReviewCard>;

/** A mistake as the agent or the grader reports it. */
export interface Mistake {
  kind: ReviewCard['kind'];
  front: string;
  back: string;
  explanation: string;
  /** The quiz to ask; a correction is asked as "put this right". */
  quiz?: QuizDraft;
}

// No fuzz: the same answers give the same schedule, which learners (and tests) can rely on.
// Learning steps of 1 and 10 minutes: a fresh mistake comes back within the same session.
const scheduler = fsrs({ enable_fuzz: false, learning_steps: ['1m', '10m'], relearning_steps: ['10m'] });

/** The same mistake (same right form, same question) always maps to the same card. */
export function cardIdFor(mistake: Pick<Mistake, 'kind' | 'front' | 'back'>): string {
  const basis = `${mistake.kind}\n${normalizeAnswer(mistake.front)}\n${normalizeAnswer(mistake.back)}`;
  return `c-${createHash('sha256').update(basis).digest('base64url').slice(0, 12)}`;
}

/** How a correction is asked again: put the learner's own sentence right. */
export function correctionQuiz(wrong: string, right: string, explanation: string): QuizDraft {
  return {
    type: 'fill',
    question: `这句话哪里不对？请改正：“${wrong}”`,
    options: [],
    answer: right,
    hint: 'Viết lại câu cho đúng.',
    explanation,
  };
}

function toFsrs(state: z.infer<typeof FsrsState>): Card {
  return {
    ...state,
    due: new Date(state.due),
    state: state.state as State,
    last_review: state.last_review ? new Date(state.last_review) : undefined,
  };
}

function fromFsrs(card: Card): z.infer<typeof FsrsState> {
  return {
    due: card.due.toISOString(),
    stability: card.stability,
    difficulty: card.difficulty,
    elapsed_days: card.elapsed_days,
    scheduled_days: card.scheduled_days,
    learning_steps: card.learning_steps,
    reps: card.reps,
    lapses: card.lapses,
    state: card.state,
    ...(card.last_review ? { last_review: card.last_review.toISOString() } : {}),
  };
}

/** A new card for a mistake just made: rated "again", so it comes back in a minute. */
export function newCard(mistake: Mistake, eventId: string, now: Date): ReviewCard {
  const quiz = mistake.quiz ?? correctionQuiz(mistake.front, mistake.back, mistake.explanation);
  const again = scheduler.next(createEmptyCard(now), now, Rating.Again).card;
  return {
    id: cardIdFor(mistake),
    kind: mistake.kind,
    front: mistake.front,
    back: mistake.back,
    explanation: mistake.explanation,
    quiz: { ...quiz, card_id: cardIdFor(mistake) },
    fsrs: fromFsrs(again),
    mistakes: 1,
    created_at: now.toISOString(),
    last_event: eventId,
  };
}

/**
 * Rates a card: a right answer is "good", a wrong one (or the same mistake again) "again". An
 * event that already rated the card leaves it as it is.
 */
export function reviewCard(card: ReviewCard, correct: boolean, eventId: string, now: Date): ReviewCard {
  if (card.last_event === eventId) return card;
  const next = scheduler.next(toFsrs(card.fsrs), now, correct ? Rating.Good : Rating.Again).card;
  return {
    ...card,
    fsrs: fromFsrs(next),
    mistakes: card.mistakes + (correct ? 0 : 1),
    last_event: eventId,
  };
}

export function dueAt(card: ReviewCard): number {
  return Date.parse(card.fsrs.due);
}

/** Graduated from the learning steps to spaced review. */
export function isLearned(card: ReviewCard): boolean {
  return card.fsrs.state === State.Review;
}
