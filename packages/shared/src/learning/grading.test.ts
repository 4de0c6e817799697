import { describe, expect, it } from 'vitest';
import type { QuizDraft } from '../reply.js';
import { gradeAnswer, normalizeAnswer } from './grading.js';

type Key = Pick<QuizDraft, 'type' | 'answer' | 'options'>;
const fill = (answer: string): Key => ({ type: 'fill', answer, options: [] });
const translate = (answer: string): Key => ({ type: 'translate', answer, options: [] });
const choice = (answer: string, options: string[]): Key => ({ type: 'choice', answer, options });

describe('normalizeAnswer', () => {
  it('treats full-width and half-width alike, and ignores case', () => {
    expect(normalizeAnswer('ＡＢＣ')).toBe(normalizeAnswer('abc'));
    expect(normalizeAnswer('ＡＢＣ')).toBe('abc');
    expect(normalizeAnswer('１２３')).toBe('123');
    expect(normalizeAnswer('ＨＳＫ３')).toBe(normalizeAnswer('hsk3'));
  });

  it('ignores spaces (any width) and punctuation (Chinese and Latin)', () => {
    expect(normalizeAnswer('你好、世界。')).toBe('你好世界');
    expect(normalizeAnswer('你好！')).toBe(normalizeAnswer('你好'));
    expect(normalizeAnswer('你好!')).toBe(normalizeAnswer('你好'));
    expect(normalizeAnswer('你 好\u3000世界')).toBe('你好世界');
    expect(normalizeAnswer('  我是学生 。 ')).toBe('我是学生');
    expect(normalizeAnswer('“我是学生”，对吗？')).toBe('我是学生对吗');
  });

  it('turns tone marks into tone numbers after each syllable', () => {
    const expected = 'ni3hao3';
    expect(normalizeAnswer('nǐ hǎo')).toBe(expected);
    expect(normalizeAnswer('nǐhǎo')).toBe(expected);
    expect(normalizeAnswer('ni3hao3')).toBe(expected);
    expect(normalizeAnswer('Ni3 Hao3')).toBe(expected);
    expect(normalizeAnswer('Nǐ Hǎo!')).toBe(expected);
    expect(normalizeAnswer('zhōngguó')).toBe(normalizeAnswer('zhong1guo2'));
    expect(normalizeAnswer('Zhōngguó')).toBe('zhong1guo2');
    expect(normalizeAnswer('xuéshēng')).toBe(normalizeAnswer('xue2sheng1'));
    expect(normalizeAnswer('huàr')).toBe('huar4');
  });

  it('accepts tone marks typed as combining characters (NFD)', () => {
    expect(normalizeAnswer('nǐ hǎo'.normalize('NFD'))).toBe('ni3hao3');
  });

  it('treats ü and v as one letter', () => {
    expect(normalizeAnswer('lǜ')).toBe(normalizeAnswer('lv4'));
    expect(normalizeAnswer('lü4')).toBe(normalizeAnswer('lv4'));
    expect(normalizeAnswer('nǚ')).toBe(normalizeAnswer('nv3'));
  });

  it('writes no number for the neutral tone', () => {
    expect(normalizeAnswer('de5')).toBe(normalizeAnswer('de'));
    expect(normalizeAnswer('de0')).toBe('de');
    expect(normalizeAnswer('ma5')).toBe('ma');
    expect(normalizeAnswer('xiè xie')).toBe(normalizeAnswer('xie4xie5'));
  });

  it('keeps tones apart: a wrong tone is another answer', () => {
    expect(normalizeAnswer('ni2hao3')).not.toBe(normalizeAnswer('nǐ hǎo'));
    expect(normalizeAnswer('ni hao')).not.toBe(normalizeAnswer('nǐ hǎo'));
    expect(normalizeAnswer('lu4')).not.toBe(normalizeAnswer('lǜ'));
  });
});

describe('gradeAnswer', () => {
  it('grades pinyin however the tones are typed', () => {
    const key = fill('nǐ hǎo');
    for (const answer of ['nǐ hǎo', 'ni3hao3', 'Ni3 Hao3', 'nǐhǎo', 'NI3HAO3', 'ｎｉ３ｈａｏ３']) {
      expect(gradeAnswer(key, answer), answer).toBe(true);
    }
    expect(gradeAnswer(fill('zhōngguó'), 'zhong1guo2')).toBe(true);
    expect(gradeAnswer(fill('lǜ'), 'lv4')).toBe(true);
    expect(gradeAnswer(fill('de5'), 'de')).toBe(true);
    expect(gradeAnswer(fill('de'), 'de5')).toBe(true);
  });

  it('marks a wrong tone wrong', () => {
    expect(gradeAnswer(fill('nǐ hǎo'), 'ni2hao3')).toBe(false);
    expect(gradeAnswer(fill('nǐ hǎo'), 'ni hao')).toBe(false);
    expect(gradeAnswer(fill('zhōngguó'), 'zhong1guo1')).toBe(false);
  });

  it('grades Chinese regardless of width, spaces and punctuation', () => {
    expect(gradeAnswer(fill('我是学生。'), '我是学生')).toBe(true);
    expect(gradeAnswer(fill('我是学生'), ' 我 是 学生！')).toBe(true);
    expect(gradeAnswer(fill('ABC'), 'ＡＢＣ')).toBe(true);
    expect(gradeAnswer(fill('３'), '3')).toBe(true);
    expect(gradeAnswer(fill('我是学生'), '我是老师')).toBe(false);
  });

  it('accepts a choice by its text, its letter (any case) or its number', () => {
    const key = choice('书', ['笔', '书', '纸', '桌子']);
    for (const answer of ['书', 'B', 'b', ' b ', '2', '２', 'Ｂ', 'B.', '(B)', 'B。']) {
      expect(gradeAnswer(key, answer), answer).toBe(true);
    }
    for (const answer of ['笔', 'A', 'a', 'C', 'd', '1', '3', '4', 'E', '5', '']) {
      expect(gradeAnswer(key, answer), answer).toBe(false);
    }
  });

  it('accepts any alternative of a fill key', () => {
    const key = fill('本/部');
    expect(gradeAnswer(key, '本')).toBe(true);
    expect(gradeAnswer(key, '部')).toBe(true);
    expect(gradeAnswer(key, '本/部')).toBe(true);
    expect(gradeAnswer(key, '个')).toBe(false);
    expect(gradeAnswer(fill('本 | 部'), '部')).toBe(true);
  });

  it('accepts a translation with one slip, not another sentence', () => {
    const key = translate('Tôi thích uống trà với bạn bè vào buổi tối.');
    expect(gradeAnswer(key, 'Tôi thích uống trà với bạn bè vào buổi tối.')).toBe(true);
    expect(gradeAnswer(key, 'tôi thích uống trà với bạn bè vào buổi tối')).toBe(true);
    // One character slipped.
    expect(gradeAnswer(key, 'Tôi thích uống trà vói bạn bè vào buổi tối.')).toBe(true);
    expect(gradeAnswer(key, 'Tôi thích uống trà với bạn be vào buổi tối.')).toBe(true);
    expect(gradeAnswer(key, 'Tôi thich uống trà với bạn bè vào buổi tối.')).toBe(true);
    // Another sentence.
    expect(gradeAnswer(key, 'Hôm nay trời đẹp quá, chúng ta đi dạo đi.')).toBe(false);
    expect(gradeAnswer(key, 'Anh ấy không thích uống cà phê buổi sáng.')).toBe(false);
    expect(gradeAnswer(key, 'Tôi')).toBe(false);
  });

  it('needs an exact fill: no near match outside translations', () => {
    expect(
      gradeAnswer(fill('Tôi thích uống trà với bạn bè vào buổi tối.'), 'Tôi thích uống trà vói bạn bè vào buổi tối.'),
    ).toBe(false);
  });

  it('marks an empty answer wrong', () => {
    for (const key of [fill('本/部'), translate('Xin chào'), choice('书', ['笔', '书'])]) {
      expect(gradeAnswer(key, '')).toBe(false);
      expect(gradeAnswer(key, '   ')).toBe(false);
      expect(gradeAnswer(key, '。！')).toBe(false);
    }
  });
});
