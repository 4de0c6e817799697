import { LearnerProfile, type ProgressData, type QuizItem } from '../events.js';
import { progressKeys, type RedisKeys } from '../keys.js';
import type { HskLevel } from '../protocol.js';
import type { RedisClient } from '../redis.js';
import { type LearnerFacts, QuizDraft } from '../reply.js';
import { dueAt, isLearned, type Mistake, newCard, ReviewCard, reviewCard } from './cards.js';
import { mergeFacts } from './profile.js';

export const DEFAULT_HSK_LEVEL: HskLevel = 2;

/** How many of the learner's most frequent mistakes the profile lists. */
const PROFILE_MISTAKES = 3;

/** How much of a learner's data is kept: every key without a TTL is bounded by one of these. */
export interface LearnerBounds {
  /** An unanswered quiz can be answered this long (and no longer than the conversation lives). */
  quizTtlSeconds: number;
  /** An answered quiz is kept this long, to tell a repeated answer it was already graded. */
  answeredQuizTtlSeconds: number;
  /** The newest quizzes kept (turn and review quizzes together); older ones are dropped. */
  maxQuizzes: number;
  /** Review cards kept; over it the oldest learned card goes first, else the oldest. */
  maxCards: number;
  /** Distinct words counted exactly; words met beyond these are counted approximately. */
  maxExactWords: number;
}

export const DEFAULT_LEARNER_BOUNDS: LearnerBounds = {
  quizTtlSeconds: 24 * 3600,
  answeredQuizTtlSeconds: 600,
  maxQuizzes: 50,
  maxCards: 500,
  // About the HSK 1-5 vocabulary (~2,500 words): a learner's count is exact well into HSK 5.
  maxExactWords: 2_500,
};

export interface LearnerStoreOptions {
  /** The conversation's TTL: no quiz outlives it. */
  quizTtlSeconds: number;
  /** Overrides of DEFAULT_LEARNER_BOUNDS. */
  bounds?: Partial<LearnerBounds>;
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

/**
 * Marks a quiz answered exactly once, whichever gateway the answers arrive at; an answered quiz
 * is kept only a short while. KEYS: quiz. ARGV: now (ISO), answered TTL.
 */
const CLAIM_QUIZ = `
if redis.call('exists', KEYS[1]) == 0 then return {0} end
local item = redis.call('hget', KEYS[1], 'item')
if redis.call('hsetnx', KEYS[1], 'answered_at', ARGV[1]) == 0 then return {2, item} end
if redis.call('ttl', KEYS[1]) > tonumber(ARGV[2]) then redis.call('expire', KEYS[1], ARGV[2]) end
return {1, item}
`;

/**
 * Stores quizzes (id, answer key JSON pairs) and returns their stored JSON: a quiz already stored
 * (a retried job) keeps its first key and TTL. Only the newest `max` quizzes are kept (their
 * keys share the learner's hash tag: the slot of KEYS). A review (ARGV[5] = 1) returns the
 * unanswered quizzes of the open review instead, if any, and otherwise opens the new one.
 * KEYS: quizzes index, open review. ARGV: quiz key prefix, now (ms), ttl, max, review, then
 * id, JSON pairs. Returns the JSON of the quizzes to ask.
 */
const SAVE_QUIZZES = `
local index, openReview = KEYS[1], KEYS[2]
local prefix, now, ttl, max, review = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5] == '1'
if review then
  local open = {}
  for id in string.gmatch(redis.call('get', openReview) or '', '%S+') do
    local quiz = prefix .. id
    if redis.call('hexists', quiz, 'answered_at') == 0 then
      local item = redis.call('hget', quiz, 'item')
      if item then table.insert(open, item) end
    end
  end
  if #open > 0 then return open end
end
local stored, ids = {}, {}
for i = 6, #ARGV, 2 do
  local quiz = prefix .. ARGV[i]
  if redis.call('hsetnx', quiz, 'item', ARGV[i + 1]) == 1 then redis.call('expire', quiz, ttl) end
  redis.call('zadd', index, 'NX', now, ARGV[i])
  table.insert(stored, redis.call('hget', quiz, 'item'))
  table.insert(ids, ARGV[i])
end
if review and #ids > 0 then
  redis.call('set', openReview, table.concat(ids, ' '), 'EX', ttl)
elseif review then
  redis.call('del', openReview)
end
for _, id in ipairs(redis.call('zrange', index, 0, -max - 1)) do redis.call('del', prefix .. id) end
redis.call('zremrangebyrank', index, 0, -max - 1)
if #ids > 0 then redis.call('expire', index, ttl) end
return stored
`;

/**
 * Stores a review card with its indexes and, when a new card takes the learner over `max`, drops
 * the oldest learned cards, else the oldest, never the one just stored. Cards stored before the
 * creation index existed join it as the oldest. KEYS: cards, due, mistakes, learned, created.
 * ARGV: id, JSON, due (ms), mistakes, learned (1/0), created (ms), max.
 */
const SAVE_CARD = `
local cards, due, mistakes, learned, created = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, max = ARGV[1], tonumber(ARGV[7])
local isNew = redis.call('hset', cards, id, ARGV[2]) == 1
redis.call('zadd', due, ARGV[3], id)
redis.call('zadd', mistakes, ARGV[4], id)
if ARGV[5] == '1' then redis.call('sadd', learned, id) else redis.call('srem', learned, id) end
redis.call('zadd', created, 'NX', ARGV[6], id)
local excess = redis.call('hlen', cards) - max
if not isNew or excess <= 0 then return 0 end
if redis.call('zcard', created) < redis.call('hlen', cards) then
  for _, old in ipairs(redis.call('hkeys', cards)) do redis.call('zadd', created, 'NX', 0, old) end
end
local oldestFirst = redis.call('zrange', created, 0, -1)
local victims, chosen = {}, {}
for pass = 1, 2 do
  for _, candidate in ipairs(oldestFirst) do
    if #victims >= excess then break end
    if candidate ~= id and not chosen[candidate]
      and (pass == 2 or redis.call('sismember', learned, candidate) == 1) then
      chosen[candidate] = true
      table.insert(victims, candidate)
    end
  end
end
for _, victim in ipairs(victims) do
  redis.call('hdel', cards, victim)
  redis.call('zrem', due, victim)
  redis.call('zrem', mistakes, victim)
  redis.call('srem', learned, victim)
  redis.call('zrem', created, victim)
end
return #victims
`;

/**
 * Records words met: the first `cap` distinct words in a set (exact), any other word in a
 * HyperLogLog (about 0.8% error, 12 KB at most). A set over the cap (kept before it existed) moves
 * its surplus to the HyperLogLog. KEYS: words, beyond cap. ARGV: cap, words...
 */
const RECORD_WORDS = `
local words, beyond, cap = KEYS[1], KEYS[2], tonumber(ARGV[1])
local size = redis.call('scard', words)
if size > cap then
  redis.call('pfadd', beyond, unpack(redis.call('spop', words, math.min(size - cap, 1000))))
  size = redis.call('scard', words)
end
-- One SMISMEMBER for the turn's words rather than a SISMEMBER each.
local known = redis.call('smismember', words, unpack(ARGV, 2))
local fresh, overflow = {}, {}
for i, isKnown in ipairs(known) do
  if isKnown == 0 then
    if size < cap then
      fresh[#fresh + 1] = ARGV[i + 1]
      size = size + 1
    else
      overflow[#overflow + 1] = ARGV[i + 1]
    end
  end
end
if #fresh > 0 then redis.call('sadd', words, unpack(fresh)) end
if #overflow > 0 then redis.call('pfadd', beyond, unpack(overflow)) end
`;

/** What the agent needs of the learner to build a turn's prompt. */
export interface LearnerContext {
  level: HskLevel;
  profile: LearnerProfile;
  /** Mistakes due for review now, most overdue first. */
  dueCards: ReviewCard[];
  /** Her voice for this learner (`set_voice`), if they chose one. */
  voice?: string;
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
 * profile that outlives the history window. Progress keys have no TTL and survive `reset`; each
 * is bounded instead (LearnerBounds), and quiz keys expire.
 */
export class LearnerStore {
  private readonly bounds: LearnerBounds;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    options: LearnerStoreOptions,
  ) {
    const bounds = { ...DEFAULT_LEARNER_BOUNDS, ...options.bounds };
    this.bounds = { ...bounds, quizTtlSeconds: Math.min(bounds.quizTtlSeconds, options.quizTtlSeconds) };
  }

  // --- quizzes ------------------------------------------------------------------------------

  /**
   * Keeps the answer keys of a turn's quizzes and returns them as the learner sees them. Ids are
   * derived from the turn, so a retried job stores the same quizzes (and keeps their answers).
   */
  async saveQuizzes(userId: string, turnId: string, drafts: QuizDraft[], now = Date.now()): Promise<QuizItem[]> {
    if (drafts.length === 0) return [];
    return this.storeQuizzes(userId, turnId, drafts, now, false);
  }

  /**
   * The learner's open review: the quizzes of the last review not answered yet (the same ids),
   * or, when it has none left, a new review asking `drafts`.
   */
  async openReview(userId: string, drafts: QuizDraft[], now = Date.now()): Promise<QuizItem[]> {
    return this.storeQuizzes(userId, `review-${now.toString(36)}`, drafts, now, true);
  }

  private async storeQuizzes(
    userId: string,
    turnId: string,
    drafts: QuizDraft[],
    now: number,
    review: boolean,
  ): Promise<QuizItem[]> {
    const pairs = drafts.flatMap((draft, i) => {
      const stored: StoredQuiz = { id: `q-${turnId}-${i + 1}`, turn_id: turnId, draft };
      return [stored.id, JSON.stringify(stored)];
    });
    const items = (await this.redis.eval(
      SAVE_QUIZZES,
      2,
      this.keys.quizzes(userId),
      this.keys.openReview(userId),
      this.keys.quiz(userId, ''),
      String(now),
      String(this.bounds.quizTtlSeconds),
      String(this.bounds.maxQuizzes),
      review ? '1' : '0',
      ...pairs,
    )) as string[];
    return items.flatMap((item) => {
      const quiz = parseStoredQuiz(item);
      return quiz ? [publicQuiz(quiz.id, quiz.draft)] : [];
    });
  }

  /** Takes a quiz for grading: only the first answer to a known quiz gets `claimed`. */
  async claimQuiz(userId: string, quizId: string): Promise<QuizClaim> {
    const [status, item] = (await this.redis.eval(
      CLAIM_QUIZ,
      1,
      this.keys.quiz(userId, quizId),
      new Date().toISOString(),
      String(this.bounds.answeredQuizTtlSeconds),
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

  /** Stores a card and its place in the indexes (due time, mistake count, learned or not, age). */
  private async saveCard(userId: string, card: ReviewCard): Promise<void> {
    await this.redis.eval(
      SAVE_CARD,
      5,
      this.keys.cards(userId),
      this.keys.cardsDue(userId),
      this.keys.cardsByMistakes(userId),
      this.keys.cardsLearned(userId),
      this.keys.cardsCreated(userId),
      card.id,
      JSON.stringify(card),
      String(dueAt(card)),
      String(card.mistakes),
      isLearned(card) ? '1' : '0',
      String(Date.parse(card.created_at)),
      String(this.bounds.maxCards),
    );
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
    // A pipeline, not MULTI (two commands more): the two writes do not depend on each other.
    const pipeline = this.redis
      .pipeline()
      .hset(learner, { profile: JSON.stringify(merged), ...streakAfter(lastDay, streak, now) });
    if (words.length > 0) {
      const [exact, beyond] = [this.keys.words(userId), this.keys.wordsBeyondCap(userId)];
      pipeline.eval(RECORD_WORDS, 2, exact, beyond, this.bounds.maxExactWords, ...words);
    }
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    return learning.mistake ? this.recordMistake(userId, learning.mistake, learning.turnId, now) : undefined;
  }

  async setLevel(userId: string, level: HskLevel): Promise<void> {
    await this.redis.hset(this.keys.learner(userId), 'level', level);
  }

  /** Her voice for the learner's replies and replays (a field of the progress: survives `reset`). */
  async setVoice(userId: string, voice: string): Promise<void> {
    await this.redis.hset(this.keys.learner(userId), 'voice', voice);
  }

  /** The voice the learner chose, if any. */
  async voice(userId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.learner(userId), 'voice')) ?? undefined;
  }

  /** Level, profile, due cards (for a turn's prompt) and the learner's voice (for its speech). */
  async context(userId: string, dueLimit = 3, now = Date.now()): Promise<LearnerContext> {
    const [[level, profile, voice], dueCards, mistakes] = await Promise.all([
      this.redis.hmget(this.keys.learner(userId), 'level', 'profile', 'voice'),
      this.dueCards(userId, dueLimit, now),
      this.topMistakes(userId),
    ]);
    const context = { level: parseLevel(level), profile: { ...parseProfile(profile), mistakes }, dueCards };
    return voice ? { ...context, voice } : context;
  }

  async progress(userId: string, now = Date.now()): Promise<ProgressData> {
    const [learner, total, learned, mistakes, { due, next_due_at }, words, wordsBeyondCap] = await Promise.all([
      this.redis.hgetall(this.keys.learner(userId)),
      this.redis.hlen(this.keys.cards(userId)),
      this.redis.scard(this.keys.cardsLearned(userId)),
      this.topMistakes(userId),
      this.dueSummary(userId, now),
      this.redis.scard(this.keys.words(userId)),
      this.redis.pfcount(this.keys.wordsBeyondCap(userId)),
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
      words_met: words + wordsBeyondCap,
      profile: { ...parseProfile(learner.profile), mistakes },
    };
  }

  /** Deletes all progress: cards, scores, level, profile, words, and the open review (it asks cards). */
  async clear(userId: string): Promise<void> {
    await this.redis.del(...progressKeys(this.keys, userId), this.keys.openReview(userId));
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
