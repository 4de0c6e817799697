const OPEN = '<think>';
const CLOSE = '</think>';

/**
 * Removes `<think>…</think>` blocks (what reasoning models such as Qwen3 and DeepSeek R1 distills
 * write before their answer) from text that arrives in pieces: a tag may be split across pieces,
 * so a piece's tail that could begin a tag is held back until the next piece says what it is.
 * Whitespace before the answer is dropped too. Text inside an unclosed block is never released.
 */
export class ThinkingFilter {
  private held = '';
  private thinking = false;
  private started = false;

  /** The visible text this piece completes. */
  push(piece: string): string {
    this.held += piece;
    let visible = '';
    for (;;) {
      const tag = this.thinking ? CLOSE : OPEN;
      const at = this.held.indexOf(tag);
      if (at >= 0) {
        if (!this.thinking) visible += this.held.slice(0, at);
        this.held = this.held.slice(at + tag.length);
        this.thinking = !this.thinking;
        continue;
      }
      const keep = tagPrefixAtEnd(this.held, tag);
      if (!this.thinking) visible += this.held.slice(0, this.held.length - keep);
      this.held = this.held.slice(this.held.length - keep);
      return this.answer(visible);
    }
  }

  /** The rest once the text is complete. */
  end(): string {
    const rest = this.thinking ? '' : this.held;
    this.held = '';
    return this.answer(rest);
  }

  private answer(text: string): string {
    if (this.started) return text;
    const trimmed = text.trimStart();
    if (trimmed) this.started = true;
    return trimmed;
  }
}

/** The whole text without its `<think>` blocks. */
export function withoutThinking(text: string): string {
  const filter = new ThinkingFilter();
  return filter.push(text) + filter.end();
}

/** Length of the longest end of `text` that is the start of `tag`. */
function tagPrefixAtEnd(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(tag.slice(0, n))) return n;
  }
  return 0;
}
