import { customPinyin } from 'pinyin-pro';

/**
 * Readings the dictionary gets wrong in the offline tutor's sentences (polyphones in context).
 * pinyin-pro applies these phrase readings before its own.
 */
export const PHRASE_READINGS: Record<string, string> = {
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
  和尚: 'hé shang',
  舍得: 'shě de',
  功夫: 'gōng fu',
  舍不得: 'shě bù de',
};
customPinyin(PHRASE_READINGS);
