import type { SulkingLevel } from '@xiaoyue/shared';
import type { AgentReply } from './llm/reply-contract.js';

type FallbackLine = Pick<AgentReply, 'chinese_content' | 'pinyin' | 'vietnamese_display' | 'emotion'>;

/** What she says when her mind (the LLM) is unreachable: in character, never an error message. */
const CALM_LINES: FallbackLine[] = [
  {
    chinese_content: '哎呀，小师妹刚才走神了，你再说一遍好吗？',
    pinyin: 'Āiyā, xiǎo shīmèi gāngcái zǒushén le, nǐ zài shuō yí biàn hǎo ma?',
    vietnamese_display: 'Ái chà, tiểu sư muội vừa rồi lơ đãng mất, huynh nói lại lần nữa được không?',
    emotion: 'shy',
  },
  {
    chinese_content: '师父叫我去练剑了，你稍等一下！',
    pinyin: 'Shīfu jiào wǒ qù liàn jiàn le, nǐ shāo děng yíxià!',
    vietnamese_display: 'Sư phụ gọi muội đi luyện kiếm rồi, huynh đợi một chút nhé!',
    emotion: 'concerned',
  },
  {
    chinese_content: '我的内力有点乱，等一会儿再聊吧。',
    pinyin: 'Wǒ de nèilì yǒudiǎn luàn, děng yíhuìr zài liáo ba.',
    vietnamese_display: 'Nội lực của muội hơi rối loạn, đợi một lát rồi nói chuyện tiếp nhé.',
    emotion: 'concerned',
  },
];

const SULKING_LINE: FallbackLine = {
  chinese_content: '哼，我现在不想说话。',
  pinyin: 'Hēng, wǒ xiànzài bù xiǎng shuōhuà.',
  vietnamese_display: 'Hừ, bây giờ muội không muốn nói chuyện.',
  emotion: 'sulking',
};

/** A fallback reply, chosen deterministically per turn so a retried job says the same thing. */
export function fallbackReply(turnId: string, sulkingLevel: SulkingLevel): AgentReply {
  let hash = 0;
  for (const char of turnId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const line = sulkingLevel >= 2 ? SULKING_LINE : (CALM_LINES[hash % CALM_LINES.length] as FallbackLine);
  return {
    ...line,
    thought: 'fallback: the LLM could not answer in time',
    action: 'none',
    quiz_list: [],
    user_tone: 'neutral',
  };
}
