import type { QuizDraft } from '@xiaoyue/shared';
import { toPinyin } from '../../pinyin-tokens.js';
import { PHRASEBOOK, type VocabularyItem } from './phrasebook.js';

/** Every word of the phrasebook, once. */
export const VOCABULARY: VocabularyItem[] = [
  ...new Map(PHRASEBOOK.flatMap((e) => e.vocabulary).map((v) => [v.hanzi, v])).values(),
];

export const QUIZ_REQUEST = /考我|考考|测验|测试|小测|出题|quiz|test me|kiểm tra|đố (em|tôi|anh|huynh)/i;

/**
 * A three-question quiz on phrasebook words (or on `vocabulary`), chosen by `seed`: what does the
 * word mean, with the right meaning among three others.
 */
export function buildQuiz(seed: number, size = 3, vocabulary: VocabularyItem[] = VOCABULARY): QuizDraft[] {
  const pick = (n: number) =>
    vocabulary[((n % vocabulary.length) + vocabulary.length) % vocabulary.length] as VocabularyItem;
  const items: QuizDraft[] = [];
  for (let i = 0; i < size; i++) {
    const word = pick(seed + i * 7);
    const distractors = [pick(seed + i * 7 + 3), pick(seed + i * 7 + 11), pick(seed + i * 7 + 19)]
      .map((v) => v.vi)
      .filter((vi, index, all) => vi !== word.vi && all.indexOf(vi) === index);
    const options = [word.vi, ...distractors].slice(0, 4);
    // Rotate so the right answer is not always first.
    const shift = (seed + i) % options.length;
    items.push({
      type: 'choice',
      question: `“${word.hanzi}”是什么意思？`,
      options: [...options.slice(shift), ...options.slice(0, shift)],
      answer: word.vi,
      hint: '',
      explanation: `“${word.hanzi}” (${toPinyin(word.hanzi)}) nghĩa là “${word.vi}”.`,
    });
  }
  return items;
}
