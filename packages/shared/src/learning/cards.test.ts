import { describe, expect, it } from 'vitest';
import { cardIdFor, dueAt, isLearned, type Mistake, newCard, type ReviewCard, reviewCard } from './cards.js';

const MINUTE = 60_000;
const mistake: Mistake = {
  kind: 'correction',
  front: '我是学生吗了',
  back: '我是学生吗',
  explanation: 'Không dùng 了 sau 吗.',
};
const start = new Date('2025-03-01T10:00:00.000Z');

describe('newCard', () => {
  it('is due about a minute after the mistake, and asks it again as a fill quiz', () => {
    const card = newCard(mistake, 'turn-1', start);
    expect(dueAt(card) - start.getTime()).toBeGreaterThanOrEqual(MINUTE - 1000);
    expect(dueAt(card) - start.getTime()).toBeLessThanOrEqual(MINUTE + 1000);
    expect(card).toMatchObject({ id: cardIdFor(mistake), mistakes: 1, last_event: 'turn-1', kind: 'correction' });
    expect(card.quiz).toMatchObject({ type: 'fill', answer: '我是学生吗', card_id: card.id });
    expect(card.quiz.question).toContain('我是学生吗了');
    expect(isLearned(card)).toBe(false);
  });

  it('keeps a quiz of its own when the mistake was a quiz', () => {
    const quiz = {
      type: 'choice' as const,
      question: '哪个对？',
      options: ['本', '个'],
      answer: '本',
      hint: '',
      explanation: '',
    };
    const card = newCard({ kind: 'quiz', front: '哪个对？', back: '本', explanation: '', quiz }, 'q1', start);
    expect(card.quiz).toEqual({ ...quiz, card_id: card.id });
  });
});

describe('reviewCard', () => {
  it('moves a card later with each right answer until it is learned', () => {
    let card = newCard(mistake, 'turn-1', start);
    let now = new Date(dueAt(card));
    let previousInterval = dueAt(card) - start.getTime();
    let reviews = 0;
    while (!isLearned(card) && reviews < 10) {
      const next = reviewCard(card, true, `review-${reviews}`, now);
      const interval = dueAt(next) - now.getTime();
      expect(interval).toBeGreaterThan(previousInterval);
      expect(next.mistakes).toBe(card.mistakes);
      previousInterval = interval;
      card = next;
      now = new Date(dueAt(card));
      reviews += 1;
    }
    expect(isLearned(card)).toBe(true);
    expect(reviews).toBeLessThanOrEqual(3);
    // Learned: not due again for at least a day.
    expect(previousInterval).toBeGreaterThanOrEqual(24 * 60 * MINUTE);
  });

  it('brings a card back sooner after a wrong answer', () => {
    const card = newCard(mistake, 'turn-1', start);
    const at = new Date(dueAt(card));
    const right = reviewCard(card, true, 'e-right', at);
    const wrong = reviewCard(card, false, 'e-wrong', at);
    expect(dueAt(wrong)).toBeLessThan(dueAt(right));
    expect(wrong.mistakes).toBe(2);

    // Also once learned: a lapse comes back within the day.
    let learned = card;
    let now = at;
    for (let i = 0; i < 10 && !isLearned(learned); i++) {
      learned = reviewCard(learned, true, `good-${i}`, now);
      now = new Date(dueAt(learned));
    }
    expect(isLearned(learned)).toBe(true);
    const lapse = reviewCard(learned, false, 'lapse', now);
    const kept = reviewCard(learned, true, 'kept', now);
    expect(dueAt(lapse)).toBeLessThan(dueAt(kept));
    expect(dueAt(lapse) - now.getTime()).toBeLessThanOrEqual(24 * 60 * MINUTE);
    expect(isLearned(lapse)).toBe(false);
  });

  it('does not rate twice for the same event', () => {
    const card = newCard(mistake, 'turn-1', start);
    const at = new Date(dueAt(card));
    const once = reviewCard(card, true, 'answer:q1', at);
    const twice = reviewCard(once, true, 'answer:q1', new Date(at.getTime() + 5 * MINUTE));
    expect(twice).toEqual(once);
    // The event that created the card does not rate it again either (a retried turn).
    expect(reviewCard(card, false, 'turn-1', at)).toEqual(card);
    // Another event does.
    expect(dueAt(reviewCard(once, true, 'answer:q2', new Date(dueAt(once))))).toBeGreaterThan(dueAt(once));
  });

  it('survives a JSON round trip (as stored in Redis)', () => {
    const card = newCard(mistake, 'turn-1', start);
    const stored = JSON.parse(JSON.stringify(card)) as ReviewCard;
    const at = new Date(dueAt(card));
    expect(reviewCard(stored, true, 'e', at)).toEqual(reviewCard(card, true, 'e', at));
  });
});

describe('cardIdFor', () => {
  it('gives the same mistake the same id whatever the spacing and punctuation', () => {
    const id = cardIdFor(mistake);
    expect(cardIdFor({ ...mistake, front: ' 我是 学生 吗了。' })).toBe(id);
    expect(cardIdFor({ ...mistake, back: '我是学生吗？' })).toBe(id);
    expect(cardIdFor({ ...mistake, front: '我是学生吗了！', back: '我是学生 吗' })).toBe(id);
    expect(newCard({ ...mistake, front: '我是学生吗了。' }, 'other', start).id).toBe(id);
  });

  it('tells different mistakes apart', () => {
    const id = cardIdFor(mistake);
    expect(cardIdFor({ ...mistake, back: '我是老师吗' })).not.toBe(id);
    expect(cardIdFor({ ...mistake, front: '我是学生了' })).not.toBe(id);
    expect(cardIdFor({ ...mistake, kind: 'quiz' })).not.toBe(id);
  });
});
