import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnRedisServer, startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressKeys, type RedisKeys, redisKeys } from '../keys.js';
import type { QuizDraft } from '../reply.js';
import { answerQuiz, startReview } from './answer.js';
import { cardIdFor, type Mistake } from './cards.js';
import { DEFAULT_HSK_LEVEL, type LearnerBounds, LearnerStore } from './learner-store.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

function setup(client: Redis = redis, prefix = uniquePrefix('learner'), bounds?: Partial<LearnerBounds>) {
  const keys = redisKeys(prefix);
  return { keys, store: new LearnerStore(client, keys, { quizTtlSeconds: 600, bounds }) };
}

/** Every key of the learner `u`. */
const keysOf = (keys: RedisKeys) => redis.keys(`${keys.prefix}:{u:u}:*`);

const FILL: QuizDraft = {
  type: 'fill',
  question: '一___书（量词）',
  options: [],
  answer: '本/部',
  hint: 'Lượng từ cho sách',
  explanation: 'Sách dùng lượng từ 本.',
};
const CHOICE: QuizDraft = {
  type: 'choice',
  question: '“谢谢”怎么读？',
  options: ['xiè xie', 'xià xia', 'xié xie', 'xǐ xi'],
  answer: 'xiè xie',
  hint: '',
  explanation: 'Đọc là xiè xie, chữ thứ hai thanh nhẹ.',
};
const correction: Mistake = {
  kind: 'correction',
  front: '我很是学生',
  back: '我是学生',
  explanation: 'Không dùng 很 trước 是.',
};

describe('LearnerStore quizzes', () => {
  it('returns quizzes without their answer key or explanation', async () => {
    const { store } = setup();
    const items = await store.saveQuizzes('u', 't1', [FILL, CHOICE]);
    expect(items).toEqual([
      { id: 'q-t1-1', type: 'fill', question: FILL.question, hint: FILL.hint },
      { id: 'q-t1-2', type: 'choice', question: CHOICE.question, options: CHOICE.options },
    ]);
    const json = JSON.stringify(items);
    expect(json).not.toContain('"answer"');
    expect(json).not.toContain('"explanation"');
    expect(json).not.toContain('本/部');
    expect(json).not.toContain(FILL.explanation);
    expect(json).not.toContain(CHOICE.explanation);
    expect(await store.saveQuizzes('u', 't2', [])).toEqual([]);
  });

  it('claims a quiz once: unknown, claimed, then answered', async () => {
    const { store } = setup();
    await store.saveQuizzes('u', 't1', [FILL]);
    expect(await store.claimQuiz('u', 'q-nope-1')).toEqual({ kind: 'unknown' });
    expect(await store.claimQuiz('other-user', 'q-t1-1')).toEqual({ kind: 'unknown' });
    const first = await store.claimQuiz('u', 'q-t1-1');
    expect(first).toMatchObject({ kind: 'claimed', quiz: { id: 'q-t1-1', turn_id: 't1', draft: FILL } });
    expect(await store.claimQuiz('u', 'q-t1-1')).toMatchObject({
      kind: 'answered',
      quiz: { draft: { answer: '本/部' } },
    });
  });

  it('lets exactly one of concurrent claims through', async () => {
    const { store } = setup();
    await store.saveQuizzes('u', 't1', [FILL]);
    const claims = await Promise.all(Array.from({ length: 8 }, () => store.claimQuiz('u', 'q-t1-1')));
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'answered')).toHaveLength(7);
  });

  it('keeps the first key when a retried job saves the same turn again (and shows its quiz)', async () => {
    const { store } = setup();
    const first = await store.saveQuizzes('u', 't1', [FILL]);
    expect(await store.saveQuizzes('u', 't1', [{ ...FILL, question: '一___笔', answer: '个' }])).toEqual(first);
    expect(await store.claimQuiz('u', 'q-t1-1')).toMatchObject({
      kind: 'claimed',
      quiz: { draft: { answer: '本/部' } },
    });
  });
});

describe('answerQuiz', () => {
  const now = new Date('2025-03-01T10:00:00.000Z');

  it('grades a right answer without making a card', async () => {
    const { store } = setup();
    await store.saveQuizzes('u', 't1', [FILL]);
    const outcome = await answerQuiz(store, 'u', { quizId: 'q-t1-1', answer: '部', sulkingLevel: 0 }, now);
    expect(outcome).toMatchObject({
      kind: 'graded',
      result: { quiz_id: 'q-t1-1', correct: true, answer: '部', expected: '本/部', explanation: FILL.explanation },
    });
    if (outcome.kind !== 'graded') throw new Error('not graded');
    expect(outcome.result.card).toBeUndefined();
    expect(outcome.result.reaction.chinese_content.length).toBeGreaterThan(0);
    expect(await store.progress('u', now.getTime())).toMatchObject({
      cards_total: 0,
      quiz_answered: 1,
      quiz_correct: 1,
    });
  });

  it('turns a wrong answer into a card due in a minute, and counts it', async () => {
    const { store } = setup();
    await store.saveQuizzes('u', 't1', [FILL, CHOICE]);
    const wrong = await answerQuiz(store, 'u', { quizId: 'q-t1-1', answer: '个', sulkingLevel: 0 }, now);
    if (wrong.kind !== 'graded') throw new Error('not graded');
    expect(wrong.result.correct).toBe(false);
    expect(wrong.result.card).toBeDefined();
    const due = Date.parse(wrong.result.card?.due_at ?? '');
    expect(due - now.getTime()).toBeGreaterThanOrEqual(MINUTE - 1000);
    expect(due - now.getTime()).toBeLessThanOrEqual(MINUTE + 1000);
    expect(wrong.result.card?.id).toBe(cardIdFor({ kind: 'quiz', front: FILL.question, back: FILL.answer }));

    const right = await answerQuiz(store, 'u', { quizId: 'q-t1-2', answer: 'A', sulkingLevel: 0 }, now);
    expect(right).toMatchObject({ kind: 'graded', result: { correct: true } });

    const progress = await store.progress('u', now.getTime());
    expect(progress).toMatchObject({
      quiz_answered: 2,
      quiz_correct: 1,
      quiz_accuracy: 0.5,
      cards_total: 1,
      cards_due: 0,
      cards_learned: 0,
      next_due_at: new Date(due).toISOString(),
    });
    expect(await store.progress('u', now.getTime() + 2 * MINUTE)).toMatchObject({ cards_due: 1, next_due_at: null });
  });

  it('answers a quiz once', async () => {
    const { store } = setup();
    await store.saveQuizzes('u', 't1', [FILL]);
    await answerQuiz(store, 'u', { quizId: 'q-t1-1', answer: '个', sulkingLevel: 0 }, now);
    expect(await answerQuiz(store, 'u', { quizId: 'q-t1-1', answer: '本', sulkingLevel: 0 }, now)).toEqual({
      kind: 'already_answered',
      expected: '本/部',
    });
    expect(await answerQuiz(store, 'u', { quizId: 'q-zz-9', answer: '本', sulkingLevel: 0 }, now)).toEqual({
      kind: 'unknown_quiz',
    });
    expect(await store.progress('u', now.getTime())).toMatchObject({
      quiz_answered: 1,
      quiz_correct: 0,
      cards_total: 1,
    });
  });

  it('asks a missed quiz again once it is due, and a right answer moves the card later', async () => {
    const { store } = setup();
    await store.saveQuizzes('u', 't1', [FILL]);
    const wrong = await answerQuiz(store, 'u', { quizId: 'q-t1-1', answer: '个', sulkingLevel: 0 }, now);
    if (wrong.kind !== 'graded' || !wrong.result.card) throw new Error('no card');
    const firstDue = Date.parse(wrong.result.card.due_at);

    // Not due yet: nothing to review.
    const early = await startReview(store, 'u', now.getTime() + 10_000);
    expect(early).toMatchObject({ quiz_list: [], due: 0, next_due_at: new Date(firstDue).toISOString() });

    const later = firstDue + 5_000;
    const review = await startReview(store, 'u', later);
    expect(review.due).toBe(1);
    expect(review.quiz_list).toHaveLength(1);
    const [item] = review.quiz_list;
    expect(item).toMatchObject({ type: 'fill', question: FILL.question, review: true });
    expect(JSON.stringify(review.quiz_list)).not.toContain('本/部');

    const answered = await answerQuiz(
      store,
      'u',
      { quizId: item?.id ?? '', answer: '本', sulkingLevel: 0 },
      new Date(later + 1000),
    );
    if (answered.kind !== 'graded' || !answered.result.card) throw new Error('card not reviewed');
    expect(answered.result.correct).toBe(true);
    expect(answered.result.card.id).toBe(wrong.result.card.id);
    expect(Date.parse(answered.result.card.due_at)).toBeGreaterThan(later + MINUTE);
    const progress = await store.progress('u', later + 2000);
    expect(progress).toMatchObject({ cards_total: 1, cards_due: 0, quiz_answered: 2, quiz_correct: 1 });
  });

  it('sets a card back when its review quiz is missed', async () => {
    const { store } = setup();
    await store.saveQuizzes('u', 't1', [FILL]);
    await answerQuiz(store, 'u', { quizId: 'q-t1-1', answer: '个', sulkingLevel: 0 }, now);
    const at = now.getTime() + 2 * MINUTE;
    const [item] = (await startReview(store, 'u', at)).quiz_list;
    const outcome = await answerQuiz(
      store,
      'u',
      { quizId: item?.id ?? '', answer: '只', sulkingLevel: 3 },
      new Date(at),
    );
    if (outcome.kind !== 'graded' || !outcome.result.card) throw new Error('card not reviewed');
    expect(outcome.result.correct).toBe(false);
    expect(outcome.result.reaction.emotion).toBe('sulking');
    expect(Date.parse(outcome.result.card.due_at) - at).toBeLessThanOrEqual(MINUTE + 1000);
    expect((await store.progress('u', at)).profile.mistakes).toEqual([
      { wrong: FILL.question, right: '本/部', count: 2 },
    ]);
  });
});

describe('LearnerStore progress', () => {
  const day1 = new Date('2025-03-01T09:00:00.000Z');
  const at = (days: number, hours = 0) => new Date(day1.getTime() + days * DAY + hours * 3_600_000);
  const turn = (turnId: string, extra: Partial<Parameters<LearnerStore['recordTurn']>[1]> = {}) => ({
    turnId,
    words: [],
    facts: [],
    foldedTurns: 0,
    ...extra,
  });

  it('makes a card of a turn with a correction, once per turn', async () => {
    const { store } = setup();
    const card = await store.recordTurn('u', turn('t1', { mistake: correction }), day1);
    expect(card).toMatchObject({ id: cardIdFor(correction), kind: 'correction', mistakes: 1 });
    expect(card?.quiz).toMatchObject({ type: 'fill', answer: '我是学生', card_id: card?.id });
    // A retried job of the same turn does not count the mistake again; the next turn does.
    await store.recordTurn('u', turn('t1', { mistake: correction }), day1);
    expect((await store.progress('u', day1.getTime())).profile.mistakes).toEqual([
      { wrong: '我很是学生', right: '我是学生', count: 1 },
    ]);
    await store.recordTurn('u', turn('t2', { mistake: { ...correction, front: '我很是学生。' } }), day1);
    const progress = await store.progress('u', day1.getTime());
    expect(progress.cards_total).toBe(1);
    expect(progress.profile.mistakes[0]?.count).toBe(2);
    expect(await store.recordTurn('u', turn('t3'), day1)).toBeUndefined();
  });

  it('counts distinct words met', async () => {
    const { store } = setup();
    await store.recordTurn('u', turn('t1', { words: ['你好', '学生', '你好'] }), day1);
    await store.recordTurn('u', turn('t2', { words: ['学生', '老师'] }), day1);
    await store.recordTurn('u', turn('t3', { words: [] }), day1);
    expect((await store.progress('u', day1.getTime())).words_met).toBe(3);
  });

  it('counts a streak of consecutive active days, and resets it after a skipped day', async () => {
    const { store } = setup();
    expect((await store.progress('u', day1.getTime())).streak_days).toBe(0);
    await store.recordTurn('u', turn('t1'), day1);
    await store.recordAnswer('u', true, at(0, 3));
    expect((await store.progress('u', at(0, 4).getTime())).streak_days).toBe(1);
    await store.recordAnswer('u', false, at(1));
    expect((await store.progress('u', at(1).getTime())).streak_days).toBe(2);
    // Still alive the next day before any activity; gone the day after.
    expect((await store.progress('u', at(2).getTime())).streak_days).toBe(2);
    expect((await store.progress('u', at(3).getTime())).streak_days).toBe(0);
    // Day 3 skipped: activity on day 4 starts again at 1.
    await store.recordTurn('u', turn('t2'), at(3));
    expect((await store.progress('u', at(3).getTime())).streak_days).toBe(1);
    await store.recordTurn('u', turn('t3'), at(4));
    expect((await store.progress('u', at(4).getTime())).streak_days).toBe(2);
  });

  it('keeps the HSK level, 2 by default', async () => {
    const { store } = setup();
    expect(DEFAULT_HSK_LEVEL).toBe(2);
    expect((await store.progress('u')).level).toBe(2);
    expect((await store.context('u')).level).toBe(2);
    await store.setLevel('u', 5);
    expect((await store.progress('u')).level).toBe(5);
    expect((await store.context('u')).level).toBe(5);
  });

  it('merges facts into the profile and lists mistakes from the cards', async () => {
    const { store } = setup();
    await store.recordTurn(
      'u',
      turn('t1', { facts: [{ name: '阿明' }, { interests: ['练剑'] }], foldedTurns: 1 }),
      day1,
    );
    await store.recordTurn('u', turn('t2', { facts: [null, { interests: ['喝茶'] }], mistake: correction }), day1);
    await store.recordTurn('u', turn('t3', { facts: [{ name: '小龙' }], foldedTurns: 2 }), day1);
    const { profile } = await store.progress('u', day1.getTime());
    expect(profile).toEqual({
      name: '小龙',
      interests: ['练剑', '喝茶'],
      mistakes: [{ wrong: '我很是学生', right: '我是学生', count: 1 }],
      turns_folded: 3,
    });
    const context = await store.context('u', 3, day1.getTime() + 2 * MINUTE);
    expect(context.profile).toEqual(profile);
    expect(context.dueCards.map((c) => c.id)).toEqual([cardIdFor(correction)]);
  });

  it('lists the most frequent mistakes first, at most three', async () => {
    const { store } = setup();
    const mistakes = ['一', '二', '三', '四'].map((n) => ({ ...correction, front: `错${n}`, back: `对${n}` }));
    for (const [i, m] of mistakes.entries()) await store.recordMistake('u', m, `e${i}`, day1);
    await store.recordMistake('u', mistakes[2] as Mistake, 'again', day1);
    const { profile } = await store.progress('u', day1.getTime());
    expect(profile.mistakes).toHaveLength(3);
    expect(profile.mistakes[0]).toEqual({ wrong: '错三', right: '对三', count: 2 });
  });

  it('clears all progress', async () => {
    const { store, keys } = setup();
    await store.setLevel('u', 4);
    await store.recordTurn(
      'u',
      turn('t1', { words: ['你好'], facts: [{ name: '阿明', interests: ['练剑'] }], mistake: correction }),
      day1,
    );
    await store.recordAnswer('u', true, day1);
    await store.clear('u');
    expect(await store.progress('u', day1.getTime())).toEqual({
      level: 2,
      cards_total: 0,
      cards_due: 0,
      cards_learned: 0,
      next_due_at: null,
      quiz_answered: 0,
      quiz_correct: 0,
      quiz_accuracy: 0,
      streak_days: 0,
      words_met: 0,
      profile: { interests: [], mistakes: [], turns_folded: 0 },
    });
    expect(await redis.exists(keys.learner('u'), keys.cards('u'), keys.cardsDue('u'), keys.words('u'))).toBe(0);
  });

  it('keeps progress without a TTL, and quiz keys with one', async () => {
    const { store, keys } = setup();
    await store.setLevel('u', 3);
    await store.recordTurn('u', turn('t1', { words: ['你好'], facts: [{ name: '阿明' }], mistake: correction }));
    await store.recordAnswer('u', true);
    await store.saveQuizzes('u', 't1', [FILL]);
    for (const key of [keys.learner('u'), keys.cards('u'), keys.cardsDue('u'), keys.words('u')]) {
      expect(await redis.ttl(key), key).toBe(-1);
    }
    const quizTtl = await redis.ttl(keys.quiz('u', 'q-t1-1'));
    expect(quizTtl).toBeGreaterThan(0);
    expect(quizTtl).toBeLessThanOrEqual(600);
    // Claiming keeps a TTL.
    await store.claimQuiz('u', 'q-t1-1');
    expect(await redis.ttl(keys.quiz('u', 'q-t1-1'))).toBeGreaterThan(0);
    // Every other key of the learner expires.
    for (const key of await keysOf(keys)) {
      if (!progressKeys(keys, 'u').includes(key)) expect(await redis.ttl(key), key).toBeGreaterThan(0);
    }
  });
});

describe('LearnerStore bounds', () => {
  const day1 = new Date('2025-03-01T09:00:00.000Z');
  const mistake = (n: number): Mistake => ({ ...correction, front: `我很是学生${n}` });

  it('asks the same open review again until it is answered, without storing new quizzes', async () => {
    const { store, keys } = setup();
    for (const n of [1, 2]) await store.recordMistake('u', mistake(n), `t${n}`, day1);
    const later = day1.getTime() + 2 * MINUTE;
    const first = await startReview(store, 'u', later);
    expect(first.quiz_list).toHaveLength(2);
    const keysBefore = (await keysOf(keys)).sort();
    const again = await startReview(store, 'u', later + MINUTE);
    expect(again.quiz_list).toEqual(first.quiz_list);
    expect((await keysOf(keys)).sort()).toEqual(keysBefore);
    // Half answered: the other half is still open.
    const [answered, open] = first.quiz_list;
    await answerQuiz(store, 'u', { quizId: answered?.id ?? '', answer: '我是学生', sulkingLevel: 0 }, new Date(later));
    expect((await startReview(store, 'u', later + 2 * MINUTE)).quiz_list).toEqual([open]);
    await answerQuiz(store, 'u', { quizId: open?.id ?? '', answer: '我是学生', sulkingLevel: 0 }, new Date(later));
    const next = await startReview(store, 'u', later + 3 * MINUTE);
    expect(next.quiz_list.map((q) => q.id)).not.toContain(open?.id);
  });

  it('keeps quizzes a day at most, answered ones ten minutes', async () => {
    const keys = redisKeys(uniquePrefix('learner'));
    const store = new LearnerStore(redis, keys, { quizTtlSeconds: 7 * 24 * 3600 });
    await store.saveQuizzes('u', 't1', [FILL, CHOICE]);
    expect(await redis.ttl(keys.quiz('u', 'q-t1-1'))).toBe(24 * 3600);
    await store.claimQuiz('u', 'q-t1-1');
    expect(await redis.ttl(keys.quiz('u', 'q-t1-1'))).toBe(600);
    expect(await redis.ttl(keys.quiz('u', 'q-t1-2'))).toBe(24 * 3600);
  });

  it('keeps only the newest quizzes', async () => {
    const { store, keys } = setup(redis, undefined, { maxQuizzes: 4 });
    for (let t = 1; t <= 10; t++) await store.saveQuizzes('u', `t${t}`, [FILL, CHOICE], day1.getTime() + t);
    expect(await redis.zrange(keys.quizzes('u'), '0', '-1')).toEqual(['q-t9-1', 'q-t9-2', 'q-t10-1', 'q-t10-2']);
    expect((await keysOf(keys)).filter((key) => key.includes(':quiz:'))).toHaveLength(4);
    expect(await store.claimQuiz('u', 'q-t8-2')).toEqual({ kind: 'unknown' });
    expect(await store.claimQuiz('u', 'q-t9-1')).toMatchObject({ kind: 'claimed' });
  });

  it('keeps at most maxCards cards, dropping the oldest learned first, then the oldest; progress stays right', async () => {
    const { store, keys } = setup(redis, undefined, { maxCards: 3 });
    const at = (minutes: number) => new Date(day1.getTime() + minutes * MINUTE);
    for (const n of [1, 2, 3]) await store.recordMistake('u', mistake(n), `t${n}`, at(n));
    // Card 2 graduates to spaced review: right after each learning step.
    const learned = cardIdFor(mistake(2));
    for (const [i, minutes] of [2, 13, 30].entries()) await store.reviewCard('u', learned, true, `r${i}`, at(minutes));
    expect(await redis.smembers(keys.cardsLearned('u'))).toEqual([learned]);
    await store.recordMistake('u', mistake(4), 't4', at(40));
    await store.recordMistake('u', mistake(5), 't5', at(41));
    // Card 4 took the learned card's place, card 5 the oldest's.
    const left = [3, 4, 5].map((n) => cardIdFor(mistake(n)));
    expect((await redis.hkeys(keys.cards('u'))).sort()).toEqual(left.sort());
    for (const index of [keys.cardsDue('u'), keys.cardsByMistakes('u'), keys.cardsCreated('u')]) {
      expect((await redis.zrange(index, '0', '-1')).sort(), index).toEqual(left.sort());
    }
    expect(await store.progress('u', at(41).getTime())).toMatchObject({
      cards_total: 3,
      cards_learned: 0,
      cards_due: 2,
    });
  });

  it('indexes cards kept before the cap existed as the oldest, and brings them under it', async () => {
    const { store, keys } = setup(redis, undefined, { maxCards: 2 });
    const at = (minutes: number) => new Date(day1.getTime() + minutes * MINUTE);
    for (const n of [1, 2, 3]) await store.recordMistake('u', mistake(n), `t${n}`, at(n));
    await redis.hset(keys.cards('u'), 'c-legacy-1', '{}', 'c-legacy-2', '{}');
    await store.recordMistake('u', mistake(4), 't4', at(4));
    expect((await redis.hkeys(keys.cards('u'))).sort()).toEqual([3, 4].map((n) => cardIdFor(mistake(n))).sort());
    expect(await redis.zcard(keys.cardsCreated('u'))).toBe(2);
  });

  it('counts words exactly up to the cap and beyond it approximately, in bounded keys', async () => {
    const { store, keys } = setup(redis, undefined, { maxExactWords: 5 });
    const words = Array.from({ length: 40 }, (_, i) => `词${i}`);
    for (let i = 0; i < words.length; i += 10) {
      await store.recordTurn('u', { turnId: `t${i}`, words: words.slice(i, i + 10), facts: [], foldedTurns: 0 }, day1);
    }
    // Met again: not counted twice, in the set or beyond it.
    await store.recordTurn('u', { turnId: 'again', words: [...words], facts: [], foldedTurns: 0 }, day1);
    expect(await redis.scard(keys.words('u'))).toBe(5);
    expect((await store.progress('u', day1.getTime())).words_met).toBe(40);
    // A set kept before the cap gives its surplus to the count beyond it.
    const legacy = setup(redis, undefined, { maxExactWords: 5 });
    await redis.sadd(legacy.keys.words('u'), ...words);
    await legacy.store.recordTurn('u', { turnId: 't', words: ['新词'], facts: [], foldedTurns: 0 }, day1);
    expect(await redis.scard(legacy.keys.words('u'))).toBe(5);
    expect((await legacy.store.progress('u', day1.getTime())).words_met).toBe(41);
  });
});

describe('LearnerStore durability', () => {
  it('keeps progress across a Redis restart (append-only file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xiaoyue-learner-aof-'));
    const first = await spawnRedisServer({ appendOnly: true, dir });
    let client = new Redis(first.url);
    try {
      const prefix = uniquePrefix('durable');
      const { store } = setup(client, prefix);
      const now = new Date();
      await store.setLevel('u', 4);
      await store.recordTurn(
        'u',
        {
          turnId: 't1',
          words: ['你好', '学生'],
          facts: [{ name: '阿明', interests: ['练剑'] }],
          mistake: correction,
          foldedTurns: 1,
        },
        now,
      );
      await store.recordAnswer('u', false, now);
      await store.recordAnswer('u', true, now);
      const before = await store.progress('u', now.getTime());
      expect(before).toMatchObject({ level: 4, cards_total: 1, quiz_answered: 2, words_met: 2, streak_days: 1 });
      client.disconnect();
      await first.stop();

      const second = await spawnRedisServer({ appendOnly: true, dir, port: first.port });
      try {
        client = new Redis(second.url);
        const after = await setup(client, prefix).store.progress('u', now.getTime());
        expect(after).toEqual(before);
      } finally {
        client.disconnect();
        await second.stop();
      }
    } finally {
      client.disconnect();
      await first.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
