import type { UserTone } from '@xiaoyue/shared';

const RUDE = /笨|蠢|傻|滚|闭嘴|讨厌你|烦死|废物|白痴|没用|stupid|idiot|shut up|dumb|\bngu\b|cút|im đi|đồ ngốc|ngốc/i;
const APOLOGETIC = /对不起|抱歉|不好意思|我错了|原谅我|sorry|apologi[sz]e|xin lỗi|tha lỗi/i;
const AFFECTIONATE = /喜欢你|爱你|可爱|想你|好师妹|谢谢小师妹|小师妹最好|dễ thương|thương (em|muội)|love you|\bcute\b/i;
const POLITE = /请|谢谢|您|麻烦你|cảm ơn|làm ơn|please|thank/i;

/** The learner's tone, judged by keywords (the server turns it into a sulking change). */
export function judgeTone(text: string): UserTone {
  if (APOLOGETIC.test(text)) return 'apologetic';
  if (RUDE.test(text)) return 'rude';
  if (AFFECTIONATE.test(text)) return 'affectionate';
  if (POLITE.test(text)) return 'polite';
  return 'neutral';
}
