/**
 * Common mistakes of Vietnamese-speaking beginners, each with the fix and a short explanation in
 * Vietnamese. Rules are checked in order; the first that matches is the one she corrects.
 */
export interface Correction {
  id: string;
  /** The learner's sentence, corrected. */
  corrected: string;
  /** Why, in Vietnamese. */
  explanation: string;
}

interface CorrectionRule {
  id: string;
  pattern: RegExp;
  fix: (text: string) => string;
  explanation: string | ((match: RegExpExecArray) => string);
}

/** Nouns with the measure word they take, for 一个书 → 一本书. */
const MEASURE_WORDS: Record<string, { measure: string; vi: string }> = {
  书: { measure: '本', vi: 'quyển (sách)' },
  猫: { measure: '只', vi: 'con (động vật nhỏ)' },
  狗: { measure: '只', vi: 'con (động vật nhỏ)' },
  鸟: { measure: '只', vi: 'con (động vật nhỏ)' },
  车: { measure: '辆', vi: 'chiếc (xe)' },
  水: { measure: '杯', vi: 'cốc' },
  茶: { measure: '杯', vi: 'chén/cốc' },
  咖啡: { measure: '杯', vi: 'cốc' },
  纸: { measure: '张', vi: 'tờ' },
  桌子: { measure: '张', vi: 'cái (bàn)' },
  床: { measure: '张', vi: 'cái (giường)' },
  衣服: { measure: '件', vi: 'chiếc (áo)' },
  剑: { measure: '把', vi: 'thanh (kiếm)' },
  刀: { measure: '把', vi: 'con (dao)' },
  椅子: { measure: '把', vi: 'cái (ghế)' },
  鱼: { measure: '条', vi: 'con (cá)' },
  裤子: { measure: '条', vi: 'cái (quần)' },
};
const NUMBERS = '一两三四五六七八九十几这那每';
const MEASURED_NOUNS = Object.keys(MEASURE_WORDS)
  .sort((a, b) => b.length - a.length)
  .join('|');

const RULES: CorrectionRule[] = [
  {
    id: 'shi-before-adjective',
    // 我是很好 / 他是很高: 是 does not link a subject to an adjective.
    pattern: /是(很|非常|太|真|挺)(好|高|忙|累|漂亮|开心|高兴|冷|热|大|小|忙)/,
    fix: (t) => t.replace(/是(很|非常|太|真|挺)/, '$1'),
    explanation: 'Trong tiếng Trung, tính từ làm vị ngữ trực tiếp, không cần “是”: nói “我很好”, không nói “我是很好”.',
  },
  {
    id: 'er-ge',
    // 二个 → 两个: before a measure word "two" is 两.
    pattern: /(^|[^一二三四五六七八九十])二(个|本|只|杯|张|件|把|条|辆|天|年)/,
    fix: (t) => t.replace(/(^|[^一二三四五六七八九十])二(个|本|只|杯|张|件|把|条|辆|天|年)/, '$1两$2'),
    explanation: 'Trước lượng từ, “hai” là “两”, không phải “二”: 两个, 两本, 两杯.',
  },
  {
    id: 'measure-word',
    pattern: new RegExp(`([${NUMBERS}两])个(${MEASURED_NOUNS})`),
    fix: (t) =>
      t.replace(
        new RegExp(`([${NUMBERS}两])个(${MEASURED_NOUNS})`),
        (_m, n: string, noun: string) => `${n}${MEASURE_WORDS[noun]?.measure ?? '个'}${noun}`,
      ),
    explanation: (m) => {
      const noun = m[2] ?? '';
      const info = MEASURE_WORDS[noun];
      return `“${noun}” dùng lượng từ “${info?.measure}” (${info?.vi}), không dùng “个”: ${m[1]}${info?.measure}${noun}.`;
    },
  },
  {
    id: 'le-placement',
    // 我了吃饭 → 我吃了饭: 了 follows the verb, not the subject.
    pattern: /(我|你|他|她|我们|你们|他们)了(吃|喝|看|买|学|写|做|练)/,
    fix: (t) => t.replace(/(我|你|他|她|我们|你们|他们)了(吃|喝|看|买|学|写|做|练)/, '$1$2了'),
    explanation: '“了” đứng sau động từ để chỉ việc đã xong: 我吃了饭 / 我吃饭了, không đặt “了” ngay sau chủ ngữ.',
  },
  {
    id: 'double-degree',
    // 很非常 / 非常很: one degree adverb is enough.
    pattern: /很非常|非常很|很太|太很/,
    fix: (t) => t.replace(/很非常|非常很/, '非常').replace(/很太|太很/, '太'),
    explanation: 'Chỉ dùng một phó từ chỉ mức độ: “很好” hoặc “非常好”, không dùng “很非常好”.',
  },
  {
    id: 'ma-with-question-word',
    // 你叫什么名字吗 → 你叫什么名字: a question word already makes the question.
    pattern: /(什么|哪儿|哪里|谁|几|多少|怎么)[^。！？?]*吗[？?]?$/,
    fix: (t) => t.replace(/吗([？?]?)$/, (_m, q: string) => q || '？'),
    explanation: 'Câu đã có từ để hỏi (什么, 谁, 哪儿, 几…) thì không thêm “吗” ở cuối.',
  },
  {
    id: 'possessive-order',
    // 朋友我的 → 我的朋友: in Chinese the owner comes first (Vietnamese puts it after).
    pattern: /(朋友|书|家|老师|名字|剑|猫|狗|妈妈|爸爸)(我|你|他|她)的/,
    fix: (t) => t.replace(/(朋友|书|家|老师|名字|剑|猫|狗|妈妈|爸爸)(我|你|他|她)的/, '$2的$1'),
    explanation: 'Tiếng Trung đặt người sở hữu lên trước: “我的朋友” (bạn của tôi), khác với tiếng Việt.',
  },
  {
    id: 'adjective-order',
    // 书好 / 人好 as a noun phrase → 好书: adjectives come before the noun.
    pattern: /(一|这|那)(本|个|件)(书|人|衣服)(好|漂亮|新|大)(的)?$/,
    fix: (t) => t.replace(/(一|这|那)(本|个|件)(书|人|衣服)(好|漂亮|新|大)(的)?$/, '$1$2$4$3'),
    explanation: 'Tính từ đứng trước danh từ: “一本好书” (một quyển sách hay), không nói “一本书好”.',
  },
];

/** The first common mistake in `text`, corrected and explained; undefined when none is found. */
export function findCorrection(text: string): Correction | undefined {
  for (const rule of RULES) {
    const match = rule.pattern.exec(text);
    if (!match) continue;
    const corrected = rule.fix(text);
    if (corrected === text) continue;
    const explanation = typeof rule.explanation === 'function' ? rule.explanation(match) : rule.explanation;
    return { id: rule.id, corrected, explanation };
  }
  return undefined;
}
