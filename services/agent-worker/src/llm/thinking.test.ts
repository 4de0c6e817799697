import { describe, expect, it } from 'vitest';
import { ThinkingFilter, withoutThinking } from './thinking.js';

/** Feeds `text` to a filter in pieces cut at every offset in `cuts`. */
function filtered(text: string, cuts: number[]): string {
  const filter = new ThinkingFilter();
  const at = [0, ...cuts, text.length];
  let out = '';
  for (let i = 1; i < at.length; i++) out += filter.push(text.slice(at[i - 1], at[i]));
  return out + filter.end();
}

describe('ThinkingFilter', () => {
  const text = '<think>想一想 {"a":1}</think>\n\n{"chinese_content":"好<b>"}';
  const answer = '{"chinese_content":"好<b>"}';

  it('removes the think block and the whitespace before the answer', () => {
    expect(withoutThinking(text)).toBe(answer);
    expect(withoutThinking(answer)).toBe(answer);
  });

  it('removes it however the text is cut, one character at a time included', () => {
    for (let cut = 1; cut < text.length; cut++) expect(filtered(text, [cut])).toBe(answer);
    expect(
      filtered(
        text,
        Array.from({ length: text.length - 1 }, (_, i) => i + 1),
      ),
    ).toBe(answer);
  });

  it('holds back only what could begin a tag, so the answer streams on', () => {
    const filter = new ThinkingFilter();
    expect(filter.push('{"a":"<')).toBe('{"a":"');
    expect(filter.push('b>"}')).toBe('<b>"}');
    expect(filter.end()).toBe('');
  });

  it('never releases a block that is not closed', () => {
    expect(withoutThinking('<think>{"chinese_content":"秘密"}')).toBe('');
  });
});
