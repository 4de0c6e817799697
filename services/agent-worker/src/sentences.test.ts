import { describe, expect, it } from 'vitest';
import { SentenceSplitter } from './sentences.js';

/** Feeds `text` one character at a time, as a stream would, collecting sentences as they complete. */
function stream(text: string, minChars?: number): { sentences: string[]; readyAt: number[] } {
  const splitter = new SentenceSplitter(minChars);
  const sentences: string[] = [];
  const readyAt: number[] = [];
  for (let n = 1; n <= text.length; n++) {
    for (const s of splitter.push(text.slice(0, n))) {
      sentences.push(s);
      readyAt.push(n);
    }
  }
  sentences.push(...splitter.finish(text));
  return { sentences, readyAt };
}

describe('SentenceSplitter', () => {
  it('cuts at Chinese and Latin punctuation', () => {
    expect(stream('师兄早上好！今天我们练剑吗？师父说要早点去。').sentences).toEqual([
      '师兄早上好！',
      '今天我们练剑吗？',
      '师父说要早点去。',
    ]);
    expect(stream('Hello there. How are you? Fine!').sentences).toEqual(['Hello there.', 'How are you?', 'Fine!']);
  });

  it('gives a sentence out as soon as the next character shows it is over', () => {
    const text = '师兄早上好！今天练剑吗？';
    const { readyAt } = stream(text);
    expect(readyAt[0]).toBe(text.indexOf('！') + 2);
  });

  it('keeps runs of marks and closing quotes with their sentence', () => {
    expect(stream('你真的来了？！师父说：“好好练！”然后走了。').sentences).toEqual([
      '你真的来了？！',
      '师父说：“好好练！”',
      '然后走了。',
    ]);
  });

  it('merges pieces too short to say well', () => {
    expect(stream('好！我们走吧。嗯。').sentences).toEqual(['好！我们走吧。', '嗯。']);
  });

  it('does not cut inside numbers or abbreviations without a following space', () => {
    expect(stream('价格是3.5元，很便宜。').sentences).toEqual(['价格是3.5元，很便宜。']);
  });

  it('returns text without any punctuation at the end', () => {
    expect(stream('师兄你好').sentences).toEqual(['师兄你好']);
    expect(stream('').sentences).toEqual([]);
  });
});
