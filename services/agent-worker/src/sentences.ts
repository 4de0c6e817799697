/** Marks that end a sentence: Chinese and Latin full stops, questions, exclamations, semicolons. */
const TERMINATORS = new Set(['。', '！', '？', '!', '?', '；', ';', '…', '\n']);
/** Closing marks that belong to the sentence they follow: 她说：“好！” stays one sentence. */
const CLOSERS = new Set(['”', '’', '」', '』', '）', ')', '"', "'", '～', '~']);

/** Characters that carry speech (Han, letters, digits), for judging whether a piece is too short. */
function spokenLength(text: string): number {
  return (text.match(/[\p{L}\p{N}]/gu) ?? []).length;
}

/**
 * Cuts text that is still being written into sentences, as soon as each is complete, so speech
 * can start while the rest is on its way. Pieces shorter than `minChars` spoken characters are
 * merged with the next one (a lone "好！" sounds odd on its own).
 */
export class SentenceSplitter {
  private consumed = 0;

  constructor(private readonly minChars = 4) {}

  /** `text` is everything written so far (it only grows); returns sentences completed since the last call. */
  push(text: string): string[] {
    return this.cut(text, false);
  }

  /** The text is complete: returns the remaining sentences, the last one whatever its length. */
  finish(text: string): string[] {
    return this.cut(text, true);
  }

  private cut(text: string, final: boolean): string[] {
    const sentences: string[] = [];
    let start = this.consumed;
    let i = start;
    while (i < text.length) {
      const char = text[i] as string;
      const latinStop = char === '.' && (i + 1 >= text.length ? final : /\s/.test(text[i + 1] as string));
      if (!TERMINATORS.has(char) && !latinStop) {
        i++;
        continue;
      }
      // Take the whole run of terminators and closing marks ("？！”").
      let end = i + 1;
      while (end < text.length && (TERMINATORS.has(text[end] as string) || CLOSERS.has(text[end] as string))) end++;
      // Not sure the run is over until something follows it (or the text is complete).
      if (end >= text.length && !final) break;
      const sentence = text.slice(start, end).trim();
      if (spokenLength(sentence) >= this.minChars) {
        sentences.push(sentence);
        start = end;
      }
      i = end;
    }
    if (final) {
      const rest = text.slice(start).trim();
      if (spokenLength(rest) > 0) sentences.push(rest);
      start = text.length;
    }
    this.consumed = start;
    return sentences;
  }
}
