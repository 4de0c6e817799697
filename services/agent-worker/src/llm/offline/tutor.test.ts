import { describe, expect, it } from 'vitest';
import { toPinyin } from '../../pinyin-tokens.js';
import { AgentReply } from '../reply-contract.js';
import type { TutorPrompt } from '../types.js';
import { findCorrection } from './corrections.js';
import { addressFor, PHRASEBOOK } from './phrasebook.js';
import { OfflineTutorLlm } from './tutor.js';

const tutor = new OfflineTutorLlm();
const ask = (userMessage: string, sulkingLevel = 0, turns = 0, userRole = '师兄') => {
  const prompt: TutorPrompt = {
    systemInstruction: '',
    history: Array.from({ length: turns * 2 }, (_, i) => ({ role: i % 2 ? 'model' : 'user', text: 'x' }) as const),
    userMessage,
    persona: { userRole, sulkingLevel },
  };
  return tutor.generateReply(prompt).then((reply) => AgentReply.parse(reply));
};

describe('offline tutor', () => {
  it('greets in character, with dictionary pinyin and Vietnamese', async () => {
    const reply = await ask('你好！');
    expect(reply).toMatchObject({ chinese_content: '师兄好！今天也来练功吗？', emotion: 'happy', action: 'none' });
    expect(reply.pinyin).toBe('Shī xiōng hǎo! Jīn tiān yě lái liàn gōng ma?');
    expect(reply.vietnamese_display).toBe('Chào sư huynh! Hôm nay huynh cũng đến luyện công sao?');
  });

  it('starts every Vietnamese sentence with a capital letter', async () => {
    expect((await ask('考考我')).vietnamese_display).toMatch(/^Sư huynh, bài kiểm tra/);
    expect((await ask('谢谢')).vietnamese_display).toBe('Không có gì! Sư huynh với muội không cần khách sáo vậy đâu.');
  });

  it('addresses the learner by their role', async () => {
    const reply = await ask('你好', 0, 0, '师姐');
    expect(reply.chinese_content).toMatch(/^师姐好/);
    expect(reply.vietnamese_display).toMatch(/sư tỷ/);
  });

  it('understands pinyin, Vietnamese and English too', async () => {
    for (const text of ['ni hao', 'xin chào', 'hello']) expect((await ask(text)).chinese_content).toMatch(/好！/);
    expect((await ask('cảm ơn em')).chinese_content).toMatch(/不客气/);
  });

  it.each([
    ['我是很好', '我很好', 'shi-before-adjective'],
    ['我有一个书', '我有一本书', 'measure-word'],
    ['我想买两个水', '我想买两杯水', 'measure-word'],
    ['我有二个朋友', '我有两个朋友', 'er-ge'],
    ['我了吃饭', '我吃了饭', 'le-placement'],
    ['今天很非常热', '今天非常热', 'double-degree'],
    ['你叫什么名字吗？', '你叫什么名字？', 'ma-with-question-word'],
    ['这是朋友我的', '这是我的朋友', 'possessive-order'],
    ['我有一本书好', '我有一本好书', 'adjective-order'],
  ])('corrects %s to %s', async (mistake, corrected, rule) => {
    expect(findCorrection(mistake)).toMatchObject({ id: rule, corrected });
    const reply = await ask(mistake);
    expect(reply.action).toBe('correction');
    expect(reply.chinese_content).toContain(`“${corrected}”`);
    expect(reply.vietnamese_display.length).toBeGreaterThan(30);
  });

  it('leaves correct sentences alone', () => {
    for (const fine of ['我很好', '我有一本书', '我吃了饭', '你叫什么名字？', '你好吗？', '这是我的朋友']) {
      expect(findCorrection(fine)).toBeUndefined();
    }
  });

  it('runs a quiz on request, with the answer among the options', async () => {
    const reply = await ask('考考我吧');
    expect(reply.action).toBe('quiz');
    expect(reply.quiz_list).toHaveLength(3);
    for (const item of reply.quiz_list) {
      expect(item.question).toMatch(/是什么意思/);
      expect(item.options).toContain(item.answer);
      expect(new Set(item.options).size).toBe(item.options.length);
    }
  });

  it('quizzes now and then when it does not understand', async () => {
    const replies = await Promise.all([0, 1, 2, 3, 4, 5].map((turn) => ask('blorp', 0, turn)));
    expect(replies.filter((r) => r.action === 'quiz').length).toBe(2);
    expect(replies.every((r) => r.chinese_content.length > 0)).toBe(true);
  });

  it('judges rudeness, apology and affection, and sulks by level', async () => {
    expect(await ask('你真笨')).toMatchObject({ user_tone: 'rude', emotion: 'sulking' });
    expect((await ask('你真笨', 2)).emotion).toBe('angry');
    expect(await ask('对不起，小师妹', 2)).toMatchObject({ user_tone: 'apologetic', emotion: 'shy' });
    expect((await ask('你好可爱', 1)).user_tone).toBe('affectionate');
    // Sulking hard, she answers coldly whatever is asked, until an apology.
    expect(await ask('你好', 3)).toMatchObject({ chinese_content: '哼，知道了。', emotion: 'sulking' });
    expect((await ask('你好', 1)).chinese_content).toMatch(/还有点生气/);
  });

  it('is deterministic', async () => {
    expect(await ask('今天天气怎么样？', 0, 4)).toEqual(await ask('今天天气怎么样？', 0, 4));
  });

  it('has a valid reply for every phrasebook entry, each triggered by its own examples', async () => {
    expect(PHRASEBOOK.length).toBeGreaterThanOrEqual(35);
    for (const entry of PHRASEBOOK) {
      const { zh, vi } = entry.reply(addressFor('师兄'));
      expect(zh.length, entry.id).toBeGreaterThan(0);
      expect(vi.length, entry.id).toBeGreaterThan(0);
      expect(toPinyin(zh), entry.id).toMatch(/[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]/);
      expect(entry.vocabulary.length, entry.id).toBeGreaterThan(0);
    }
  });

  it('never fails, whatever it is sent', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = [
      '你',
      '好',
      '吗',
      'a',
      ' ',
      '😀',
      '\u0000',
      '\n',
      '？',
      '考',
      '笨',
      '对不起',
      '个',
      '了',
      'é',
      '<',
      '"',
    ];
    for (let i = 0; i < 300; i++) {
      const length = Math.floor(random() * (i % 50 === 0 ? 2000 : 30));
      const text = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const reply = await ask(text, Math.floor(random() * 4), Math.floor(random() * 10));
      expect(reply.chinese_content.length).toBeGreaterThan(0);
    }
  });
});
