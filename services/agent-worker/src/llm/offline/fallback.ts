import type { Said } from './intents.js';
import type { Address } from './phrasebook.js';

/**
 * What she says when nothing fits: never just "I don't understand". An in-character opener, then
 * two concrete things to do together, each one a word the learner can answer with (打招呼, 数字,
 * 自我介绍, 声调 are intents). Chosen by a seed, so the same message gets the same answer.
 */

const OPENERS: ((to: Address) => Said)[] = [
  () => ({ zh: '嗯……这句话小师妹还没学过。', vi: 'Ừm… câu này tiểu sư muội chưa học qua.' }),
  (to) => ({ zh: `${to.zh}说的这个，我还不太会。`, vi: `Cái ${to.vi} nói, muội vẫn chưa rành lắm.` }),
  () => ({ zh: '这个太难啦，小师妹答不上来。', vi: 'Cái này khó quá, tiểu sư muội trả lời không được.' }),
  () => ({ zh: '哎呀，这个师父还没教过我！', vi: 'Ôi chao, cái này sư phụ chưa dạy muội!' }),
];

/** Things she can do offline; `zh` follows 我们可以. */
export const OFFERS: Said[] = [
  { zh: '练习打招呼', vi: 'luyện chào hỏi' },
  { zh: '我考考你数字', vi: 'muội đố huynh về số đếm' },
  { zh: '练习自我介绍', vi: 'luyện tự giới thiệu' },
  { zh: '练一练四个声调', vi: 'luyện bốn thanh điệu' },
];

/** Two different offers and an opener, all from `seed`. */
export function fallbackLine(to: Address, seed: number): Said {
  const opener = (OPENERS[seed % OPENERS.length] as (to: Address) => Said)(to);
  const first = Math.floor(seed / OPENERS.length) % OFFERS.length;
  // The second is one of the others: a shift of 1 to length-1.
  const second =
    (first + 1 + (Math.floor(seed / (OPENERS.length * OFFERS.length)) % (OFFERS.length - 1))) % OFFERS.length;
  const a = OFFERS[first] as Said;
  const b = OFFERS[second] as Said;
  return {
    zh: `${opener.zh}我们可以${a.zh}，或者${b.zh}，好不好？`,
    vi: `${opener.vi} Chúng ta có thể ${a.vi}, hoặc ${b.vi}, được không?`,
  };
}

/** More than a beginner's sentence: over 20 characters, or over 20 words (a Vietnamese word is a syllable). */
export function isLong(text: string): boolean {
  const han = text.match(/\p{Script=Han}/gu)?.length ?? 0;
  const words = text.split(/\s+/).filter((w) => /\p{L}/u.test(w)).length;
  return han > 20 || (han === 0 && words > 20);
}

/** A long message: kind, asks for short sentences, and gives one to start with. */
const LONG_REPLIES: ((to: Address) => Said)[] = [
  (to) => ({
    zh: `${to.zh}说了好多！小师妹有点跟不上。我们一句一句慢慢说吧，比如：“我今天很忙。”`,
    vi: `${to.vi} nói nhiều quá! Tiểu sư muội theo không kịp. Chúng ta nói từng câu một thôi, ví dụ: “我今天很忙。” (Hôm nay tôi rất bận.)`,
  }),
  (to) => ({
    zh: `哇，这句话好长！${to.zh}先说第一句，好不好？比如：“昨天我去了山下。”`,
    vi: `Oa, câu này dài quá! ${to.vi} nói câu đầu tiên trước, được không? Ví dụ: “昨天我去了山下。” (Hôm qua tôi đã xuống núi.)`,
  }),
  (to) => ({
    zh: `${to.zh}真厉害，会说这么长的话！不过我听不懂太长的句子。换成短句吧，比如：“我想喝茶。”`,
    vi: `${to.vi} giỏi thật, nói được câu dài thế này! Nhưng muội nghe không hiểu câu quá dài. Đổi thành câu ngắn nhé, ví dụ: “我想喝茶。” (Tôi muốn uống trà.)`,
  }),
];

export function longSentenceLine(to: Address, seed: number): Said {
  return (LONG_REPLIES[seed % LONG_REPLIES.length] as (to: Address) => Said)(to);
}
