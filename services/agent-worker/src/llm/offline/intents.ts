import type { Emotion, QuizDraft, ReplyAction } from '@xiaoyue/shared';
import { toPinyin } from '../../pinyin-tokens.js';
import { GLOSSARY, lookUpMeaning, lookUpWord, NUMBER_WORDS } from './glossary.js';
import { normalize } from './normalize.js';
import { type Address, PHRASEBOOK } from './phrasebook.js';
import { buildQuiz } from './quiz.js';

/** A line of hers: Chinese and its Vietnamese. */
export interface Said {
  zh: string;
  vi: string;
}

/** What a reply can draw on: how to address the learner, the word asked about, her last line. */
export interface IntentContext {
  to: Address;
  /** The `x` group of the pattern that matched (a word asked about, a place, a number…), normalized. */
  x?: string;
  /** The normalized message. */
  said: string;
  /** What she said last turn, if anything. */
  last?: Said;
  seed: number;
}

export interface IntentReply extends Said {
  emotion?: Emotion;
  action?: ReplyAction;
  quiz?: QuizDraft[];
}

/** One of the common beginner intents: how a learner says it, and how she answers. */
export interface Intent {
  id: string;
  /**
   * Tried on the normalized message (see normalize.ts: simplified, no punctuation, 中文 → 汉语,
   * Vietnamese without diacritics, lowercase). A named group `x` is handed to the reply.
   */
  patterns: RegExp[];
  emotion: Emotion;
  action?: ReplyAction;
  reply: (c: IntentContext) => IntentReply;
}

/** An intent answered with an exchange the phrasebook already has (same line, same emotion). */
function phrasebook(id: string): Pick<Intent, 'emotion' | 'action' | 'reply'> {
  const entry = PHRASEBOOK.find((e) => e.id === id);
  if (!entry) throw new Error(`no phrasebook entry ${id}`);
  return { emotion: entry.emotion, action: entry.action, reply: ({ to }) => entry.reply(to) };
}

const HAN_WORD = /^\p{Script=Han}{1,8}$/u;

/** 二十 / 18 / 十六 → 20 / 18 / 16 (up to 99); undefined when it is not a number. */
export function readNumber(text: string): number | undefined {
  if (/^\d{1,3}$/.test(text)) return Number(text);
  const digits = '零一二三四五六七八九';
  const digit = (c: string | undefined) => (c === '两' ? 2 : c === undefined ? -1 : digits.indexOf(c));
  const m = /^([一二三四五六七八九两])?(十)?([一二三四五六七八九])?$/.exec(text);
  if (!m || text === '') return undefined;
  if (!m[2]) return m[3] === undefined && m[1] !== undefined ? digit(m[1]) : undefined;
  return (m[1] ? digit(m[1]) : 1) * 10 + (m[3] ? digit(m[3]) : 0);
}

/** 1-99 in Chinese numerals: 20 → 二十, 35 → 三十五, 12 → 十二. */
export function chineseNumber(n: number): string {
  const digits = '零一二三四五六七八九';
  const tens = Math.floor(n / 10);
  const ones = n % 10;
  const ten = tens === 0 ? '' : tens === 1 ? '十' : `${digits[tens]}十`;
  return ten + (ones === 0 && tens > 0 ? '' : (digits[ones] ?? ''));
}

/** "Her last line" from a reply that itself repeated one, so that 再说一遍 twice does not nest. */
function unwrap(line: Said): Said {
  const zh = /^(?:好，我再说一遍|好，我慢慢地说|没关系，我刚才说的是|我刚才说的是)：“(.+)”$/s.exec(line.zh)?.[1];
  const vi =
    /^(?:Được, muội nói lại nhé|Được, muội nói thật chậm nhé|Không sao, muội vừa nói là|Muội vừa nói là): “(.+)”$/is.exec(
      line.vi,
    )?.[1];
  return zh && vi ? { zh, vi } : line;
}

/** Words that mean "what you just said", in 这是什么意思 / 你说的是什么意思. */
const THAT = /^(这|那|这句|这句话|那句|那句话|你说的|你说的话|你刚才说的|这个|那个|这个词|那个词)?$/;

/** A word of hers the learner can ask about, for "我们先练我会的". */
const knownWord = (seed: number) => GLOSSARY[seed % GLOSSARY.length] ?? { hanzi: '朋友', vi: 'bạn bè' };

const VIETNAM = /越南|河内|胡志明|岘港|顺化|viet ?nam|ha ?noi|sai ?gon|ho chi minh|da nang|hue/;

export const INTENTS: Intent[] = [
  // --- learning Chinese ---------------------------------------------------------------------
  {
    id: 'how-to-learn',
    patterns: [
      /(怎么|怎样|如何)(才能)?(学|学习|学好|练)汉语|汉语(要)?(怎么|怎样|如何)(学|学习|练)|学汉语(有)?(什么|的)(好)?方法/,
      /(lam sao|cach) (de )?hoc tieng trung|hoc tieng trung (the nao|nhu the nao|ra sao|sao cho)/,
      /how (do i|to|can i|should i) (learn|study) chinese/,
    ],
    emotion: 'proud',
    action: 'explain',
    reply: () => ({
      zh: '每天听一点，说一点，写一点。我们每天学五个新词，好不好？',
      vi: 'Mỗi ngày nghe một chút, nói một chút, viết một chút. Mỗi ngày chúng ta học năm từ mới, được không?',
    }),
  },
  {
    id: 'want-to-learn',
    patterns: [
      /(想|要|希望|打算|喜欢|在|开始|准备)(学|学习|练习|说好)汉语/,
      /^(教我|请你教我|你教我|你能教我)(学|说)?汉语/,
      /(muon|dang|bat dau|thich) hoc tieng trung|day (toi|em|anh|huynh) tieng trung/,
      /(want|wanna|would like|like|i'?m trying|i'?m going) to (learn|study) chinese|i'?m (learning|studying) chinese|teach me chinese/,
    ],
    emotion: 'excited',
    action: 'encourage',
    reply: ({ to }) => ({
      zh: `太好了！${to.zh}想学汉语，我来教你！我们先学打招呼：“你好！”你跟我说一遍吧。`,
      vi: `Tốt quá! ${to.vi} muốn học tiếng Trung, muội dạy cho! Chúng ta học chào hỏi trước: “你好!” (Xin chào!) Huynh nói theo muội một lần đi.`,
    }),
  },
  {
    id: 'chinese-is-hard',
    patterns: [
      /汉语(很|太|真|好|非常|有点|挺)?难/,
      /tieng trung (rat |that |hoi |kho qua|kho)/,
      /chinese is (so |too |very )?(hard|difficult)/,
    ],
    ...phrasebook('learn-chinese'),
  },
  {
    id: 'what-to-study',
    patterns: [
      /(今天|现在|我们|明天)(要)?(学|练|学习|练习)什么/,
      /^(你)?(教|再教)我(一句|一点|一个|点|说)?(话|东西|新词|新的)?$/,
      /hom nay (chung ta )?(hoc|luyen) gi|^day (toi|em|anh|huynh)( di)?$/,
      /what (should we|do we|will we|are we going to) (learn|study)|^teach me( something)?$/,
    ],
    emotion: 'excited',
    action: 'explain',
    reply: ({ to }) => ({
      zh: `今天我们学数字！一、二、三、四、五。${to.zh}会数到十吗？`,
      vi: `Hôm nay chúng ta học số đếm! 一, 二, 三, 四, 五 (một, hai, ba, bốn, năm). ${to.vi} đếm được đến mười không?`,
    }),
  },
  {
    id: 'practise-greetings',
    patterns: [/打招呼|问好|怎么问候/, /(luyen|hoc) chao hoi|cach chao/, /(practi[cs]e|learn) greetings?/],
    emotion: 'happy',
    action: 'explain',
    reply: ({ to }) => ({
      zh: `好！见面说“你好”，早上说“早上好”，走的时候说“再见”。${to.zh}，早上好！`,
      vi: `Được! Gặp nhau thì nói “你好” (xin chào), buổi sáng nói “早上好” (chào buổi sáng), lúc đi thì nói “再见” (tạm biệt). ${to.vi}, chào buổi sáng!`,
    }),
  },
  {
    id: 'numbers',
    patterns: [/数字|数数|数到十|怎么数/, /(hoc|dem|luyen) so|con so|so dem/, /\bnumbers?\b|\bcount(ing)?\b/],
    emotion: 'teasing',
    action: 'quiz',
    reply: ({ to, seed }) => ({
      zh: `好，考考${to.zh}数字！看看你认识几个。`,
      vi: `Được, muội đố ${to.vi} về số đếm! Xem huynh biết mấy số.`,
      quiz: buildQuiz(seed, 3, NUMBER_WORDS),
    }),
  },
  {
    id: 'self-introduction',
    patterns: [
      /自我介绍|介绍(一下)?(你)?自己|怎么介绍/,
      /gioi thieu (ban than|minh|ve minh)|tu gioi thieu/,
      /introduce (myself|yourself)/,
    ],
    emotion: 'happy',
    action: 'explain',
    reply: ({ to }) => ({
      zh: `我先来：“我叫小月，我是中国人，我今年十六岁。”该你了，${to.zh}！`,
      vi: `Muội làm trước nhé: “Muội tên là Tiểu Nguyệt, muội là người Trung Quốc, năm nay muội mười sáu tuổi.” Đến lượt ${to.vi} rồi!`,
    }),
  },
  {
    id: 'tones',
    patterns: [/声调|拼音|四声|发音/, /thanh dieu|phien am|phat am|pinyin/, /\btones?\b|pronunciation/],
    emotion: 'strict',
    action: 'explain',
    reply: () => ({
      zh: '汉语有四个声调。跟我读：妈、麻、马、骂。',
      vi: 'Tiếng Trung có bốn thanh điệu. Đọc theo muội: 妈 (mā, mẹ), 麻 (má, cây gai), 马 (mǎ, con ngựa), 骂 (mà, mắng).',
    }),
  },
  // --- asking her to repeat, slow down, explain ------------------------------------------------
  {
    id: 'say-again',
    patterns: [
      /再(说|讲)一(遍|次|下)|重复一(遍|次|下)|你说什么|你刚才说什么|没听清(楚)?/,
      /noi lai|lap lai|nhac lai/,
      /(say|said) (it|that) again|\brepeat\b|pardon/,
    ],
    emotion: 'happy',
    reply: ({ to, last }) =>
      last
        ? { zh: `好，我再说一遍：“${last.zh}”`, vi: `Được, muội nói lại nhé: “${last.vi}”` }
        : {
            zh: `我还没说话呢！那我先说：“${to.zh}好！”`,
            vi: `Muội còn chưa nói gì mà! Vậy muội nói trước: “Chào ${to.vi}!”`,
            emotion: 'teasing',
          },
  },
  {
    id: 'slower',
    patterns: [
      /慢(一)?点(儿)?|慢慢(说|讲)|太快了|说得太快/,
      /noi cham|cham (lai|thoi|mot chut|chut)|nhanh qua/,
      /slow(er| down)|too fast/,
    ],
    emotion: 'concerned',
    action: 'explain',
    reply: ({ to, last }) =>
      last
        ? { zh: `好，我慢慢地说：“${last.zh}”`, vi: `Được, muội nói thật chậm nhé: “${last.vi}”` }
        : {
            zh: `好，我说慢一点。${to.zh}，你好！`,
            vi: `Được, muội sẽ nói chậm một chút. ${to.vi}, xin chào!`,
          },
  },
  {
    id: 'how-do-you-say',
    patterns: [
      /^(?<x>.+?)(用)?汉语(怎么|怎样|如何)(说|讲)$/,
      /^汉语(的)?(?<x>.+?)(怎么|怎样|如何)(说|讲)$/,
      /^(?<x>.+?)(用汉语)?(怎么|怎样)(说|讲)$/,
      /^tieng trung (noi|goi) (?<x>.+?) (the nao|nhu the nao|sao|ra sao)$/,
      /^(?<x>.+?) (tieng trung|trong tieng trung|bang tieng trung) (noi|goi) (the nao|nhu the nao|sao|ra sao|la gi)$/,
      /^(?<x>.+?) (tieng trung|trong tieng trung|bang tieng trung) la gi$/,
      /^(noi|goi) (?<x>.+?) bang tieng trung (the nao|nhu the nao|sao|ra sao)$/,
      /^how (do you|do i|to|can i|would you) say (?<x>.+?)( in chinese)?$/,
      /^what'?s (?<x>.+?) in chinese$|^what is (?<x2>.+?) in chinese$/,
    ],
    emotion: 'proud',
    action: 'explain',
    reply: ({ to, x }) => {
      const found = x ? (lookUpMeaning(x) ?? wordAsMeaning(x)) : undefined;
      if (!found) {
        return {
          zh: '这个词我还不会说……我们练一个我会的：“谢谢”，好不好？',
          vi: 'Từ này muội cũng chưa biết nói… Chúng ta luyện một từ muội biết nhé: “谢谢” (cảm ơn), được không?',
          emotion: 'shy',
          action: 'encourage',
        };
      }
      const { word, meaning } = found;
      return {
        zh: `这个用汉语说“${word.hanzi}”。${to.zh}跟我说一遍：${word.hanzi}！`,
        vi: `“${meaning}” tiếng Trung nói là “${word.hanzi}” (${toPinyin(word.hanzi).toLowerCase()}). ${to.vi} nói theo muội một lần: ${word.hanzi}!`,
      };
    },
  },
  {
    id: 'what-does-it-mean',
    patterns: [
      /^(?<x>.*?)(是)?(什么|啥)意思$/,
      /^(?<x>.+?)的意思是什么$/,
      /^(?<x>\p{Script=Han}+) ?(nghia )?la (gi|sao)$|^(?<x2>\p{Script=Han}+) nghia la gi$|^(nghia cua|y nghia cua) (?<x3>\p{Script=Han}+) la gi$/u,
      /^what does ?(?<x>.+?) ?mean$|^what is ?(?<x2>\p{Script=Han}+)$|^whats ?(?<x3>\p{Script=Han}+)$/u,
      /^(y (em|muoi) la gi|nghia la gi)$|^what does (that|it) mean$/,
    ],
    emotion: 'proud',
    action: 'explain',
    reply: ({ to, x, last, seed }) => {
      if (x === undefined || THAT.test(x)) {
        if (last) return { zh: `我刚才说的是：“${last.zh}”`, vi: `Muội vừa nói là: “${last.vi}”` };
        return {
          zh: `${to.zh}想问哪个词？比如：“朋友是什么意思？”`,
          vi: `${to.vi} muốn hỏi từ nào? Ví dụ: “朋友是什么意思?” (“朋友” nghĩa là gì?)`,
          emotion: 'happy',
        };
      }
      const word = lookUpWord(x);
      if (word) {
        return {
          zh: `好问题！“${word.hanzi}”的意思，我用越南语告诉你。你用它说一句话吧！`,
          vi: `Hỏi hay lắm! “${word.hanzi}” (${toPinyin(word.hanzi).toLowerCase()}) nghĩa là “${word.vi}”. Huynh dùng nó nói một câu đi!`,
        };
      }
      const asked = HAN_WORD.test(x) ? `你问“${x}”` : '这个词';
      const offer = knownWord(seed);
      return {
        zh: `${asked}？小师妹还没学过……我们先练我会的吧：你知道“${offer.hanzi}”是什么意思吗？`,
        vi: `${HAN_WORD.test(x) ? `Huynh hỏi “${x}”` : 'Từ này'} hả? Tiểu sư muội chưa học qua… Chúng ta luyện từ muội biết trước nhé: huynh có biết “${offer.hanzi}” nghĩa là gì không?`,
        emotion: 'shy',
        action: 'encourage',
      };
    },
  },
  {
    id: 'dont-understand',
    patterns: [
      /(听|看)不(懂|明白)|^(我)?(还是)?不(太)?(明白|懂|理解)$|我没(听|看)懂/,
      /(toi |em |anh )?(khong|chua) hieu/,
      /(don'?t|do not|didn'?t) (understand|get it)/,
    ],
    emotion: 'concerned',
    action: 'explain',
    reply: ({ last }) =>
      last
        ? {
            zh: `没关系，我刚才说的是：“${last.zh}”`,
            vi: `Không sao, muội vừa nói là: “${last.vi}”`,
          }
        : {
            zh: '没关系！听不懂的时候，你可以说：“请再说一遍。”',
            vi: 'Không sao đâu! Khi nghe không hiểu, huynh có thể nói: “请再说一遍。” (Xin nói lại một lần nữa.)',
          },
  },
  {
    id: 'understood',
    patterns: [
      /^(我)?(懂|明白|知道|学会|记住)了$|^(我)?(懂|明白)$|^(我)?(听|看)懂了$/,
      /^(toi |em )?(hieu|biet|nho) roi$/,
      /^(i )?(got it|understand|see)$/,
    ],
    emotion: 'happy',
    action: 'praise',
    reply: ({ to }) => ({
      zh: `${to.zh}真聪明！那我问你：“明白”是什么意思？`,
      vi: `${to.vi} thông minh thật! Vậy muội hỏi huynh: “明白” nghĩa là gì?`,
    }),
  },
  // --- greetings and courtesy -------------------------------------------------------------
  {
    id: 'how-are-you',
    patterns: [
      /^(你|您)(今天|最近)?(好吗|怎么样|还好吗|好不好)$|^最近(好吗|怎么样)|你(身体|心情)(好吗|怎么样)/,
      /khoe khong/,
      /how are you|how'?s it going/,
    ],
    ...phrasebook('how-are-you'),
  },
  {
    id: 'greeting',
    patterns: [
      /^(你好|您好|大家好|嗨|哈喽|哈罗|你们好)$/,
      /^(xin chao|chao( em| muoi| tieu muoi| su muoi| ban)?)$/,
      /^(hi|hello|hey|ni ?hao)$/,
    ],
    ...phrasebook('greeting'),
  },
  {
    id: 'good-morning',
    patterns: [/早上好|早安|^早$|上午好/, /chao buoi sang/, /good morning/],
    ...phrasebook('good-morning'),
  },
  {
    id: 'good-evening',
    patterns: [/晚上好/, /chao buoi toi/, /good evening/],
    emotion: 'happy',
    reply: ({ to }) => ({
      zh: `${to.zh}晚上好！今天练功累不累？`,
      vi: `Chào buổi tối ${to.vi}! Hôm nay luyện công có mệt không?`,
    }),
  },
  {
    id: 'good-night',
    patterns: [/晚安|我(要|想|得|该)?(去)?睡觉了/, /chuc ngu ngon|(toi |em )?di ngu (day|thoi)/, /good ?night/],
    ...phrasebook('good-night'),
  },
  {
    id: 'nice-to-meet-you',
    patterns: [/(很)?高兴认识你|认识你(很|真)?高兴/, /(rat )?vui (duoc )?(gap|lam quen|quen biet)/, /nice to meet you/],
    emotion: 'happy',
    reply: () => ({
      zh: '我也很高兴认识你！以后我们一起练功吧。',
      vi: 'Muội cũng rất vui được làm quen với huynh! Sau này chúng ta cùng luyện công nhé.',
    }),
  },
  {
    id: 'long-time-no-see',
    patterns: [/好久不见|很久没见/, /lau (qua |lam )?(roi )?khong gap/, /long time no see/],
    emotion: 'shy',
    reply: ({ to }) => ({
      zh: `好久不见！${to.zh}去哪里了？我……我才没有想你呢！`,
      vi: `Lâu quá không gặp! ${to.vi} đi đâu vậy? Muội… muội đâu có nhớ huynh đâu!`,
    }),
  },
  {
    id: 'thanks',
    patterns: [/谢谢|多谢|感谢/, /cam on/, /thank/],
    ...phrasebook('thanks'),
  },
  {
    id: 'bye',
    patterns: [/再见|拜拜|回头见|明天见|下次见|我(要|得|该)?走了/, /tam biet|hen gap lai/, /\bbye\b|see you/],
    ...phrasebook('bye'),
  },
  // --- about her and about the learner -----------------------------------------------------
  {
    id: 'ask-own-name',
    patterns: [
      /^我叫什么(名字)?$|^我的名字(是|叫)什么$|你(还)?记得我(的名字|是谁)?吗/,
      /^ten (toi|anh|huynh) la gi$/,
      /^what'?s my name$/,
    ],
    emotion: 'teasing',
    reply: ({ to }) => ({
      zh: `${to.zh}还没告诉我你的名字呢！你叫什么名字？`,
      vi: `${to.vi} còn chưa nói cho muội biết tên mà! Huynh tên là gì?`,
    }),
  },
  {
    id: 'her-name',
    patterns: [
      /你叫什么(名字)?|^你的名字(是什么|叫什么)?$|^你是谁$|怎么称呼你|你姓什么/,
      /(em|muoi|co|ban) ten (la )?gi|ten (cua )?(em|muoi|co|ban) la gi/,
      /what'?s your name|who are you/,
    ],
    ...phrasebook('her-name'),
  },
  {
    id: 'my-name',
    patterns: [
      /^我(叫|的名字(是|叫)|姓)(?<x>.{1,12})$/,
      /^(toi|em|anh) ten (la )?|^ten (cua )?(toi|em|anh) la /,
      /^my name is |^i'?m called /,
    ],
    ...phrasebook('my-name'),
  },
  {
    id: 'her-age',
    patterns: [
      /你(今年)?(几|多大|多少)(岁|了)?(了)?$|你多大(了)?|你的年龄/,
      /(em|muoi|ban) (nam nay )?bao nhieu tuoi|(em|muoi) may tuoi/,
      /how old are you/,
    ],
    ...phrasebook('age'),
  },
  {
    id: 'my-age',
    patterns: [
      /^我(今年)?(已经)?(?<x>[一二两三四五六七八九十]{1,3}|\d{1,3})岁(了)?$/,
      /^(toi|em|anh) (nam nay )?(?<x>\d{1,3}) tuoi$/,
      /^i'?m (?<x>\d{1,3})( years old)?$/,
    ],
    emotion: 'happy',
    reply: ({ to, x }) => {
      const age = readNumber(x ?? '');
      const compare =
        age === undefined
          ? { zh: '', vi: '' }
          : age > 16
            ? { zh: `${to.zh}比我大！`, vi: `${to.vi} lớn hơn muội!` }
            : age < 16
              ? { zh: `${to.zh}比我小！`, vi: `${to.vi} nhỏ hơn muội!` }
              : { zh: '我们一样大！', vi: 'Chúng ta bằng tuổi nhau!' };
      const model = age === undefined || age < 1 || age > 99 ? '二十' : chineseNumber(age);
      return {
        zh: `记住了！${compare.zh}我今年十六岁。说年龄用“岁”：“我今年${model}岁。”`,
        vi: `Muội nhớ rồi! ${compare.vi} Năm nay muội mười sáu tuổi. Nói tuổi thì dùng “岁” (tuổi): “我今年${model}岁。” (Năm nay tôi ${age ?? 20} tuổi.)`,
      };
    },
  },
  {
    id: 'ask-family',
    patterns: [
      /你家(里)?有(几|多少)口人|你(有)?(兄弟姐妹|哥哥|姐姐|弟弟|妹妹)(吗)?$|你的(家人|家里人|爸爸|妈妈)/,
      /(nha|gia dinh) (cua )?(em|muoi) (co )?(may|bao nhieu) nguoi|gia dinh (cua )?(em|muoi)/,
      /your family/,
    ],
    ...phrasebook('family'),
  },
  {
    id: 'tell-family',
    patterns: [
      /^我家(里)?有|^我有(一|两|三|四|五|[一二三四五六七八九两])?个?(哥哥|姐姐|弟弟|妹妹|儿子|女儿|孩子)|^我的(爸爸|妈妈|家人|哥哥|姐姐|弟弟|妹妹)/,
      /^(nha|gia dinh) (cua )?toi (co|la)|^toi co (mot|hai|ba) (anh|chi|em|con)/,
      /^my (family|father|mother|brother|sister)|^i have (a|an|one|two|three) (brother|sister|child|son|daughter)/,
    ],
    emotion: 'happy',
    reply: ({ to }) => ({
      zh: `真好！${to.zh}想家吗？我家有四口人：爸爸、妈妈、哥哥和我。`,
      vi: `Thật tốt! ${to.vi} có nhớ nhà không? Nhà muội có bốn người: bố, mẹ, anh trai và muội.`,
    }),
  },
  {
    id: 'ask-food',
    patterns: [
      /你(最)?(喜欢|爱)吃什么|你想吃什么|你最喜欢的(菜|食物)/,
      /(em|muoi) (thich|muon) an gi|mon (an )?(em|muoi) thich/,
      /what do you (like to )?eat|favou?rite food/,
    ],
    emotion: 'excited',
    reply: ({ to }) => ({
      zh: `我最喜欢吃面条！${to.zh}喜欢吃什么？`,
      vi: `Muội thích ăn mì nhất! ${to.vi} thích ăn gì?`,
    }),
  },
  {
    id: 'tell-food',
    patterns: [
      /^我(很|最|也|非常)?(喜欢|爱|想)吃.+/,
      /^toi (rat |cung )?(thich|muon) an /,
      /^i (like|love|want) (to eat )?(rice|noodles|pho|dumplings|food|fruit)/,
    ],
    emotion: 'happy',
    reply: ({ to }) => ({
      zh: `听起来很好吃！${to.zh}，下次带我一起去吃吧。`,
      vi: `Nghe ngon quá! ${to.vi}, lần sau dẫn muội đi ăn cùng nhé.`,
    }),
  },
  {
    id: 'hungry',
    patterns: [
      /我(很|好|有点|太)?饿(了|死了)?|吃(饭|过饭)?了吗|吃饭了没有/,
      /(toi )?doi (qua|roi|bung)|an com chua|an gi chua/,
      /hungry/,
    ],
    ...phrasebook('hungry'),
  },
  {
    id: 'thirsty',
    patterns: [
      /(想|要)喝(茶|水|咖啡)|我(很|好|有点)?渴|喝(点|杯)?(茶|水)/,
      /khat (nuoc|qua)|uong (tra|nuoc)/,
      /thirsty|(some|a cup of) tea/,
    ],
    ...phrasebook('tea'),
  },
  {
    id: 'weather',
    patterns: [
      /天气(怎么样|好吗|好不好|如何)|今天(会)?下雨(吗)?|外面(冷|热)吗/,
      /thoi tiet|troi (co )?mua khong/,
      /weather/,
    ],
    ...phrasebook('weather'),
  },
  {
    id: 'hot',
    patterns: [
      /(很|太|好|真|非常|有点|特别)热|热死了/,
      /nong (qua|lam)|troi (rat |that )?nong/,
      /(so|very|too) hot|it'?s hot/,
    ],
    emotion: 'concerned',
    action: 'explain',
    reply: ({ to }) => ({
      zh: `是啊，今天真热！${to.zh}多喝水。“热”的反义词是“冷”，记住了吗？`,
      vi: `Đúng vậy, hôm nay nóng thật! ${to.vi} uống nhiều nước vào. Từ trái nghĩa của “热” (nóng) là “冷” (lạnh), nhớ chưa?`,
    }),
  },
  {
    id: 'cold',
    patterns: [
      /(很|太|好|真|非常|有点|特别)冷|冷死了/,
      /lanh (qua|lam)|troi (rat |that )?lanh/,
      /(so|very|too) cold|it'?s cold/,
    ],
    emotion: 'concerned',
    reply: ({ to }) => ({
      zh: `冷吗？${to.zh}多穿一件衣服，别生病了。`,
      vi: `Lạnh à? ${to.vi} mặc thêm một chiếc áo đi, đừng để bị ốm.`,
    }),
  },
  {
    id: 'time',
    patterns: [/(现在)?几点(了|钟)?$|现在(是)?什么时候|现在(是)?什么时间/, /may gio( roi)?/, /what time/],
    emotion: 'teasing',
    reply: ({ to }) => ({
      zh: `山上没有钟，我看太阳……现在大概十点吧！${to.zh}那里几点？`,
      vi: `Trên núi không có đồng hồ, muội nhìn mặt trời… bây giờ chắc khoảng mười giờ! Chỗ ${to.vi} mấy giờ rồi?`,
    }),
  },
  {
    id: 'birthday',
    patterns: [/生日/, /sinh nhat/, /birthday/],
    emotion: 'excited',
    reply: ({ to }) => ({
      zh: `我的生日是八月十五号，中秋节！${to.zh}的生日是几月几号？`,
      vi: `Sinh nhật muội là ngày mười lăm tháng tám, đúng Tết Trung thu! Sinh nhật ${to.vi} là ngày mấy tháng mấy?`,
    }),
  },
  {
    id: 'date',
    patterns: [
      /星期几|礼拜几|(几|多少)号|几月几(号|日)/,
      /thu may|ngay (may|bao nhieu)|hom nay (la )?ngay/,
      /what day|what'?s the date/,
    ],
    emotion: 'teasing',
    action: 'explain',
    reply: () => ({
      zh: '山上的日子过得真快，我记得今天是星期三！问日期可以说：“今天几月几号？”',
      vi: 'Ngày tháng trên núi trôi nhanh thật, muội nhớ hôm nay là thứ tư! Hỏi ngày có thể nói: “今天几月几号?” (Hôm nay là ngày mấy tháng mấy?)',
    }),
  },
  {
    id: 'ask-hobby',
    patterns: [
      /你的爱好|你(有)?什么爱好|你(平时)?喜欢(做|干)什么|^你喜欢什么$/,
      /so thich (cua )?(em|muoi)|(em|muoi) thich (lam )?gi/,
      /your hobb|what do you like/,
    ],
    ...phrasebook('hobby'),
  },
  {
    id: 'likes-her',
    patterns: [
      /^我(很|好|真的|真|最|也|还是)*(喜欢|爱)你/,
      /(toi|anh) (thich|yeu|thuong) (em|muoi)/,
      /i (like|love) you/,
    ],
    emotion: 'shy',
    reply: ({ to }) => ({
      zh: `${to.zh}……你说什么呢！我、我去练剑了。`,
      vi: `${to.vi}… huynh nói gì vậy! Muội… muội đi luyện kiếm đây.`,
    }),
  },
  {
    id: 'tell-hobby',
    patterns: [
      /^我的爱好是|^我(很|最|也|非常)?(喜欢|爱)(看|听|打|踢|玩|唱|跳|游泳|跑步|画|写|读|学|做|旅|运动|音乐|电影|书)/,
      /^so thich cua toi|^toi thich (doc|nghe|xem|choi|hat|boi|chay|ve|du lich|the thao)/,
      /^my hobb|^i (like|love|enjoy) (reading|music|movies|playing|swimming|running|singing|travel)/,
    ],
    emotion: 'happy',
    reply: ({ to }) => ({
      zh: `${to.zh}的爱好真不错！我的爱好是练剑。说爱好可以说：“我喜欢……”`,
      vi: `Sở thích của ${to.vi} hay thật! Sở thích của muội là luyện kiếm. Nói về sở thích có thể dùng: “我喜欢……” (Tôi thích…)`,
    }),
  },
  {
    id: 'ask-work',
    patterns: [
      /你(是)?(做什么|干什么)(工作)?的|你(做|干)什么工作|你的工作|你是学生吗|你(在)?(哪里|哪儿)(工作|上学)/,
      /(em|muoi) lam (nghe |viec )?gi|(em|muoi) (la|co phai la) (hoc sinh|sinh vien)/,
      /your job|what do you do|are you a student/,
    ],
    emotion: 'proud',
    reply: ({ to }) => ({
      zh: `我是学生，也是一个剑客！${to.zh}做什么工作？`,
      vi: `Muội là học trò, cũng là một kiếm khách! ${to.vi} làm nghề gì?`,
    }),
  },
  {
    id: 'tell-work',
    patterns: [
      /^我是(一个|一名)?(学生|老师|医生|工程师|大学生|中学生|商人|护士|司机|工人|程序员|职员|经理|厨师)|^我(在)?(公司|学校|医院|工厂|银行|大学)(工作|上班|上学|学习)|^我(的工作是|做|当)(老师|医生|工程师)/,
      /^(toi|em|anh) (la|dang lam) (sinh vien|hoc sinh|giao vien|bac si|ky su|y ta|nhan vien|lap trinh)|^toi lam (viec|nghe)/,
      /^i'?m a (student|teacher|doctor|engineer|nurse|programmer|developer)|^i work/,
    ],
    emotion: 'happy',
    reply: ({ to, said }) =>
      /学生|上学|学校|大学|学习|sinh vien|hoc sinh|student/.test(said)
        ? {
            zh: `${to.zh}也是学生啊！那我们一起好好学习，一起加油！`,
            vi: `${to.vi} cũng là học trò à! Vậy chúng ta cùng chăm chỉ học hành, cùng cố gắng nhé!`,
          }
        : {
            zh: `原来是这样！${to.zh}工作辛苦了，休息的时候就来练汉语吧。`,
            vi: `Thì ra là vậy! ${to.vi} làm việc vất vả rồi, lúc nghỉ ngơi thì đến luyện tiếng Trung nhé.`,
          },
  },
  {
    id: 'ask-where-from',
    patterns: [
      /你是(哪国|哪里|哪儿)人|你(是)?从(哪里|哪儿)来|你的家乡/,
      /(em|muoi) (la )?nguoi (nuoc )?nao|(em|muoi) (den )?tu dau|que (cua )?(em|muoi)/,
      /where are you from/,
    ],
    emotion: 'proud',
    reply: ({ to }) => ({
      zh: `我是中国人，家在四川的山里。${to.zh}是哪国人？`,
      vi: `Muội là người Trung Quốc, nhà ở trong núi Tứ Xuyên. ${to.vi} là người nước nào?`,
    }),
  },
  {
    id: 'tell-where-from',
    patterns: [
      /^我是(?<x>越南|中国|美国|英国|法国|日本|韩国|泰国|德国|老挝|柬埔寨|河内|胡志明市?|\p{Script=Han}{1,3}国)人$|^我(来自|从)(?<x2>\p{Script=Han}{2,5}?)(来|来的)?$/u,
      /^(toi|em|anh) (la nguoi|den tu|o|que o) (?<x>viet ?nam|ha ?noi|sai ?gon|hue|da nang|trung quoc|my|phap|nhat|han quoc)/,
      /^i'?m from |^i come from /,
    ],
    emotion: 'excited',
    reply: ({ to, said }) =>
      VIETNAM.test(said)
        ? {
            zh: `${to.zh}是越南人！越南很漂亮，我很想去河内看看。`,
            vi: `${to.vi} là người Việt Nam! Việt Nam đẹp lắm, muội rất muốn đến Hà Nội xem thử.`,
          }
        : {
            zh: `欢迎欢迎！${to.zh}的家乡一定很漂亮。`,
            vi: `Hoan nghênh, hoan nghênh! Quê hương của ${to.vi} chắc chắn rất đẹp.`,
          },
  },
  {
    id: 'ask-where-live',
    patterns: [/你(住|家)在(哪里|哪儿|哪)|你住(哪里|哪儿|哪)/, /(em|muoi) (song|o) (o )?dau/, /where do you live/],
    emotion: 'happy',
    reply: ({ to }) => ({
      zh: `我住在山上的小院子里，门口有一棵大树。${to.zh}住在哪里？`,
      vi: `Muội ở trong một khoảng sân nhỏ trên núi, trước cửa có một cây to. ${to.vi} sống ở đâu?`,
    }),
  },
  {
    id: 'tell-where-live',
    patterns: [/^我(现在)?住在|^我家在/, /^(toi|em|anh) (dang )?(song|o) (o |tai )?/, /^i live in /],
    emotion: 'happy',
    reply: () => ({
      zh: '那里远不远？有空我去看你！',
      vi: 'Chỗ đó có xa không? Rảnh muội sẽ đến thăm huynh!',
    }),
  },
  // --- feelings -----------------------------------------------------------------------------
  {
    id: 'feel-happy',
    patterns: [
      /^我(今天)?(很|真|非常|好|太|也很)?(高兴|开心|快乐)(了)?$/,
      /^(toi|em|anh) (rat |dang |that )?vui/,
      /^i'?m (so |very )?happy/,
    ],
    ...phrasebook('happy'),
  },
  {
    id: 'feel-sad',
    patterns: [
      /我(今天)?(很|有点|好|非常|太)?(难过|伤心|不开心|不高兴)/,
      /(toi|em|anh) (rat |dang |hoi )?buon/,
      /i'?m (so |very )?sad/,
    ],
    ...phrasebook('sad'),
  },
  {
    id: 'feel-tired',
    patterns: [
      /我(今天)?(很|有点|好|太|非常)?(累|困)(了|死了)?|^(好|太)累/,
      /(toi|em|anh) (rat |hoi )?met|buon ngu/,
      /i'?m (so |very )?(tired|sleepy)/,
    ],
    ...phrasebook('tired'),
  },
  {
    id: 'feel-sick',
    patterns: [
      /我(生病了|病了|不舒服|头疼|头痛|发烧|感冒了)/,
      /(toi|em|anh) (bi )?(om|benh|sot|cam)|dau dau/,
      /i'?m (sick|ill)|i (have|got) a (cold|fever|headache)/,
    ],
    emotion: 'concerned',
    reply: ({ to }) => ({
      zh: `${to.zh}生病了？快去休息，多喝热水！我去给你做一碗汤。`,
      vi: `${to.vi} bị ốm à? Mau đi nghỉ đi, uống nhiều nước ấm vào! Muội đi nấu cho huynh một bát canh.`,
    }),
  },
  {
    id: 'ask-busy',
    patterns: [/你(今天)?(很)?忙(吗|不忙)?$|你忙不忙/, /(em|muoi) (co )?ban (khong|lam khong)/, /are you busy/],
    ...phrasebook('busy'),
  },
  {
    id: 'tell-busy',
    patterns: [
      /^我(今天|最近|这几天)?(很|太|有点|非常|特别)?忙/,
      /^(toi|em|anh) (rat |dang |qua )?ban/,
      /^i'?m (so |very )?busy/,
    ],
    emotion: 'concerned',
    action: 'encourage',
    reply: ({ to }) => ({
      zh: `${to.zh}很忙啊？那我们每天学一句就好，好不好？`,
      vi: `${to.vi} bận lắm à? Vậy mỗi ngày chúng ta học một câu là được, được không?`,
    }),
  },
  // --- praise -------------------------------------------------------------------------------
  {
    id: 'compliment',
    patterns: [
      /你(长得)?(真|很|好|太|挺)(好看|可爱|漂亮|美)|你长得(好看|漂亮)|^你真好$/,
      /(em|muoi) (dep|xinh|de thuong)|dep qua|xinh qua/,
      /you'?re (so |very )?(cute|pretty|beautiful|kind)/,
    ],
    ...phrasebook('compliment'),
  },
  {
    id: 'praise-her',
    patterns: [
      /你(真|很|好|太)?(厉害|聪明|棒)|你的(汉语|剑法|武功)(真|很|太)?好/,
      /(em|muoi) (that |rat )?(gioi|thong minh)|gioi qua/,
      /you'?re (so |very )?(smart|great|awesome|clever)/,
    ],
    emotion: 'proud',
    reply: ({ to }) => ({
      zh: `嘿嘿，师父是好老师嘛！${to.zh}也会越来越厉害的。`,
      vi: `Hì hì, sư phụ là thầy giỏi mà! ${to.vi} rồi cũng sẽ ngày càng giỏi thôi.`,
    }),
  },
  {
    id: 'ask-praise',
    patterns: [
      /^我(的汉语|说得|读得|写得|说的)?(怎么样|好不好|好吗|对吗|对不对)$|我(有)?进步了/,
      /(toi|em|anh) (noi )?(gioi|tot|dung) khong|(toi|em|anh) co tien bo/,
      /am i (good|right|doing well)|how'?s my chinese/,
    ],
    ...phrasebook('praise-me'),
  },
  // --- about her, the conversation -----------------------------------------------------------
  {
    id: 'what-can-you-do',
    patterns: [
      /你(会|能)(做|干)?什么|你可以(帮我)?(做|干)?什么|^(帮帮?我|救命)$|怎么(用|玩)/,
      /(em|muoi) (co the )?(lam|giup) (duoc )?gi|giup (toi|em|anh) (voi)?$/,
      /what can you do|^help( me)?$/,
    ],
    emotion: 'happy',
    action: 'explain',
    reply: ({ to }) => ({
      zh: `我可以陪${to.zh}练打招呼，考你生词，还能改你的错句。你想先做什么？`,
      vi: `Muội có thể cùng ${to.vi} luyện chào hỏi, đố huynh từ mới, còn sửa câu sai cho huynh nữa. Huynh muốn làm gì trước?`,
    }),
  },
  {
    id: 'are-you-ai',
    patterns: [
      /你是(不是)?(机器人|人工智能|ai|电脑|真人|人吗)/,
      /(em|muoi) (la|co phai) (nguoi may|robot|ai|nguoi that)/,
      /are you (a |an )?(robot|bot|ai|human|real)/,
    ],
    emotion: 'teasing',
    reply: () => ({
      zh: '我是小师妹呀！不过现在是练习模式，我只会说简单的话。',
      vi: 'Muội là tiểu sư muội mà! Nhưng bây giờ đang ở chế độ luyện tập, muội chỉ biết nói những câu đơn giản thôi.',
    }),
  },
  {
    id: 'what-are-you-doing',
    patterns: [/^你(在)?(做|干)(什么|嘛|啥)$|^你在(做|干)$|你在忙什么/, /(em|muoi) dang lam gi/, /what are you doing/],
    emotion: 'happy',
    reply: ({ to }) => ({
      zh: `我在练剑呀！${to.zh}在做什么？`,
      vi: `Muội đang luyện kiếm mà! ${to.vi} đang làm gì thế?`,
    }),
  },
  {
    id: 'speak-vietnamese',
    patterns: [
      /你会(说|讲)越南(语|话)|你懂越南(语|话)/,
      /(em|muoi) (biet|noi duoc|co biet) tieng viet/,
      /do you speak vietnamese/,
    ],
    emotion: 'teasing',
    reply: () => ({
      zh: '我会一点点越南语，不过我们还是说汉语吧！',
      vi: 'Muội biết một chút xíu tiếng Việt, nhưng chúng ta vẫn nên nói tiếng Trung thôi!',
    }),
  },
];

/** `x` if it is a Chinese word she knows, as a "how do you say" answer (谢谢怎么说 → 谢谢). */
function wordAsMeaning(x: string) {
  const word = lookUpWord(x);
  return word ? { word, meaning: word.vi } : undefined;
}

/** The intent `text` expresses, with what its pattern captured; undefined when none matches. */
export function matchIntent(text: string): { intent: Intent; x?: string; said: string } | undefined {
  const said = normalize(text);
  if (said === '') return undefined;
  for (const intent of INTENTS) {
    for (const pattern of intent.patterns) {
      const match = pattern.exec(said);
      if (!match) continue;
      const groups = match.groups ?? {};
      const x = groups.x ?? groups.x2 ?? groups.x3;
      return { intent, x: x?.trim(), said };
    }
  }
  return undefined;
}

export { unwrap as lastLineOf };
