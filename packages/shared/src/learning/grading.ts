import type { QuizDraft } from '../reply.js';

/** Each tone-marked vowel as its plain letter (ü as `v`, as typed) and its tone: `ǎ` -> [a, 3]. */
export const PINYIN_TONE_MARKS: Readonly<Record<string, [string, number]>> = Object.fromEntries(
  [
    ['a', 'āáǎà'],
    ['e', 'ēéěè'],
    ['i', 'īíǐì'],
    ['o', 'ōóǒò'],
    ['u', 'ūúǔù'],
    ['v', 'ǖǘǚǜ'],
  ].flatMap(([base, marked]) => [...(marked as string)].map((mark, i) => [mark, [base as string, i + 1]])),
);

/** Punctuation, symbols and spaces of any width: none of them changes an answer. */
const IGNORED = /[\p{P}\p{S}\p{Z}\s]/gu;

/**
 * An answer in one canonical form, so that the way it was typed does not decide the grade:
 * full-width and half-width alike (NFKC), case, spaces and punctuation ignored, and pinyin with
 * tone marks turned into tone numbers after each syllable ("nǐ hǎo" and "ni3hao3" both give
 * "ni3hao3"; ü and v are one letter; a neutral tone has no number: "de5" is "de").
 */
export function normalizeAnswer(text: string): string {
  const lowered = text.normalize('NFKC').toLowerCase();
  let out = '';
  let pendingTone = 0;
  const flushTone = () => {
    if (pendingTone) out += String(pendingTone);
    pendingTone = 0;
  };
  for (const char of lowered) {
    const marked = PINYIN_TONE_MARKS[char];
    if (marked) {
      // A second tone before the first was written: the consonant just read began this syllable
      // (nǐnǎ -> ni3na3, not nin3a3).
      if (pendingTone && /[nrg]$/.test(out) && !/ng$/.test(out)) {
        out = `${out.slice(0, -1)}${pendingTone}${out.slice(-1)}`;
        pendingTone = 0;
      }
      flushTone();
      out += marked[0];
      pendingTone = marked[1];
      continue;
    }
    // A tone mark sits on a vowel; its number goes after the rest of the syllable: the vowels
    // after it and a final n, ng or r (hǎo -> hao3, zhōng -> zhong1, huàr -> huar4).
    if (pendingTone && continuesSyllable(out.slice(-1), char)) {
      out += char;
      continue;
    }
    flushTone();
    out += char;
  }
  flushTone();
  return out
    .replace(IGNORED, '')
    .replace(/v/g, 'ü')
    .replace(/([a-zü]+)[05](?![0-9])/g, '$1');
}

function continuesSyllable(previous: string, char: string): boolean {
  if (/[aeiouüv]/.test(char)) return true;
  if (char === 'n' || char === 'r') return /[aeiouüv]/.test(previous);
  return char === 'g' && previous === 'n';
}

/** An answer as typed to a choice: full-width ("Ｂ", "２" from a Chinese IME) or with punctuation ("B.", "(B)"). */
const bareChoice = (text: string) => text.normalize('NFKC').replace(IGNORED, '');

/** The option a letter names ("B", "ｂ", "(B)" -> the second option), if it names one. */
export function optionByLetter(options: readonly string[], text: string): string | undefined {
  const bare = bareChoice(text);
  return /^[A-Da-d]$/.test(bare) ? options[bare.toUpperCase().charCodeAt(0) - 65] : undefined;
}

/** The accepted answers of a key: alternatives may be separated by "/" or "|" ("本/部"). */
function acceptedAnswers(key: string): string[] {
  return [key, ...key.split(/\s*[/|｜]\s*/)].map(normalizeAnswer).filter((a) => a.length > 0);
}

/** Similarity of two strings by shared character pairs (Dice coefficient), 0..1. */
function similarity(a: string, b: string): number {
  if (a === b) return 1;
  const pairs = (s: string) => {
    const chars = [...s];
    return chars.length < 2 ? [s] : chars.slice(1).map((c, i) => `${chars[i]}${c}`);
  };
  const left = pairs(a);
  const right = new Map<string, number>();
  for (const pair of pairs(b)) right.set(pair, (right.get(pair) ?? 0) + 1);
  let shared = 0;
  for (const pair of left) {
    const n = right.get(pair) ?? 0;
    if (n > 0) {
      shared += 1;
      right.set(pair, n - 1);
    }
  }
  return (2 * shared) / (left.length + pairs(b).length);
}

/** A translation this close to the key (by character pairs) is accepted: small slips are not wrong. */
export const TRANSLATE_SIMILARITY = 0.8;

/**
 * Grades an answer against a quiz's key, deterministically. `choice` accepts the option itself or
 * its letter (A-D) or number (1-4); `fill` needs the key (or one of its alternatives) in canonical
 * form; `translate` also accepts a near match.
 */
export function gradeAnswer(quiz: Pick<QuizDraft, 'type' | 'answer' | 'options'>, answer: string): boolean {
  let given = answer.trim();
  if (quiz.type === 'choice') {
    const bare = bareChoice(given);
    const byNumber = /^[1-9]$/.test(bare) ? quiz.options[Number(bare) - 1] : undefined;
    given = optionByLetter(quiz.options, given) ?? byNumber ?? given;
  }
  const normalized = normalizeAnswer(given);
  if (normalized.length === 0) return false;
  const accepted = acceptedAnswers(quiz.answer);
  if (accepted.includes(normalized)) return true;
  return quiz.type === 'translate' && accepted.some((key) => similarity(key, normalized) >= TRANSLATE_SIMILARITY);
}
