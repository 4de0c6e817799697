import { describe, expect, it } from 'vitest';
import { eventKey } from './events.js';
import { queueCatalog, ttsJobId } from './queues.js';

const judgement = (userId: string) => ({
  user_id: userId,
  quiz: {
    id: 'q-review-m3x1-1',
    turn_id: 'review-m3x1',
    draft: {
      type: 'translate' as const,
      question: 'Dịch: 谢谢',
      options: [],
      answer: 'Cảm ơn',
      hint: '',
      explanation: '',
    },
  },
  answer: 'Cám ơn',
  sulking_level: 0,
  deadline_at: 0,
});

describe('the queue catalog', () => {
  it("gives two learners' judgements of quizzes with the same id two jobs (neither is dropped as a duplicate)", () => {
    const { jobId } = queueCatalog.quizJudge;
    expect(jobId(judgement('lan'))).not.toBe(jobId(judgement('minh')));
    expect(jobId(judgement('lan'))).toBe(jobId(judgement('lan')));
  });

  it("names a replay's speech job as its event: one per request", () => {
    expect(ttsJobId('t1', undefined, 'r1')).toBe(eventKey('replay_audio', { turn_id: 't1', replay_id: 'r1' }));
    expect(ttsJobId('t1', 2)).toBe('t1-tts-2');
    expect(ttsJobId('t1')).toBe('t1-tts');
  });
});
