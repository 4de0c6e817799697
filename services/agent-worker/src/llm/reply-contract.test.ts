import { describe, expect, it } from 'vitest';
import { AGENT_REPLY_FIELD_ORDER, AgentReply } from './reply-contract.js';

const base = { chinese_content: '我们来做个小测验吧！', emotion: 'happy', action: 'quiz' };
const quizzes = (quiz_list: unknown[]) => AgentReply.parse({ ...base, quiz_list }).quiz_list;

describe('AgentReply', () => {
  it('defaults what the model left out: no quizzes, no correction, no learner facts', () => {
    const reply = AgentReply.parse({ chinese_content: '你好！' });
    expect(reply).toMatchObject({ emotion: 'neutral', action: 'none', quiz_list: [], user_tone: 'neutral' });
    // Left out (undefined) or null: either way, nothing to correct and nothing learned.
    expect(reply.correction ?? null).toBeNull();
    expect(reply.learner_facts ?? null).toBeNull();
    const explicit = AgentReply.parse({ chinese_content: '你好！', correction: null, learner_facts: null });
    expect(explicit.correction).toBeNull();
    expect(explicit.learner_facts).toBeNull();
  });

  it('keeps a correction and learner facts, and nulls malformed ones', () => {
    const good = AgentReply.parse({
      ...base,
      correction: { wrong: '我很是学生', right: '我是学生' },
      learner_facts: { name: '阿明', interests: ['练剑'] },
    });
    expect(good.correction).toEqual({ wrong: '我很是学生', right: '我是学生', explanation: '' });
    expect(good.learner_facts).toEqual({ name: '阿明', interests: ['练剑'] });
    const bad = AgentReply.parse({ ...base, correction: { wrong: '' }, learner_facts: 'Minh' });
    expect(bad.correction).toBeNull();
    expect(bad.learner_facts).toBeNull();
  });

  it('drops quizzes without an answer key', () => {
    expect(
      quizzes([
        { type: 'fill', question: '一___书' },
        { type: 'fill', question: '一___书', answer: '  ' },
      ]),
    ).toEqual([]);
  });

  it('maps a choice answered by letter to the option', () => {
    const [quiz] = quizzes([{ type: 'choice', question: '哪个是书？', options: ['笔', '书', '纸'], answer: 'B' }]);
    expect(quiz).toMatchObject({ type: 'choice', options: ['笔', '书', '纸'], answer: '书' });
    expect(quizzes([{ type: 'choice', question: '哪个？', options: ['笔', '书'], answer: 'a' }])[0]?.answer).toBe('笔');
  });

  it('keeps a letter answer that is itself an option', () => {
    const [quiz] = quizzes([{ type: 'choice', question: '哪个字母？', options: ['C', 'B', 'A'], answer: 'B' }]);
    expect(quiz).toMatchObject({ type: 'choice', answer: 'B' });
  });

  it('asks a choice whose answer is not among its options as a fill', () => {
    const [quiz] = quizzes([{ type: 'choice', question: '“书”的量词？', options: ['个', '只'], answer: '本' }]);
    expect(quiz).toMatchObject({ type: 'fill', options: [], answer: '本' });
    const [noOptions] = quizzes([{ type: 'choice', question: '“书”的量词？', answer: '本' }]);
    expect(noOptions).toMatchObject({ type: 'fill', options: [], answer: '本' });
  });

  it('drops malformed items without failing the reply', () => {
    const list = quizzes([
      42,
      null,
      'a quiz',
      { question: '' },
      { type: 'fill', answer: '本' },
      { type: 'translate', question: '翻译：我是学生', answer: 'Tôi là học sinh', options: ['x'] },
      { type: 'riddle', question: '猜猜？', options: ['是', '不是'], answer: '是' },
    ]);
    expect(list).toEqual([
      {
        type: 'translate',
        question: '翻译：我是学生',
        options: [],
        answer: 'Tôi là học sinh',
        hint: '',
        explanation: '',
      },
      { type: 'choice', question: '猜猜？', options: ['是', '不是'], answer: '是', hint: '', explanation: '' },
    ]);
  });

  it('lists its fields in speaking order: emotion and her line first (streamed), her private thought last', () => {
    expect(AGENT_REPLY_FIELD_ORDER.slice(0, 2)).toEqual(['emotion', 'chinese_content']);
    expect(AGENT_REPLY_FIELD_ORDER.at(-1)).toBe('thought');
  });
});
