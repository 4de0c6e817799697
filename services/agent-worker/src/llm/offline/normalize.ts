/**
 * The learner's message in one canonical form, so that one pattern per phrasing is enough:
 * full-width letters and punctuation folded (NFKC), traditional characters simplified (the common
 * ones), 中文/普通话/华语… read as 汉语, Latin text lowercased without Vietnamese diacritics
 * ("tiếng Trung" → "tieng trung"), punctuation and the spaces between Chinese characters dropped,
 * and a leading or trailing form of address (小师妹，… / …，师妹) or mood particle (呢, 啊, 呀…) cut.
 * 吗 is kept: 你好 and 你好吗 are different questions.
 */

/** Traditional → simplified for the characters beginners' sentences are made of. */
const TRADITIONAL: Record<string, string> = Object.fromEntries([
  ...'說说 學学 漢汉 語语 麼么 嗎吗 們们 謝谢 見见 氣气 對对 歲岁 幾几 點点 時时 間间 歡欢 飯饭 東东 國国 話话 聽听 請请 問问 誰谁 個个 這这 裡里 裏里 來来 從从 愛爱 媽妈 親亲 熱热 會会 讓让 試试 認认 識识 興兴 樂乐 難难 過过 開开 覺觉 習习 練练 測测 驗验 數数 還还 沒没 關关 係系 號号 錢钱 買买 賣卖 電电 視视 書书 寫写 讀读 師师 醫医 給给 為为 厲厉 聰聪 麵面 餓饿 喫吃 機机 經经 誤误 錯错 邊边 雙双 聲声 調调 級级 題题 誇夸 壞坏 夠够 貓猫 魚鱼 車车 頭头 體体 雞鸡 塊块 貴贵 詞词 嘗尝 蘋苹 業业 幫帮 釋释 義义 慢慢 遠远 麗丽 漂漂 歲岁 長长 歲岁 歡欢'
    .split(' ')
    .filter((pair) => pair[0] !== pair[1])
    .map((pair) => [pair[0], pair[1]]),
  ['甚麼', '什么'],
]);
const TRADITIONAL_PATTERN = new RegExp(
  Object.keys(TRADITIONAL)
    .sort((a, b) => b.length - a.length)
    .join('|'),
  'g',
);

/** Ways of naming the language, read as one. */
const SYNONYMS: [RegExp, string][] = [
  [/中文|普通话|华语|中国话|国语|华文|汉话/g, '汉语'],
  [/tieng (trung quoc|trung|hoa|han)/g, 'tieng trung'],
  [/\b(mandarin|chinese language)\b/g, 'chinese'],
];

/** How she is called at the start or end of a message, and "please" / "excuse me" openers. */
const VOCATIVE = /^(小师妹|师妹|小月|师兄|师姐)(啊|呀)?|(小师妹|师妹|小月)(啊|呀)?$/;
const VIETNAMESE_VOCATIVE = /^(tieu )?(su )?muoi oi |^em oi | (tieu )?(su )?muoi oi$| em oi$/;
const OPENER = /^(请问|请|那|嗯|哎|诶|喂)/;
/** Mood particles that do not change what is asked. */
const PARTICLES = /(呢|啊|呀|啦|哦|嘛|哈|喔|噢|吧)+$/;

const HAN = '\\p{Script=Han}';
const SPACE_NEXT_TO_HAN = new RegExp(`(?<=${HAN})\\s+|\\s+(?=${HAN})`, 'gu');

/** `text` in canonical form (see above); may be empty. */
export function normalize(text: string): string {
  let out = canonicalWords(text);
  let before: string;
  do {
    before = out;
    out = out.replace(VOCATIVE, '').replace(VIETNAMESE_VOCATIVE, '').replace(OPENER, '').replace(PARTICLES, '').trim();
  } while (out !== before && out.length > 0);
  return out;
}

/** Characters, case, diacritics, punctuation and synonyms folded, nothing cut: for words, not messages. */
export function canonicalWords(text: string): string {
  let out = text.normalize('NFKC').toLowerCase();
  out = out.replace(TRADITIONAL_PATTERN, (c) => TRADITIONAL[c] ?? c);
  // Vietnamese diacritics off: learners type with and without them.
  out = out.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'd').normalize('NFC');
  // Apostrophes go (don't → dont); other punctuation and symbols become spaces (quotes too: “朋友”是什么意思), then spaces collapse.
  out = out
    .replace(/['’‘`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  out = out.replace(SPACE_NEXT_TO_HAN, '');
  for (const [pattern, canonical] of SYNONYMS) out = out.replace(pattern, canonical);
  return out;
}
