import { convert, OutputFormat, pinyin, segment } from 'pinyin-pro';
import './pinyin.js'; // registers the phrase readings the dictionary gets wrong

/** One word of a reply with its reading; punctuation and Latin text have an empty reading. */
export interface PinyinToken {
  hanzi: string;
  pinyin: string;
}

const HAN = /\p{Script=Han}/u;

/** A Mandarin syllable without its tone, for splitting pinyin written without spaces. */
const SYLLABLE =
  /(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|in|un|vn|er|ia|ie|iu|ua|uo|ue|ve|ui|a|o|e|i|u|v)(?:r(?![aeiouv]))?/g;

const TONE_MARKS: Record<string, [string, number]> = Object.fromEntries(
  [
    ['a', 'āáǎà'],
    ['e', 'ēéěè'],
    ['i', 'īíǐì'],
    ['o', 'ōóǒò'],
    ['u', 'ūúǔù'],
    ['v', 'ǖǘǚǜ'],
  ].flatMap(([base, marked]) => [...(marked as string)].map((mark, i) => [mark, [base as string, i + 1]])),
);

/** The LLM's pinyin as one syllable (with tone marks) per Han character, or undefined if it does not line up. */
export function llmSyllables(llmPinyin: string | undefined, hanCount: number): string[] | undefined {
  if (!llmPinyin) return undefined;
  // Strip tones to plain letters (remembering where each tone was), so one regex can split
  // "nǐhǎo", "ni3hao3" and "ni3 hao3" alike.
  let plain = '';
  const toneAt: number[] = [];
  for (const char of llmPinyin.toLowerCase()) {
    const marked = TONE_MARKS[char];
    if (marked) {
      plain += marked[0];
      toneAt[plain.length - 1] = marked[1];
    } else if (/[1-5]/.test(char) && plain.length > 0) {
      toneAt[plain.length - 1] = Number(char);
    } else if (char === 'ü') {
      plain += 'v';
    } else {
      plain += /[a-z]/.test(char) ? char : ' ';
    }
  }
  const syllables = [...plain.matchAll(SYLLABLE)].map((match) => {
    const span = toneAt.slice(match.index, match.index + match[0].length);
    const tone = Math.max(0, ...span.filter((t) => t !== undefined));
    const numbered = `${match[0].replace(/v/g, 'ü')}${tone >= 1 && tone <= 4 ? tone : ''}`;
    return tone >= 1 && tone <= 4 ? convert(numbered, { format: 'numToSymbol' }) : numbered;
  });
  return syllables.length === hanCount ? syllables : undefined;
}

/**
 * Context rules for polyphones neither the dictionary nor an LLM reliably get right. Each gets
 * the sentence and the index of the character; returns a reading or undefined.
 */
const CONTEXT_RULES: Record<string, (text: string, i: number) => string | undefined> = {
  得: (text, i) => {
    const before = text[i - 1] ?? '';
    const after = text[i + 1] ?? '';
    if (/[到罪体意胜失]/.test(after) || /[获取赢心记觉懂难]/.test(before)) return undefined; // 得到, 获得, 觉得…: the dictionary knows
    if (/[我你他她们也还就必都]/.test(before) && /[走去来做学练说吃买写]/.test(after)) return 'děi'; // 我得走了: must
    if (/[\p{Script=Han}]/u.test(before)) return 'de'; // 说得对, 长得高, 跑得快: complement
    return undefined;
  },
  地: (text, i) => {
    const before = text[i - 1] ?? '';
    const after = text[i + 1] ?? '';
    if (/[土方图球下上草天田本当]/.test(before) || /[方图球点址区铁]/.test(after)) return undefined; // 土地, 地方…
    if (before === text[i - 2] || /[兴心真认快慢好静悄努]/.test(before)) return 'de'; // 慢慢地, 高兴地, 认真地
    return undefined;
  },
  还: (text, i) => {
    const after = text.slice(i + 1, i + 3);
    if (/^(你|我|他|她|书|钱|给|了书|了钱|回)/.test(after)) return 'huán'; // 还你书, 还钱, 还给: give back
    return undefined;
  },
  背: (text, i) => {
    const after = text[i + 1] ?? '';
    if (/[着包书起走]/.test(after)) return 'bēi'; // 背着包, 背包: carry on the back
    return undefined;
  },
  着: (text, i) => {
    const before = text[i - 1] ?? '';
    if (/[看听背拿带笑站坐躺等想走跑写唱穿戴开关]/.test(before)) return 'zhe'; // 背着包: aspect particle
    return undefined;
  },
  长: (text, i) => {
    const after = text[i + 1] ?? '';
    if (after === '得' || after === '大' || /[老高]/.test(after)) return 'zhǎng'; // 长得高, 长大: grow
    return undefined;
  },
  空: (text, i) => {
    const before = text[i - 1] ?? '';
    if (/[有没]/.test(before)) return 'kòng'; // 有空: free time
    return undefined;
  },
  中: (text, i) => {
    const after = text[i + 1] ?? '';
    if (/[文国间午心学]/.test(after)) return 'zhōng';
    return undefined;
  },
};

/**
 * The reading of every character of `text`, aligned: the dictionary's where a character has one
 * reading; for a polyphone, a context rule if one applies, else the LLM's syllable if it is a
 * valid reading of that character, else the dictionary's (which knows common phrases).
 */
export function readings(text: string, llmPinyin?: string): string[] {
  const chars = pinyin(text, { type: 'all' });
  const hanIndexes = chars.flatMap((c, i) => (HAN.test(c.origin) ? [i] : []));
  const fromLlm = llmSyllables(llmPinyin, hanIndexes.length);
  return chars.map((c, i) => {
    if (!HAN.test(c.origin)) return '';
    if (c.polyphonic.length <= 1) return c.pinyin;
    const rule = CONTEXT_RULES[c.origin]?.(text, i);
    if (rule) return rule;
    const suggested = fromLlm?.[hanIndexes.indexOf(i)];
    if (suggested && c.polyphonic.includes(suggested)) return suggested;
    return c.pinyin;
  });
}

/** `chinese_content` as words with their readings, every character covered, punctuation on its own. */
export function pinyinTokens(text: string, llmPinyin?: string): PinyinToken[] {
  const perChar = readings(text, llmPinyin);
  const tokens: PinyinToken[] = [];
  let at = 0;
  for (const word of segment(text, { format: OutputFormat.AllSegment }) as { origin: string }[]) {
    const chars = [...word.origin];
    const syllables = perChar.slice(at, at + chars.length);
    at += chars.length;
    if (!HAN.test(word.origin)) {
      // Punctuation and Latin text: one token per punctuation mark, runs of letters kept together.
      for (const piece of word.origin.match(/[\p{L}\p{N}]+|\s+|./gu) ?? []) {
        if (!piece.trim()) continue;
        const last = tokens.at(-1);
        const latin = /^[\p{L}\p{N}]+$/u;
        if (last && latin.test(piece) && latin.test(last.hanzi) && !HAN.test(last.hanzi)) last.hanzi += piece;
        else tokens.push({ hanzi: piece, pinyin: '' });
      }
      continue;
    }
    tokens.push({ hanzi: word.origin, pinyin: syllables.filter(Boolean).join(' ') });
  }
  return tokens;
}

/** The readings as one display string: words spaced, punctuation attached. */
export function pinyinLine(tokens: PinyinToken[]): string {
  let out = '';
  for (const { hanzi, pinyin: reading } of tokens) {
    if (!reading) {
      out += /^[\p{L}\p{N}]/u.test(hanzi) ? `${out ? ' ' : ''}${hanzi}` : (PUNCTUATION[hanzi] ?? hanzi);
      continue;
    }
    out += `${out && !out.endsWith('“') ? ' ' : ''}${reading}`;
  }
  return out.replace(/(^|[.!?]\s+)(\p{Ll})/gu, (_m, before: string, letter: string) => before + letter.toUpperCase());
}

const PUNCTUATION: Record<string, string> = {
  '，': ',',
  '。': '.',
  '！': '!',
  '？': '?',
  '、': ',',
  '：': ':',
  '；': ';',
  '“': ' “',
  '”': '”',
};
