import { answerQuiz, LearnerStore, redisKeys } from '@xiaoyue/shared';
import { uniquePrefix } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import type { BenchContext, Row, Scenario } from '../report.js';
import { round, summarize } from '../stats.js';

export const progressAtScale: Scenario = { ids: ['P6'], run };

/**
 * P6 a learner's progress at scale: what a turn reads of it (level, profile, due cards) and
 * `get_progress`, for a learner with 5,000 review cards against one with 10, and grading an answer.
 */
async function run({ redisUrl, quick }: BenchContext): Promise<Row[]> {
  const redis = new Redis(redisUrl);
  const many = quick ? 1_000 : 5_000;
  const runs = quick ? 100 : 500;
  // Above the default caps (500 cards, 50 quizzes): what a read costs must not grow with them anyway.
  const bounds = { maxCards: many, maxQuizzes: runs };
  const learners = new LearnerStore(redis, redisKeys(uniquePrefix('p6')), { quizTtlSeconds: 600, bounds });
  const seed = async (userId: string, cards: number) => {
    for (let i = 0; i < cards; i++) {
      await learners.recordMistake(
        userId,
        { kind: 'correction', front: `我是很好${i}`, back: `我很好${i}`, explanation: 'Không dùng 是 trước tính từ.' },
        `seed-${i}`,
      );
    }
  };
  const time = async (runs: number, fn: (i: number) => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await fn(i);
      samples.push(performance.now() - started);
    }
    return summarize(samples);
  };
  try {
    await Promise.all([seed('small', 10), seed('large', many)]);
    const contextSmall = await time(runs, () => learners.context('small'));
    const contextLarge = await time(runs, () => learners.context('large'));
    const progressLarge = await time(runs, () => learners.progress('large'));
    const quizzes = await learners.saveQuizzes(
      'large',
      'bench-turn',
      Array.from({ length: runs }, (_, i) => ({
        type: 'fill' as const,
        question: `第${i}题`,
        options: [],
        answer: '本',
        hint: '',
        explanation: '',
      })),
    );
    const grading = await time(runs, (i) =>
      answerQuiz(learners, 'large', { quizId: quizzes[i]?.id ?? '', answer: i % 2 ? '本' : '个', sulkingLevel: 0 }),
    );
    const ratio = round(contextLarge.p50 / contextSmall.p50);
    return [
      {
        id: 'P6',
        what: `a learner with ${many.toLocaleString('en')} review cards: what a turn reads (level, profile, due cards)`,
        result: `p50 ${contextLarge.p50} ms, p99 ${contextLarge.p99} ms; get_progress p50 ${progressLarge.p50} ms; grading an answer p50 ${grading.p50} ms`,
        baseline: `10 cards: p50 ${contextSmall.p50} ms`,
        target: '≤ 2× the 10-card learner (no read grows with the cards)',
        met: ratio <= 2,
        data: { contextSmall, contextLarge, progressLarge, grading, ratio },
      },
    ];
  } finally {
    redis.disconnect();
  }
}
