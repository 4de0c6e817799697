import { LEARNING_LINES } from '@xiaoyue/shared';
import { describe, expect, it } from 'vitest';
import { readings } from './pinyin-tokens.js';

/** The gateway's quiz reactions carry hand-written pinyin: it must match the trusted readings. */
describe('pinyin of her quiz reactions and review lines', () => {
  it.each(LEARNING_LINES.map((line) => [line.chinese_content, line.pinyin]))('%s', (chinese, pinyin) => {
    // 哼 (an interjection, "hng") is left out of both sides.
    const written = pinyin
      .toLowerCase()
      .split(/[^\p{L}]+/u)
      .filter((syllable) => syllable !== '' && syllable !== 'hng');
    const expected = readings(chinese.replaceAll('哼', '')).filter(Boolean);
    expect(expected.length).toBeGreaterThan(0);
    expect(written).toEqual(expected);
  });
});
