import type { Redis } from 'ioredis';
import { LearnerProfile, type ProgressData, type QuizItem } from '../events.js';
import type { RedisKeys } from '../keys.js';
import type { HskLevel } from '../protocol.js';
import { type LearnerFacts, QuizDraft } from '../reply.js';
import { dueAt, isLearned, type Mistake, newCard, ReviewCard, reviewCard } from './cards.js';
import { mergeFacts } from './profile.js';

export const DEFAULT_HSK_LEVEL: HskLevel = 2;

/** How many of the learner's most frequent mistakes the profile lists. */
const PROFILE_MISTAKES = 3;

export interface LearnerStoreOptions {
  /** How long an unanswered quiz can still be answered (with the conversation's TTL). */
  quizTtlSeconds: number;
}

/** A quiz's answer key as kept on the server. */
export interface StoredQuiz {
  id: string;
  /** The turn that asked it, or `review` for a review quiz. */
  turn_id: string;
  draft: QuizDraft;
}

export type QuizClaim =
  | { kind: 'claimed'; quiz: StoredQuiz }
  | { kind: 'unknown' }
  | { kind: 'answered'; quiz: StoredQuiz };

/** Marks a quiz answered exactly once, whichever gateway the answers arrive at. */
const CLAIM_QUIZ = `
if redis.call('exists', KEYS[1]) == 0 then return {0} end
local item = redis.call('hget', KEYS[1], 'item')
if redis.call('hsetnx', KEYS[1], 'answered_at', ARGV[1]) == 0 then return {2, item} end
return {1, item}
`;

/** What the agent needs of the learner to build a turn's prompt. */
export interface LearnerContext {
  level: HskLevel;
  profile: LearnerProfile;
  /** Mistakes due for review now, most overdue first. */
  dueCards: ReviewCard[];
}

/** What a finished turn adds to the learner's progress. */
export interface TurnLearning {
  turnId: string;
  /** Chinese words she used. */
  words: string[];
  /** What the turn revealed about the learner (their message, the LLM's notes). */
  facts: (LearnerFacts | null | undefined)[];
  /** A correction she made, to come back as a review card. */
  mistake?: Mistake;
  /** Turns that left the history window with this one (folded into the profile). */
  foldedTurns: number;
}

/**
 * The learner's progress: quiz keys, FSRS review cards, scores, streak, level, words met and the
 * profile that outlives the history window. Progress keys have no TTL and survive `reset`.
 */
export class LearnerStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: LearnerStoreOptions,
  ) {}

  // --- quizzes ------------------------------------------------------------------------------

  /**
   * Keeps the answer keys of a turn's quizzes and returns them as the learner sees them. Ids are
   * derived from the turn, so a retried job stores the same quizzes (and keeps their answers).
   */
  async saveQuizzes(userId: string, turnId: string, drafts: QuizDraft[]): Promise<QuizItem[]> {
    if (drafts.length === 0) return [];
    const multi = this.redis.multi();
    const items = drafts.map((draft, i) => {
      const id = `q-${turnId}-${i + 1}`;
      const key = this.keys.quiz(userId, id);
      const stored: StoredQuiz = { id, turn_id: turnId, draft };
      multi.hsetnx(key, 'item', JSON.stringify(stored)).expire(key, this.options.quizTtlSeconds);
      return publicQuiz(id, draft);
    });
    await multi.exec();
    return items;
  }

  /** Takes a quiz for grading: only the first answer to a known quiz gets `claimed`. */
  async claimQuiz(userId: string, quizId: string): Promise<QuizClaim> {
    const [status, item] = (await this.redis.eval(
      CLAIM_QUIZ,
      1,
      this.keys.quiz(userId, quizId),
      new Date().toISOString(),
    )) as [number, string?];
    const quiz = item ? parseStoredQuiz(item) : undefined;
    if (status === 0 || !quiz) return { kind: 'unknown' };
    return status === 2 ? { kind: 'answered', quiz } : { kind: 'claimed', quiz };
  }

  // --- review cards -------------------------------------------------------------------------

  /** A mistake becomes a card due in a minute; the same mistake again sets its card back. */
  async recordMistake(userId: string, mistake: Mistake, eventId: string, now = new Date()): Promise<ReviewCard> {
    const fresh = newCard(mistake, eventId, now);
    const existing = await this.card(userId, fresh.id);
    const card = existing ? reviewCard(existing, false, eventId, now) : fresh;
    await this.saveCard(userId, card);
    return card;
  }

  /** Rates a card by the learner's answer; undefined if the card is gone (progress cleared). */
  async reviewCard(
    userId: string,
    cardId: string,
    correct: boolean,
    eventId: string,
    now = new Date(),
  ): Promise<ReviewCard | undefined> {
    const card = await this.card(userId, cardId);
    if (!card) return undefined;
    const reviewed = reviewCard(card, correct, eventId, now);
    await this.saveCard(userId, reviewed);
    return reviewed;
  }

  /** Cards due now, most overdue first. */
  async dueCards(userId: string, limit: number, now = Date.now()): Promise<ReviewCard[]> {
    return this.cardsById(
      userId,
      await this.redis.zrangebyscore(this.keys.cardsDue(userId), '-inf', now, 'LIMIT', 0, limit),
    );
  }

  /** How many cards are due now, and when the next falls due if none is. */
  async dueSummary(userId: string, now = Date.now()): Promise<{ due: number; next_due_at: string | null }> {
    const [due, next] = await Promise.all([
      this.redis.zcount(this.keys.cardsDue(userId), '-inf', now),
      this.redis.zrangebyscore(this.keys.cardsDue(userId), `(${now}`, '+inf', 'WITHSCORES', 'LIMIT', 0, 1),
    ]);
    return { due, next_due_at: due === 0 && next[1] ? new Date(Number(next[1])).toISOString() : null };
  }

  private async cardsById(userId: string, ids: string[]): Promise<ReviewCard[]> {
    if (ids.length === 0) return [];
    return (await this.redis.hmget(this.keys.cards(userId), ...ids)).flatMap((raw) => (raw ? parseCard(raw) : []));
  }

  private async card(userId: string, cardId: string): Promise<ReviewCard | undefined> {
    const raw = await this.redis.hget(this.keys.cards(userId), cardId);
    return raw ? parseCard(raw)[0] : undefined;
  }

  /** Stores a card and its place in the indexes (due time, mistake count, learned or not). */
  private async saveCard(userId: string, card: ReviewCard): Promise<void> {
    const multi = this.redis
      .multi()
      .hset(this.keys.cards(userId), card.id, JSON.stringify(card))
      .zadd(this.keys.cardsDue(userId), dueAt(card), card.id)
      .zadd(this.keys.cardsByMistakes(userId), card.mistakes, card.id);
    if (isLearned(card)) multi.sadd(this.keys.cardsLearned(userId), card.id);
    else multi.srem(this.keys.cardsLearned(userId), card.id);
    await multi.exec();
  }

  /** The learner's most frequent mistakes, read from the index rather than from every card. */
  private async topMistakes(userId: string): Promise<LearnerProfile['mistakes']> {
    const ids = await this.redis.zrevrange(this.keys.cardsByMistakes(userId), 0, PROFILE_MISTAKES - 1);
    return (await this.cardsById(userId, ids)).map((card) => ({
      wrong: card.front,
      right: card.back,
      count: card.mistakes,
    }));
  }

  // --- scores, streak, level, profile -------------------------------------------------------

  /** Counts a graded answer and today's activity. */
  async recordAnswer(userId: string, correct: boolean, now = new Date()): Promise<void> {
    const learner = this.keys.learner(userId);
    const [lastDay, streak] = await this.redis.hmget(learner, 'last_active_day', 'streak_days');
    const multi = this.redis.multi().hincrby(learner, 'quiz_answered', 1);
    if (correct) multi.hincrby(learner, 'quiz_correct', 1);
    const activity = streakAfter(lastDay, streak, now);
    if (activity) multi.hset(learner, activity);
    await multi.exec();
  }

  /** What a finished turn teaches: words met, facts about the learner, a mistake to review. */
  async recordTurn(userId: string, learning: TurnLearning, now = new Date()): Promise<ReviewCard | undefined> {
    const learner = this.keys.learner(userId);
    const words = [...new Set(learning.words)];
    const [rawProfile, lastDay, streak] = await this.redis.hmget(learner, 'profile', 'last_active_day', 'streak_days');
    const profile = parseProfile(rawProfile);
    const merged = mergeFacts(profile, ...learning.facts);
    merged.turns_folded = profile.turns_folded + learning.foldedTurns;
    const multi = this.redis
      .multi()
      .hset(learner, { profile: JSON.stringify(merged), ...streakAfter(lastDay, streak, now) });
    if (words.length > 0) multi.sadd(this.keys.words(userId), ...words);
    await multi.exec();
    return learning.mistake ? this.recordMistake(userId, learning.mistake, learning.turnId, now) : undefined;
  }

  async setLevel(userId: string, level: HskLevel): Promise<void> {
    await this.redis.hset(this.keys.learner(userId), 'level', level);
  }

  /** Level, profile and due cards for a turn's prompt. */
  async context(userId: string, dueLimit = 3, now = Date.now()): Promise<LearnerContext> {
    const [[level, profile], dueCards, mistakes] = await Promise.all([
      this.redis.hmget(this.keys.learner(userId), 'level', 'profile'),
      this.dueCards(userId, dueLimit, now),
      this.topMistakes(userId),
    ]);
    return { level: parseLevel(level), profile: { ...parseProfile(profile), mistakes }, dueCards };
  }

  async progress(userId: string, now = Date.now()): Promise<ProgressData> {
    const [learner, total, learned, mistakes, { due, next_due_at }, words] = await Promise.all([
      this.redis.hgetall(this.keys.learner(userId)),
      this.redis.hlen(this.keys.cards(userId)),
      this.redis.scard(this.keys.cardsLearned(userId)),
      this.topMistakes(userId),
      this.dueSummary(userId, now),
      this.redis.scard(this.keys.words(userId)),
    ]);
    const answered = Number(learner.quiz_answered ?? 0);
    const correct = Number(learner.quiz_correct ?? 0);
    return {
      level: parseLevel(learner.level),
      cards_total: total,
      cards_due: due,
      cards_learned: learned,
      next_due_at,
      quiz_answered: answered,
      quiz_correct: correct,
      quiz_accuracy: answered === 0 ? 0 : Math.round((correct / answered) * 1000) / 1000,
      streak_days: currentStreak(learner, new Date(now)),
      words_met: words,
      profile: { ...parseProfile(learner.profile), mistakes },
    };
  }

  /** Deletes all progress: cards, scores, level, profile, words. */
  async clear(userId: string): Promise<void> {
    await this.redis.del(
      this.keys.learner(userId),
      this.keys.cards(userId),
      this.keys.cardsDue(userId),
      this.keys.cardsByMistakes(userId),
      this.keys.cardsLearned(userId),
      this.keys.words(userId),
    );
  }
}

/** A quiz as the learner sees it: no key, no explanation. */
export function publicQuiz(id: string, draft: QuizDraft): QuizItem {
  return {
    id,
    type: draft.type,
    question: draft.question,
    ...(draft.type === 'choice' ? { options: draft.options } : {}),
    ...(draft.hint ? { hint: draft.hint } : {}),
    ...(draft.card_id ? { review: true } : {}),
  };
}

function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * The streak fields after activity `now`: it grows on the first activity of a day after an
 * active day, restarts at 1 after a gap, and needs no write on a day already counted.
 */
function streakAfter(
  lastDay: string | null | undefined,
  streak: string | null | undefined,
  now: Date,
): Record<string, string | number> | undefined {
  const today = utcDay(now);
  if (lastDay === today) return undefined;
  const continued = lastDay === utcDay(new Date(now.getTime() - 86_400_000));
  return { last_active_day: today, streak_days: continued ? Number(streak ?? 0) + 1 : 1 };
}

/** The stored streak, or 0 if the learner missed a whole day since. */
function currentStreak(learner: Record<string, string>, now: Date): number {
  const last = learner.last_active_day;
  if (!last) return 0;
  const alive = last === utcDay(now) || last === utcDay(new Date(now.getTime() - 86_400_000));
  return alive ? Number(learner.streak_days ?? 0) : 0;
}

function parseLevel(raw: string | null | undefined): HskLevel {
  const level = Number(raw);
  return Number.isInteger(level) && level >= 1 && level <= 6 ? (level as HskLevel) : DEFAULT_HSK_LEVEL;
}

function parseProfile(raw: string | null | undefined): LearnerProfile {
  const fallback = LearnerProfile.parse({});
  if (!raw) return fallback;
  try {
    return LearnerProfile.parse({ ...JSON.parse(raw), mistakes: [] });
  } catch {
    return fallback;
  }
}

function parseCard(raw: string): ReviewCard[] {
  try {
    const parsed = ReviewCard.safeParse(JSON.parse(raw));
    return parsed.success ? [parsed.data] : [];
  } catch {
    return [];
  }
}

function parseStoredQuiz(raw: string): StoredQuiz | undefined {
  try {
    const value = JSON.parse(raw) as StoredQuiz;
    const draft = QuizDraft.safeParse(value.draft);
    return draft.success && typeof value.id === 'string' ? { ...value, draft: draft.data } : undefined;
  } catch {
    return undefined;
  }
}
