import type { SpokenLine } from '../events.js';
import type { SulkingLevel } from '../reply.js';

type Line = SpokenLine;

// Readings are written by hand and checked against the agent's pinyin (reactions test there).
const PRAISE: Line[] = [
  {
    chinese_content: '答对了！真棒！',
    pinyin: 'dá duì le! zhēn bàng!',
    vietnamese_display: 'Đúng rồi! Hay lắm!',
    emotion: 'happy',
  },
  {
    chinese_content: '不错嘛，这一招你学会了。',
    pinyin: 'bú cuò ma, zhè yì zhāo nǐ xué huì le.',
    vietnamese_display: 'Không tệ nha, chiêu này huynh học được rồi.',
    emotion: 'proud',
  },
  {
    chinese_content: '对了！师父知道了也会高兴的。',
    pinyin: 'duì le! shī fu zhī dào le yě huì gāo xìng de.',
    vietnamese_display: 'Đúng rồi! Sư phụ biết chắc cũng sẽ vui.',
    emotion: 'excited',
  },
];

const TEASE: Line[] = [
  {
    chinese_content: '哎呀，错了！再试一次吧。',
    pinyin: 'āi yā, cuò le! zài shì yí cì ba.',
    vietnamese_display: 'Ái chà, sai rồi! Thử lại lần nữa nhé.',
    emotion: 'teasing',
  },
  {
    chinese_content: '嘻嘻，又上当了吧？',
    pinyin: 'xī xī, yòu shàng dàng le ba?',
    vietnamese_display: 'Hì hì, lại mắc bẫy rồi phải không?',
    emotion: 'teasing',
  },
  // A missed card comes back within minutes (cards.ts: learning steps of 1 and 10 minutes).
  {
    chinese_content: '不对，等一下我还要考你。',
    pinyin: 'bú duì, děng yí xià wǒ hái yào kǎo nǐ.',
    vietnamese_display: 'Không đúng, lát nữa muội còn kiểm tra lại đấy.',
    emotion: 'strict',
  },
];

const SULKING_PRAISE: Line = {
  chinese_content: '哼，算你答对了。',
  pinyin: 'hng, suàn nǐ dá duì le.',
  vietnamese_display: 'Hừ, coi như huynh trả lời đúng.',
  emotion: 'sulking',
};
const SULKING_TEASE: Line = {
  chinese_content: '哼，这都不会。',
  pinyin: 'hng, zhè dōu bú huì.',
  vietnamese_display: 'Hừ, cái này mà cũng không biết.',
  emotion: 'sulking',
};

/** Her line when an answer is graded: praise or a gentle tease, curt while she sulks (level ≥ 2). */
export function quizReaction(correct: boolean, sulkingLevel: SulkingLevel, seed: string): SpokenLine {
  if (sulkingLevel >= 2) return correct ? SULKING_PRAISE : SULKING_TEASE;
  const lines = correct ? PRAISE : TEASE;
  let h = 0;
  for (const char of seed) h = (h * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return lines[h % lines.length] as Line;
}

/** Her opening of a review quiz, or what she says when nothing is due. */
export function reviewOpening(due: number): SpokenLine {
  return due > 0
    ? {
        chinese_content: '以前做错的题，我们再练一遍！',
        pinyin: 'yǐ qián zuò cuò de tí, wǒ men zài liàn yí biàn!',
        vietnamese_display: 'Những câu từng sai, mình luyện lại một lượt nhé!',
        emotion: 'strict',
      }
    : {
        chinese_content: '现在没有要复习的，休息一下吧。',
        pinyin: 'xiàn zài méi yǒu yào fù xí de, xiū xi yí xià ba.',
        vietnamese_display: 'Bây giờ chưa có gì cần ôn, nghỉ một chút đi.',
        emotion: 'happy',
      };
}

/** Every line above, for checking their readings. */
export const LEARNING_LINES: SpokenLine[] = [
  ...PRAISE,
  ...TEASE,
  SULKING_PRAISE,
  SULKING_TEASE,
  reviewOpening(1),
  reviewOpening(0),
];
