import { canonicalWords } from './normalize.js';
import { VOCABULARY } from './quiz.js';

/** A word she can explain ("X是什么意思") or give ("X用中文怎么说"). */
export interface GlossaryWord {
  hanzi: string;
  /** Vietnamese meaning; several meanings are separated by commas. */
  vi: string;
  /** English meaning, for learners who ask in English. */
  en?: string;
}

/** Everyday HSK 1-2 words beyond the phrasebook's, so that her dictionary covers a beginner's questions. */
const EVERYDAY: GlossaryWord[] = [
  ['汉语', 'tiếng Trung', 'chinese'],
  ['学习', 'học, học tập', 'study, learn'],
  ['老师', 'thầy giáo, cô giáo', 'teacher'],
  ['学生', 'học sinh, sinh viên', 'student'],
  ['朋友', 'bạn, bạn bè', 'friend'],
  ['水', 'nước', 'water'],
  ['米饭', 'cơm', 'rice'],
  ['面条', 'mì', 'noodles'],
  ['苹果', 'quả táo', 'apple'],
  ['猫', 'con mèo', 'cat'],
  ['狗', 'con chó', 'dog'],
  ['家', 'nhà, gia đình', 'home'],
  ['书', 'sách', 'book'],
  ['吃', 'ăn', 'eat'],
  ['喝', 'uống', 'drink'],
  ['看', 'xem, nhìn', 'look, watch'],
  ['听', 'nghe', 'listen'],
  ['说', 'nói', 'speak, say'],
  ['写', 'viết', 'write'],
  ['工作', 'làm việc, công việc', 'work, job'],
  ['医生', 'bác sĩ', 'doctor'],
  ['中国', 'Trung Quốc', 'china'],
  ['北京', 'Bắc Kinh', 'beijing'],
  ['河内', 'Hà Nội', 'hanoi'],
  ['爱', 'yêu', 'love'],
  ['我', 'tôi', 'i, me'],
  ['你', 'bạn', 'you'],
  ['他', 'anh ấy', 'he'],
  ['她', 'cô ấy', 'she'],
  ['我们', 'chúng tôi, chúng ta', 'we'],
  ['好', 'tốt, hay', 'good'],
  ['大', 'to, lớn', 'big'],
  ['小', 'nhỏ, bé', 'small'],
  ['热', 'nóng', 'hot'],
  ['冷', 'lạnh', 'cold'],
  ['昨天', 'hôm qua', 'yesterday'],
  ['现在', 'bây giờ', 'now'],
  ['一', 'một', 'one'],
  ['二', 'hai', 'two'],
  ['三', 'ba', 'three'],
  ['四', 'bốn', 'four'],
  ['五', 'năm', 'five'],
  ['六', 'sáu', 'six'],
  ['七', 'bảy', 'seven'],
  ['八', 'tám', 'eight'],
  ['九', 'chín', 'nine'],
  ['十', 'mười', 'ten'],
  ['对不起', 'xin lỗi', 'sorry'],
  ['不', 'không', 'not, no'],
  ['有', 'có', 'have'],
  ['什么', 'cái gì', 'what'],
  ['谁', 'ai', 'who'],
  ['哪儿', 'ở đâu', 'where'],
  ['钱', 'tiền', 'money'],
  ['商店', 'cửa hàng', 'shop'],
  ['手机', 'điện thoại di động', 'mobile phone'],
  ['电脑', 'máy tính', 'computer'],
  ['晚上', 'buổi tối', 'evening'],
  ['睡觉', 'ngủ', 'sleep'],
  ['下雨', 'mưa, trời mưa', 'rain'],
  ['咖啡', 'cà phê', 'coffee'],
  ['衣服', 'quần áo', 'clothes'],
  ['医院', 'bệnh viện', 'hospital'],
  ['学校', 'trường học', 'school'],
  ['飞机', 'máy bay', 'airplane'],
  ['电影', 'phim', 'movie'],
  ['明白', 'hiểu', 'understand'],
].map(([hanzi, vi, en]) => ({ hanzi, vi, en }) as GlossaryWord);

/** Her dictionary: the phrasebook's words, then the everyday ones (first meaning wins). */
export const GLOSSARY: GlossaryWord[] = [
  ...new Map([...VOCABULARY, ...EVERYDAY].map((word) => [word.hanzi, word] as const)).values(),
];

const BY_HANZI = new Map(GLOSSARY.map((word) => [canonicalWords(word.hanzi), word]));

/** The meanings of a word, as written and in canonical form ("cốc, chén (lượng từ)" → "cốc"/"coc", "chén"/"chen"). */
function meanings(text: string): { text: string; key: string }[] {
  return text
    .replace(/\([^)]*\)/g, '')
    .split(/[,;/]/)
    .map((meaning) => ({ text: meaning.trim(), key: canonicalWords(meaning) }))
    .filter((meaning) => meaning.key.length > 0);
}

const BY_MEANING = new Map<string, { word: GlossaryWord; meaning: string }>();
for (const word of GLOSSARY) {
  for (const meaning of [...meanings(word.vi), ...meanings(word.en ?? '')]) {
    if (!BY_MEANING.has(meaning.key)) BY_MEANING.set(meaning.key, { word, meaning: meaning.text });
  }
}

/** The numbers one to ten, for a numbers quiz. */
export const NUMBER_WORDS: GlossaryWord[] = [...'一二三四五六七八九十'].flatMap((hanzi) =>
  GLOSSARY.filter((w) => w.hanzi === hanzi),
);

/** The word `hanzi` (any form the learner typed it in), if she knows it. */
export function lookUpWord(hanzi: string): GlossaryWord | undefined {
  return BY_HANZI.get(canonicalWords(hanzi));
}

/** The Chinese word for a Vietnamese or English meaning, with that meaning as written, if she knows one. */
export function lookUpMeaning(meaning: string): { word: GlossaryWord; meaning: string } | undefined {
  return BY_MEANING.get(canonicalWords(meaning));
}
