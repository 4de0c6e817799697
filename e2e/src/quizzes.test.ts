import { randomUUID } from 'node:crypto';
import { testRedisClient } from '@xiaoyue/test-support';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { useSystemWithFakes } from './system.js';
import { QUIZZES, tutorReply } from './tutor-replies.js';

/** Graded quizzes, review cards and replay with Gemini (the local fake) and Edge (the local fake). */
const env = useSystemWithFakes();
let redis: Redis | Cluster | undefined;
afterAll(() => redis?.disconnect());

const learner = () => `quiz-${randomUUID().slice(0, 8)}`;

/** The system instruction Gemini was sent last. */
function lastSystemPrompt(): string {
  const body = env.gemini.requests.at(-1)?.body;
  return JSON.stringify(body?.systemInstruction ?? body?.system_instruction ?? '');
}

describe('quizzes from Gemini are graded on the server', () => {
  it('sends quizzes with ids and without their keys, then grades each type', async () => {
    const client = await env.connect(learner());
    env.gemini.enqueue({ kind: 'reply', body: tutorReply({ quiz_list: QUIZZES }) });
    client.send({ action: 'chat', message: '考考我' });
    const reply = (await client.next('reply')).data;
    expect(reply.quiz_list).toHaveLength(3);
    const text = JSON.stringify(reply);
    // Neither keys nor explanations reach the learner before they answer.
    for (const secret of ['"answer"', '"explanation"', '本', 'Tôi rất vui', 'Sách dùng']) {
      expect(text).not.toContain(secret);
    }
    const [choice, fill, translate] = reply.quiz_list;
    expect(choice).toMatchObject({ type: 'choice', options: QUIZZES[0]?.options });
    expect(fill).toMatchObject({ type: 'fill', hint: 'lượng từ của sách' });
    expect(fill).not.toHaveProperty('options');

    const right = await client.request({ action: 'answer', quiz_id: choice.id, answer: 'B' }, 'quiz_result');
    expect(right.data).toMatchObject({ correct: true, expected: 'ngân hàng', explanation: QUIZZES[0]?.explanation });
    expect(right.data.card).toBeUndefined();

    const wrong = await client.request({ action: 'answer', quiz_id: fill.id, answer: '个' }, 'quiz_result');
    expect(wrong.data).toMatchObject({ correct: false, expected: '本' });
    expect(wrong.data.card.id).toMatch(/^c-/);

    // A translation with a slip in the punctuation and case is still right.
    const near = await client.request(
      { action: 'answer', quiz_id: translate.id, answer: 'tôi rất vui' },
      'quiz_result',
    );
    expect(near.data.correct).toBe(true);

    const progress = (await client.request({ action: 'get_progress' }, 'progress')).data;
    expect(progress).toMatchObject({ quiz_answered: 3, quiz_correct: 2, cards_total: 1 });
  });

  it('turns her correction into a card that the next prompt asks her to bring back once due', async () => {
    const userId = learner();
    const client = await env.connect(userId);
    env.gemini.enqueue({
      kind: 'reply',
      body: tutorReply({
        action: 'correction',
        chinese_content: '师兄，应该说“我很好”。',
        correction: { wrong: '我是很好', right: '我很好', explanation: 'Không dùng 是 trước tính từ.' },
      }),
    });
    client.send({ action: 'chat', message: '我是很好' });
    await client.next('reply');
    const progress = (await client.request({ action: 'get_progress' }, 'progress')).data;
    expect(progress.cards_total).toBe(1);

    // Not due yet: the next prompt does not mention it as a review.
    env.gemini.enqueue({ kind: 'reply', body: tutorReply({ action: 'none' }) });
    client.send({ action: 'chat', message: '你好' });
    await client.next('reply');
    expect(lastSystemPrompt()).not.toContain('该复习的错误');

    redis ??= testRedisClient(env.redis);
    const dueKey = `${env.system.prefix}:{u:${userId}}:cards-due`;
    for (const id of await redis.zrange(dueKey, '0', '-1')) await redis.zadd(dueKey, String(Date.now() - 1_000), id);
    expect((await client.request({ action: 'set_level', level: 5 }, 'level_set')).data.level).toBe(5);

    env.gemini.enqueue({ kind: 'reply', body: tutorReply({ action: 'none' }) });
    client.send({ action: 'chat', message: '我们练什么？' });
    await client.next('reply');
    const prompt = lastSystemPrompt();
    expect(prompt).toContain('该复习的错误');
    expect(prompt).toContain('我是很好');
    expect(prompt).toContain('HSK5');
  });

  it('answers quizzes of a streamed reply too', async () => {
    const client = await env.connect(learner(), '?stream=1');
    env.gemini.enqueue({ kind: 'reply', body: tutorReply({ quiz_list: QUIZZES.slice(0, 1) }), chunks: 4 });
    client.send({ action: 'chat', message: '考考我' });
    const done = (await client.next('reply_done')).data;
    const [item] = done.quiz_list;
    const result = await client.request({ action: 'answer', quiz_id: item.id, answer: 'ngân hàng' }, 'quiz_result');
    expect(result.data.correct).toBe(true);
  });
});

describe('translations the rules call wrong are judged by Gemini', () => {
  async function translateQuiz() {
    const client = await env.connect(learner());
    env.gemini.enqueue({ kind: 'reply', body: tutorReply({ quiz_list: QUIZZES.slice(2) }) });
    client.send({ action: 'chat', message: '考考我' });
    const [item] = (await client.next('reply')).data.quiz_list;
    return { client, item };
  }

  it('accepts another right wording when Gemini judges it right', async () => {
    const { client, item } = await translateQuiz();
    env.gemini.enqueue({
      kind: 'reply',
      body: { correct: true, explanation: 'Đúng: "mình rất vui" cũng là cách dịch đúng.' },
    });
    client.send({ action: 'answer', quiz_id: item.id, answer: 'Mình vui lắm', request_id: 'tr-1' });
    const result = await client.next('quiz_result');
    expect(result).toMatchObject({
      request_id: 'tr-1',
      data: {
        correct: true,
        graded_by: 'llm',
        expected: 'Tôi rất vui.',
        explanation: expect.stringContaining('mình rất vui'),
      },
    });
    // It came through the outbox: a client that reconnects with last_seq gets it again.
    expect(typeof result.seq).toBe('number');
    const judged = JSON.stringify(env.gemini.requests.at(-1)?.body);
    expect(judged).toContain('Mình vui lắm');
    expect(judged).toContain('Tôi rất vui.');
    const progress = (await client.request({ action: 'get_progress' }, 'progress')).data;
    expect(progress).toMatchObject({ quiz_answered: 1, quiz_correct: 1, cards_total: 0 });
  });

  it('keeps the rules’ grade when Gemini fails, and never grades a quiz twice', async () => {
    const { client, item } = await translateQuiz();
    env.gemini.enqueue({ kind: 'error', status: 500 });
    client.send({ action: 'answer', quiz_id: item.id, answer: 'Tôi buồn' });
    const result = (await client.next('quiz_result')).data;
    expect(result).toMatchObject({ correct: false, graded_by: 'rules', explanation: QUIZZES[2]?.explanation });
    expect(result.card.id).toMatch(/^c-/);
    const again = await client.request({ action: 'answer', quiz_id: item.id, answer: 'Tôi rất vui.' }, 'error');
    expect(again.data.code).toBe('already_answered');
  });

  it('grades a translation the rules accept at once, without asking Gemini', async () => {
    const { client, item } = await translateQuiz();
    const asked = env.gemini.requests.length;
    const result = await client.request({ action: 'answer', quiz_id: item.id, answer: 'tôi rất vui' }, 'quiz_result');
    expect(result.data).toMatchObject({ correct: true, graded_by: 'rules' });
    expect(env.gemini.requests.length).toBe(asked);
  });
});

describe('replay with Edge', () => {
  it('re-speaks her line 30% slower than her voice for it, and a second slow replay comes from the cache', async () => {
    const client = await env.connect(learner());
    env.gemini.enqueue({ kind: 'reply', body: tutorReply({ action: 'none', chinese_content: '师兄，再说一遍吗？' }) });
    client.send({ action: 'chat', message: '什么？' });
    const reply = (await client.next('reply')).data;
    expect(env.edge.requests.at(-1)?.rate).toBe('+5%');

    client.send({ action: 'replay', turn_id: reply.turn_id, rate: 'slow' });
    const slow = (await client.next('replay_audio')).data;
    expect(slow.audio_base64).not.toBeNull();
    expect(env.edge.requests.at(-1)).toMatchObject({ text: '师兄，再说一遍吗？', rate: '-25%' });
    const spoken = env.edge.requests.length;

    client.send({ action: 'replay', turn_id: reply.turn_id, rate: 'slow' });
    const cached = (await client.next('replay_audio')).data;
    expect(cached.audio_base64).toBe(slow.audio_base64);
    expect(env.edge.requests.length).toBe(spoken);
  });
});
