import { PINYIN_TONE_MARKS } from '@xiaoyue/shared';
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
  /(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|in|un|vn|ia|ie|iu|ua|uo|ue|ve|ui|a|o|e|i|u|v)(?:r(?![aeiouv]))?/g;

const TONE_MARKS = PINYIN_TONE_MARKS;

/** The LLM's syllable at plain[from, to) ("v" for ü) with the tone written on or after it, as tone marks. */
function withTone(plain: string, toneAt: number[], from: number, to: number): string {
  const tone = Math.max(0, ...toneAt.slice(from, to).filter((t) => t !== undefined));
  const letters = plain.slice(from, to).replace(/v/g, 'ü');
  return tone >= 1 && tone <= 4 ? convert(`${letters}${tone}`, { format: 'numToSymbol' }) : letters;
}

/** A syllable without its tone, "v" for ü: what the LLM's letters are compared on. */
function toneless(syllable: string): string {
  return [...syllable].map((c) => TONE_MARKS[c]?.[0] ?? (c === 'ü' ? 'v' : c)).join('');
}

const WHOLE_SYLLABLE = new RegExp(`^(?:${SYLLABLE.source})$`);

/**
 * Splits `plain` (letters, spaces where the LLM marked a boundary) into exactly `count` syllables,
 * preferring, where the letters allow several splits ("genan": ge nan or gen an), the one whose
 * syllables are readings of the characters they line up with; else the longest syllables first.
 * Returns [start, end) pairs and how many syllables are readings of their character.
 */
function splitSyllables(plain: string, count: number, known?: Set<string>[]) {
  const memo = new Map<number, { score: number; cuts: [number, number][] } | null>();
  const best = (at: number, k: number): { score: number; cuts: [number, number][] } | null => {
    while (plain[at] === ' ') at++;
    if (at >= plain.length || k >= count) return at >= plain.length && k === count ? { score: 0, cuts: [] } : null;
    const key = at * (count + 1) + k;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    let found: { score: number; cuts: [number, number][] } | null = null;
    for (let length = 7; length >= 1; length--) {
      const letters = plain.slice(at, at + length);
      if (letters.length < length || letters.includes(' ') || !WHOLE_SYLLABLE.test(letters)) continue;
      if (length > 2 && letters.endsWith('r') && /[aeiouv]/.test(plain[at + length] ?? '')) continue; // "deren": de ren
      const rest = best(at + length, k + 1);
      if (!rest) continue;
      const score = rest.score + (known?.[k]?.has(letters) ? 1 : 0);
      if (!found || score > found.score) found = { score, cuts: [[at, at + length], ...rest.cuts] };
    }
    memo.set(key, found);
    return found;
  };
  return best(0, 0);
}

/**
 * The LLM's pinyin as one syllable (with tone marks) per Han character, or undefined if it does not
 * line up. `known`, each character's readings, helps split letters run together and rejects pinyin
 * that mostly matches none of the characters.
 */
export function llmSyllables(
  llmPinyin: string | undefined,
  hanCount: number,
  known?: string[][],
): string[] | undefined {
  if (!llmPinyin) return undefined;
  // Strip tones to plain letters (remembering where each tone was), so one split handles
  // "nǐhǎo", "ni3hao3" and "ni3 hao3" alike.
  let plain = '';
  const toneAt: number[] = [];
  for (const char of llmPinyin.toLowerCase()) {
    const marked = TONE_MARKS[char];
    if (marked) {
      plain += marked[0];
      toneAt[plain.length - 1] = marked[1];
    } else if (/[0-5]/.test(char) && plain.length > 0) {
      // A tone number ends its syllable: "xi1an1" is xī ān, not xiān.
      toneAt[plain.length - 1] = Number(char);
      plain += ' ';
    } else if (char === 'ü') {
      plain += 'v';
    } else {
      plain += /[a-z]/.test(char) ? char : ' ';
    }
  }
  const knownSets = known?.map((readingsOfChar) => new Set(readingsOfChar.map(toneless)));
  const split = splitSyllables(plain, hanCount, knownSets);
  if (split) {
    if (knownSets && split.score * 2 < hanCount) return undefined; // not this sentence's pinyin
    return split.cuts.map(([from, to]) => withTone(plain, toneAt, from, to));
  }
  // Letters that are no syllable: split what can be split, as long as the count still lines up.
  const syllables = [...plain.matchAll(SYLLABLE)].map((m) => withTone(plain, toneAt, m.index, m.index + m[0].length));
  return syllables.length === hanCount ? syllables : undefined;
}

/** Degree adverbs: after one, a polyphone is the adjective (很长 cháng, 很重 zhòng, 很少 shǎo…). */
const DEGREE = /[很太真挺更最较么常]/;
/** Measure words and numbers come after these (这种 zhǒng, 一只 zhī). */
const COUNTING = /[这那哪几各每某一两三四五六七八九十半]/;
/** Where a verb stands: after a subject, an auxiliary or an adverb (我得走 děi, 在干什么 gàn, 我们种树 zhòng). */
const BEFORE_VERB = /[我你他她它们也都就还再要想会能在去来别不没得肯敢先]/;

/**
 * One context rule: gets the characters just before and after, and `at(offset)` for any other
 * (at(-2) is two before); returns a reading or undefined.
 */
type Rule = (before: string, after: string, at: (offset: number) => string) => string | undefined;

/**
 * Context rules for the polyphones of everyday learner Chinese. They take priority over the
 * dictionary's phrases and over the LLM, so each only fires where it is right in general.
 */
const CONTEXT_RULES: Record<string, Rule> = {
  得: (before, after, at) => {
    if (/[到罪体意胜失奖益逞]/.test(after) || /[获取赢心难只所求夺博应两自]/.test(before)) return 'dé'; // 得到, 获得
    if (before === '不') {
      if (/[不了已]/.test(after)) return 'dé'; // 不得不, 不得了
      if (HAN.test(at(-2)) && !/[我你他她它们也都就还]/.test(at(-2))) return 'de'; // 舍不得, 怪不得
      return undefined;
    }
    if (/[记觉懂晓值免显使舍认]/.test(before)) return 'de'; // 记得, 觉得, 值得
    if (/[我你他她它们也还就必都又总才]/.test(before)) {
      if (after === '了' || after === '过' || after === '第') return 'dé'; // 他得了冠军: got
      if (
        /[走去来做学练说吃买写赶跑回准想要多好快先马早把给找问等休睡看跟用注小留花再读听告记带拿离出进知]/.test(after)
      )
        return 'děi'; // 我得走了: must
      return undefined;
    }
    if (HAN.test(before)) return 'de'; // 说得对, 长得高, 跑得快: complement
    return undefined;
  },
  地: (before, after, at) => {
    if (before === at(-2) && HAN.test(before)) return 'de'; // 慢慢地, 重重地
    if (/[方图球址区铁震位面道毯板狱理质带主下上]/.test(after)) return 'dì'; // 地方, 地图, 地铁
    if (/[兴心真认快慢好静悄努默渐断然续意奇力]/.test(before)) return 'de'; // 高兴地, 认真地
    if (/[土天草田本当种扫外内大陆各产场基园目境领营高盆腹]/.test(before)) return 'dì'; // 土地, 种地
    if (!HAN.test(after)) return 'dì'; // adverbial 地 always has its verb after it
    return undefined;
  },
  了: (before, after, at) => {
    if (before === '了' && at(-2) === '不') return 'le'; // 受不了了
    if (before === '不' && !HAN.test(at(-2)) && after !== '了') return 'le'; // 不了，谢谢: no thanks
    if (before === '不' && HAN.test(at(-2)) && !/[我你他她它们也都就还]/.test(at(-2)) && !/[解之]/.test(after))
      return 'liǎo'; // 受不了, 来不了: can't
    return undefined;
  },
  还: (_before, after, at) => {
    const next = after + at(2);
    if (/^(你|我|他|她|给|钱|书|债|款|清|回|击|手|了书|了钱)/.test(next)) return 'huán'; // 还你书, 还钱: give back
    if (after === '了' && !HAN.test(at(2))) return 'huán'; // 书还了: returned
    if (/[没不是有在要好很会能想可行早小差更太多少剩来去得算挺真也都就再以]/.test(after)) return 'hái'; // 还没, 还好
    return undefined;
  },
  背: (before, after, at) => {
    if (after === '着' && /[手我你他她人]/.test(at(2))) return 'bèi'; // 背着手, 背着他: behind the back
    if (after + at(2) === '书包' || /[着包起走负]/.test(after)) return 'bēi'; // 背着包, 背包: carry
    if (before === '的' || /[课单诵熟完书后景面影叛心弃部疼痛]/.test(after)) return 'bèi'; // 我的背, 背课文, 背后
    return undefined;
  },
  着: (before, after, at) => {
    if (/[急凉火迷]/.test(after) || /[睡找猜]/.test(before)) return 'zháo'; // 着急, 睡着
    if (/[不得]/.test(before) && /[睡找猜够摸用犯]/.test(at(-2))) return 'zháo'; // 睡不着, 用不着
    if (/[看听背拿带笑站坐躺等想走跑写唱穿戴开关说抱握骑举放挂贴留守陪盯望记跟接哭忙向朝顺沿]/.test(before))
      return 'zhe'; // 看着, 背着: aspect particle
    return undefined;
  },
  长: (before, after) => {
    if (DEGREE.test(before)) return 'cháng'; // 很长
    if (/[得大老高辈官者子孙相胖]/.test(after) || /[班校部市县队家兄会组首船院处科局厅成生增助]/.test(before))
      return 'zhǎng'; // 长得高, 长大, 班长: grow, chief
    if (/[城江度短久期远途篇寿达]/.test(after)) return 'cháng'; // 长城, 长期
    return undefined;
  },
  重: (before, after, at) => {
    if ((after === '重' && at(2) === '地') || (before === '重' && after === '地')) return 'zhòng'; // 重重地: heavily
    if (/[新复叠逢来做写说播建修温装申]/.test(after)) return 'chóng'; // 重新, 重来: again
    if (DEGREE.test(before)) return 'zhòng'; // 很重
    return undefined;
  },
  行: (before, after) => {
    if (/[业情家列]/.test(after) || /[银内外改]/.test(before)) return 'háng'; // 银行, 行业
    if (/[不也很真还都旅步流进举执运飞发实自]/.test(before)) return 'xíng'; // 不行, 旅行
    return undefined;
  },
  干: (before, after, at) => {
    if (DEGREE.test(before) || /[净燥脆杯爽巴枯旱]/.test(after)) return 'gān'; // 很干, 干净
    if (/[别不在要想肯敢能去来]/.test(before)) return 'gàn'; // 别干了, 在干什么: do
    if (after === '了' && !HAN.test(at(2))) return 'gān'; // 衣服干了: dried
    if (/[什嘛吗啥活事部掉完了得过]/.test(after) || BEFORE_VERB.test(before)) return 'gàn'; // 干了十年, 我干
    return undefined;
  },
  少: (before, after) => {
    if (/[年女爷林妇帅将校先]/.test(after)) return 'shào'; // 少年, 少林: young
    if (DEGREE.test(before) || /[减缺至不]/.test(before) || /[了数量许些]/.test(after)) return 'shǎo'; // 很少: few
    return undefined;
  },
  种: (before, after) => {
    if (COUNTING.test(before) || /[品物人兵火良播纯]/.test(before) || /[子类族]/.test(after)) return 'zhǒng'; // 这种, 种子
    if (/[地树田花菜草豆瓜麦稻植]/.test(after) || BEFORE_VERB.test(before)) return 'zhòng'; // 种地, 我们种树: plant
    return undefined;
  },
  好: (before) => {
    if (before === '好') return 'hǎo'; // 好好学习: not 好学 hào xué
    return undefined;
  },
  中: (before, after) => {
    if (/[文国间午心学央部东医药秋级等年期华外]/.test(after)) return 'zhōng'; // 中文, 中国, 中午
    if (/[了奖毒弹箭枪招计标选意暑风]/.test(after)) return 'zhòng'; // 中毒, 中了一掌: be hit
    if (/[打射刺击猜看命说考选砍踢抽]/.test(before)) return 'zhòng'; // 刺中, 猜中: hit the mark
    if (/[心家空水手眼途其之当房群山林]/.test(before)) return 'zhōng'; // 家中, 心中: in
    return undefined;
  },
  数: (before, after, at) => {
    if (/[到一着得不过清完了]/.test(after) || (before === '一' && at(-2) === '数')) return 'shǔ'; // 数到三, 数一数: count
    if (/[的少多人岁无次分]/.test(before) || /[学字量据目码额]/.test(after)) return 'shù'; // 数学, 人数: number
    return undefined;
  },
  差: (before, after) => {
    if (/[事使]/.test(after) || /[出公邮钦当信]/.test(before)) return 'chāi'; // 出差: errand
    if (/[别异距价额错]/.test(after) || /[误偏时温落]/.test(before)) return 'chā'; // 差别: difference
    if (DEGREE.test(before) || /[一二两三四五六七八九十几半不点远得劲]/.test(after)) return 'chà'; // 差五分, 很差
    return undefined;
  },
  教: (before, after, at) => {
    if (/[练室授师育学材堂程训导]/.test(after) || /[请宗道佛助家任执传说受管指]/.test(before)) return 'jiào'; // 教练, 请教
    if (/[我你他她它们大了过给着书课]/.test(after) || (after === '会' && /[了我你他她]/.test(at(2)))) return 'jiāo'; // 教我, 教会了: teach
    return undefined;
  },
  觉: (before, after, at) => {
    if ([at(-3), at(-2), before].includes('睡') || before === '午') return 'jiào'; // 睡觉, 睡了一觉: sleep
    if (/[得着悟察醒]/.test(after) || /[感知自发视听直警]/.test(before)) return 'jué'; // 觉得, 感觉
    return undefined;
  },
  调: (before, after) => {
    if (/[空协烹微失]/.test(before) || /[皮整节料和解剂理戏味大小高低]/.test(after)) return 'tiáo'; // 空调, 调皮, 调大
    if (/[查动换研]/.test(after) || /[声语音曲格单强论基腔]/.test(before)) return 'diào'; // 调查, 声调
    return undefined;
  },
  处: (before, after) => {
    if (
      before === '处' ||
      after === '处' ||
      /[到住用长短难益去别各某此何深远近办事票]/.test(before) ||
      /[长所]/.test(after)
    )
      return 'chù'; // 到处, 处处: place
    if (/[理罚分置于在境事世方决]/.test(after) || /[相共独]/.test(before)) return 'chǔ'; // 处理, 相处: deal with
    return undefined;
  },
  空: (before, after) => {
    if (/[有没抽]/.test(before) || /[儿闲白隙缺着]/.test(after)) return 'kòng'; // 有空: free time
    if (DEGREE.test(before) || /[天太高星夜航领真]/.test(before) || /[调气间中军手虚想洞]/.test(after)) return 'kōng'; // 天空, 空调
    return undefined;
  },
  应: (before, after) => {
    if (/[该当]/.test(after)) return 'yīng'; // 应该: should
    if (/[反响适回对供相报效感呼]/.test(before) || /[用对付聘邀试变急酬]/.test(after)) return 'yìng'; // 反应, 适应
    return undefined;
  },
  为: (before, after) => {
    if (/[成作以认称视行]/.test(before) || /[难止主期]/.test(after)) return 'wéi'; // 成为, 以为, 为止
    if (/[了什何你我他她]/.test(after)) return 'wèi'; // 为什么, 为你: for
    return undefined;
  },
  只: (before, after) => {
    if (/[是有要能会好在想不说管顾得剩见知]/.test(after)) return 'zhǐ'; // 只有: only
    if (COUNTING.test(before)) return 'zhī'; // 一只猫: measure word
    return undefined;
  },
  相: (before, after) => {
    if (/[照长真首丞宰外]/.test(before) || /[片貌机声]/.test(after)) return 'xiàng'; // 照相, 长相: look
    if (/[信互同反似当比处遇识爱关对等]/.test(after) || before === '互') return 'xiāng'; // 相信: mutually
    return undefined;
  },
};

/**
 * Characters whose reading as a word of their own depends on the meaning, so the LLM (which knows
 * the meaning) is asked when no rule or dictionary phrase decides. Any other polyphone on its own
 * takes the dictionary's reading (了 le, 都 dōu, 和 hé, 一 and 不 with their tone changes…).
 */
const MEANING_DEPENDENT = new Set([...'还得长重行差干少种中背数教觉调处空应为只相地着']);

/**
 * The reading of every character of `text`, aligned. Monophonic characters: the dictionary's. A
 * polyphone: a context rule if one applies; else the dictionary's if it read the character as
 * part of a phrase (银行 háng); else, for a character whose reading depends on the meaning, the
 * LLM's syllable if it is a valid reading of that character; else the dictionary's.
 */
export function readings(text: string, llmPinyin?: string): string[] {
  const chars = pinyin(text, { type: 'all' });
  const hanIndexes = chars.flatMap((c, i) => (HAN.test(c.origin) ? [i] : []));
  const fromLlm = llmSyllables(
    llmPinyin,
    hanIndexes.length,
    hanIndexes.map((i) => chars[i]?.polyphonic ?? []),
  );
  const inPhrase: boolean[] = [];
  for (const word of segment(text, { format: OutputFormat.ZhSegment }) as string[]) {
    const length = [...word].length;
    for (let k = 0; k < length; k++) inPhrase.push(length > 1);
  }
  return chars.map((c, i) => {
    if (!HAN.test(c.origin)) return '';
    if (c.polyphonic.length <= 1) return c.pinyin;
    const at = (offset: number) => chars[i + offset]?.origin ?? '';
    const rule = CONTEXT_RULES[c.origin]?.(at(-1), at(1), at);
    if (rule) return rule;
    if (inPhrase[i] || !MEANING_DEPENDENT.has(c.origin)) return c.pinyin;
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

/**
 * Pinyin with tone marks for a Chinese sentence, as a learner reads it: the trusted readings
 * (dictionary, phrase table, context rules, and the LLM's syllable for a polyphone when valid),
 * words spaced, punctuation attached, each sentence capitalised.
 */
export function toPinyin(text: string, llmPinyin?: string): string {
  return pinyinLine(pinyinTokens(text, llmPinyin));
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
  '～': '~',
  '…': '…',
};
