import { customPinyin, pinyin } from 'pinyin-pro';

/**
 * Readings the dictionary gets wrong in the offline tutor's sentences (polyphones in context).
 * pinyin-pro applies these phrase readings before its own.
 */
const PHRASE_READINGS: Record<string, string> = {
  谢谢: 'xiè xie',
  长得: 'zhǎng de',
  说得: 'shuō de',
  练得: 'liàn de',
  得走: 'děi zǒu',
  得练: 'děi liàn',
  中文: 'zhōng wén',
  有空: 'yǒu kòng',
  慢慢地: 'màn màn de',
  还书: 'huán shū',
  觉得: 'jué de',
  东西: 'dōng xi',
  朋友: 'péng you',
  喜欢: 'xǐ huan',
  休息: 'xiū xi',
  先生: 'xiān sheng',
  漂亮: 'piào liang',
  时候: 'shí hou',
  名字: 'míng zi',
  认识: 'rèn shi',
  明白: 'míng bai',
  妈妈: 'mā ma',
  爸爸: 'bà ba',
  哥哥: 'gē ge',
  妹妹: 'mèi mei',
  姐姐: 'jiě jie',
  弟弟: 'dì di',
  师父: 'shī fu',
  地方: 'dì fang',
  意思: 'yì si',
  客气: 'kè qi',
  衣服: 'yī fu',
  事情: 'shì qing',
  早上: 'zǎo shang',
  晚上: 'wǎn shang',
};
customPinyin(PHRASE_READINGS);

const PUNCTUATION: Record<string, string> = {
  '，': ',',
  '。': '.',
  '！': '!',
  '？': '?',
  '、': ',',
  '：': ':',
  '；': ';',
  '”': '”',
  '～': '~',
  '…': '…',
};

/**
 * Pinyin with tone marks for a Chinese sentence, from the dictionary (never typed by hand):
 * syllables separated by spaces, punctuation attached, each sentence capitalised.
 */
export function toPinyin(text: string): string {
  const syllables = pinyin(text, { toneType: 'symbol', type: 'array', nonZh: 'consecutive' });
  let out = '';
  let sentenceStart = true;
  for (const token of syllables) {
    // Runs of punctuation come as one token (e.g. "：“"): place each mark by itself.
    if (/^[\p{P}\p{S}\s]+$/u.test(token)) {
      for (const mark of token.trim()) {
        if (mark === '“') out += `${out ? ' ' : ''}“`;
        else out += PUNCTUATION[mark] ?? mark;
        if (/[.!?。！？]/.test(mark)) sentenceStart = true;
      }
      continue;
    }
    const word = sentenceStart ? token.charAt(0).toUpperCase() + token.slice(1) : token;
    out += (out && !out.endsWith('“') ? ' ' : '') + word;
    sentenceStart = false;
  }
  return out;
}
