import { startTestRedis, type TestRedis, testRedisClient } from '@xiaoyue/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Learner } from './learner.js';
import { type RunningSystem, startSystem } from './system.js';

/**
 * A learner's session with the offline tutor (no LLM, espeak voice), as scripted in the issue:
 * a mistake is corrected, becomes a review card, and comes back as a quiz once it is due.
 */
let redisServer: TestRedis;
let redis: ReturnType<typeof testRedisClient>;
let system: RunningSystem;

beforeAll(async () => {
  redisServer = await startTestRedis();
  redis = testRedisClient(redisServer);
  system = await startSystem({ redis: redisServer, env: { HISTORY_TURNS: '4' } });
});
afterAll(async () => {
  await system?.stop();
  redis?.disconnect();
  await redisServer?.stop();
});

/** Lets the learner's review cards fall due now, as if their minute had passed. */
async function letCardsFallDue(userId: string): Promise<void> {
  const key = `${system.prefix}:{u:${userId}}:cards-due`;
  const ids = await redis.zrange(key, '0', '-1');
  for (const id of ids) await redis.zadd(key, String(Date.now() - 1_000), id);
}

async function chat(client: Learner, message: string) {
  client.send({ action: 'chat', message });
  return (await client.next('reply', 20_000)).data;
}

describe('a mistake comes back as a quiz (offline tutor)', () => {
  const userId = 'learner-mistake';
  let client: Learner;
  beforeAll(async () => {
    client = await system.connect(userId);
    await client.next('welcome');
  });
  afterAll(() => client?.close());

  it('corrects the mistake and keeps it as a review card due in a minute', async () => {
    const reply = await chat(client, '我是很好');
    expect(reply.action).toBe('correction');
    const progress = (await client.request({ action: 'get_progress' }, 'progress')).data;
    expect(progress).toMatchObject({ cards_total: 1, cards_due: 0, cards_learned: 0 });
    const dueIn = Date.parse(progress.next_due_at) - Date.now();
    expect(dueIn).toBeGreaterThan(0);
    expect(dueIn).toBeLessThanOrEqual(61_000);
    expect(progress.profile.mistakes).toEqual([{ wrong: '我是很好', right: '我很好', count: 1 }]);
  });

  it('brings the due mistake back in her next quiz, and grades a wrong answer without giving the key away first', async () => {
    await letCardsFallDue(userId);
    const reply = await chat(client, '考考我');
    expect(reply.action).toBe('quiz');
    const [item] = reply.quiz_list;
    expect(item).toMatchObject({ type: 'fill', review: true });
    expect(item.question).toContain('我是很好');
    expect(JSON.stringify(reply.quiz_list)).not.toContain('我很好');

    const result = await client.request({ action: 'answer', quiz_id: item.id, answer: '我是好' }, 'quiz_result');
    expect(result.data).toMatchObject({ quiz_id: item.id, correct: false, expected: '我很好' });
    expect(result.data.explanation).not.toBe('');
    expect(result.data.reaction.chinese_content).not.toBe('');
    // Wrong again: the card comes back soon (within its relearning step).
    expect(Date.parse(result.data.card.due_at) - Date.now()).toBeLessThanOrEqual(10 * 60_000 + 1_000);

    const again = await client.request({ action: 'answer', quiz_id: item.id, answer: '我很好' }, 'error');
    expect(again.data.code).toBe('already_answered');
  });

  it('reviews due cards on request; a right answer sends the card further away', async () => {
    await letCardsFallDue(userId);
    const review = (await client.request({ action: 'review' }, 'review')).data;
    expect(review.due).toBe(1);
    expect(review.quiz_list).toHaveLength(1);
    // Asked again before it is answered: the same quiz, not a new one.
    expect((await client.request({ action: 'review' }, 'review')).data.quiz_list).toEqual(review.quiz_list);
    const [item] = review.quiz_list;
    // Typed with a full-width comma and a space: still right.
    const result = await client.request({ action: 'answer', quiz_id: item.id, answer: ' 我很好。' }, 'quiz_result');
    expect(result.data.correct).toBe(true);
    expect(Date.parse(result.data.card.due_at) - Date.now()).toBeGreaterThan(60_000);

    const progress = (await client.request({ action: 'get_progress' }, 'progress')).data;
    expect(progress).toMatchObject({
      cards_total: 1,
      cards_due: 0,
      quiz_answered: 2,
      quiz_correct: 1,
      quiz_accuracy: 0.5,
    });
    expect(progress.streak_days).toBe(1);
    expect(progress.words_met).toBeGreaterThan(3);

    const nothing = (await client.request({ action: 'review' }, 'review')).data;
    expect(nothing).toMatchObject({ due: 0, quiz_list: [] });
    expect(nothing.next_due_at).not.toBeNull();
  });

  it('grades a phrasebook quiz: choice by option text, by letter, and refuses unknown ids', async () => {
    const reply = await chat(client, '考考我');
    expect(reply.quiz_list).toHaveLength(3);
    for (const item of reply.quiz_list) {
      expect(item).toMatchObject({ type: 'choice' });
      expect(item).not.toHaveProperty('answer');
    }
    const [first, second] = reply.quiz_list;
    // By letter: "A" is the first option, right exactly when the key is the first option.
    const byLetter = await client.request({ action: 'answer', quiz_id: first.id, answer: 'a' }, 'quiz_result');
    expect(first.options).toContain(byLetter.data.expected);
    expect(byLetter.data.correct).toBe(byLetter.data.expected === first.options[0]);
    // By the option text itself.
    const wrong = await client.request({ action: 'answer', quiz_id: second.id, answer: '不知道' }, 'quiz_result');
    expect(wrong.data.correct).toBe(false);
    expect(second.options).toContain(wrong.data.expected);
    expect(wrong.data.card).toBeDefined();

    const unknown = await client.request({ action: 'answer', quiz_id: 'q-nope-1', answer: 'x' }, 'error');
    expect(unknown.data.code).toBe('unknown_quiz');
    const empty = await client.request({ action: 'answer', quiz_id: first.id, answer: '   ' }, 'error');
    expect(empty.data.code).toBe('invalid_message');
  });
});

describe('learner data outlives the conversation', () => {
  it('keeps level and progress across reset; clearing progress needs confirm', async () => {
    const client = await system.connect('learner-durable');
    await client.next('welcome');
    expect((await client.request({ action: 'set_level', level: 4 }, 'level_set')).data).toEqual({ level: 4 });
    await chat(client, '我是很好');
    expect((await client.request({ action: 'reset' }, 'reset')).data).toMatchObject({ history_length: 0 });
    const kept = (await client.request({ action: 'get_progress' }, 'progress')).data;
    expect(kept).toMatchObject({ level: 4, cards_total: 1 });

    // Without `confirm: true`: a frame the client's types refuse, sent as text.
    client.send(JSON.stringify({ action: 'clear_progress' }));
    const refused = await client.next('error');
    expect(refused.data.code).toBe('invalid_message');
    expect(refused.data.message).toContain('confirm');
    const cleared = (await client.request({ action: 'clear_progress', confirm: true }, 'progress_cleared')).data;
    expect(cleared).toMatchObject({ level: 2, cards_total: 0, quiz_answered: 0, words_met: 0 });
    client.close();
  });

  it('remembers the learner’s name after the turn that told it left the history window', async () => {
    const client = await system.connect('learner-memory');
    await client.next('welcome');
    await chat(client, '我叫阿明。');
    for (const message of ['你好', '谢谢', '再见', '你好']) await chat(client, message);
    const state = (await client.request({ action: 'get_state' }, 'state')).data;
    expect(state.history.map((t: { user_message: string }) => t.user_message)).not.toContain('我叫阿明。');
    const progress = (await client.request({ action: 'get_progress' }, 'progress')).data;
    expect(progress.profile).toMatchObject({ name: '阿明' });
    expect(progress.profile.turns_folded).toBeGreaterThanOrEqual(1);
    const reply = await chat(client, '我叫什么？');
    expect(reply.chinese_content).toContain('阿明');
    client.close();
  });
});

describe('replay', () => {
  it('speaks a past line again 30% slower, and refuses a turn that is not hers', async () => {
    const client = await system.connect('learner-replay');
    await client.next('welcome');
    const reply = await chat(client, '你好');
    client.send({ action: 'replay', turn_id: reply.turn_id, rate: 'slow', request_id: 'slow-1' });
    const slow = await client.next('replay_audio', 15_000);
    expect(slow).toMatchObject({ request_id: 'slow-1', data: { turn_id: reply.turn_id, rate: 'slow' } });
    expect(slow.data.chinese_content).toBe(reply.chinese_content);
    // Slower speech is longer audio.
    const bytes = (b64: string) => Buffer.from(b64, 'base64').length;
    expect(bytes(slow.data.audio_base64)).toBeGreaterThan(bytes(reply.audio_base64) * 1.15);

    const unknown = await client.request({ action: 'replay', turn_id: 'not-a-turn' }, 'error');
    expect(unknown.data.code).toBe('unknown_turn');
    client.close();
  });
});
