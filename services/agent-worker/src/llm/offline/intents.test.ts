import { Emotion, ReplyAction } from '@xiaoyue/shared';
import { describe, expect, it } from 'vitest';
import { AgentReply } from '../reply-contract.js';
import type { TutorPrompt } from '../types.js';
import { OFFERS } from './fallback.js';
import { chineseNumber, INTENTS, matchIntent, readNumber } from './intents.js';
import { normalize } from './normalize.js';
import { OfflineTutorLlm } from './tutor.js';

const tutor = new OfflineTutorLlm();

/** Her reply to `userMessage`, after `before` (her earlier lines, oldest first). */
const ask = async (userMessage: string, before: { zh: string; vi: string }[] = []) => {
  const prompt: TutorPrompt = {
    systemInstruction: '',
    history: before.flatMap((line) => [
      { role: 'user' as const, text: '…' },
      {
        role: 'model' as const,
        text: JSON.stringify({ chinese_content: line.zh, vietnamese_display: line.vi, emotion: 'happy' }),
      },
    ]),
    userMessage,
    persona: { userRole: '师兄', sulkingLevel: 0 },
  };
  const raw = await tutor.generateReply(prompt);
  // The contract's lenient schema would turn a bad emotion into "neutral": check the raw values too.
  expect(Emotion.safeParse(raw.emotion).success, `${userMessage}: emotion ${raw.emotion}`).toBe(true);
  expect(ReplyAction.safeParse(raw.action).success, `${userMessage}: action ${raw.action}`).toBe(true);
  return AgentReply.parse(raw);
};

/** What the learner says, by intent: every intent has at least two phrasings that must reach it. */
const PHRASINGS: Record<string, string[]> = {
  'how-to-learn': [
    '怎么学汉语？',
    '中文怎么学呢',
    '学汉语有什么好方法',
    'Làm sao để học tiếng Trung?',
    'how do I learn Chinese',
  ],
  'want-to-learn': [
    '我想学习汉语',
    '我要学中文',
    '我想學習漢語',
    '小师妹，我想学普通话！',
    'Tôi muốn học tiếng Trung',
    'I want to learn Chinese',
  ],
  'chinese-is-hard': ['汉语很难', '中文太难了！', 'tiếng Trung khó quá'],
  'what-to-study': ['今天学什么？', '我们练习什么呢', '教我一句话', 'hôm nay học gì'],
  'practise-greetings': ['练习打招呼', '打招呼吧', 'luyện chào hỏi'],
  numbers: ['我想学数字', '考考我数字', 'học số đếm'],
  'self-introduction': ['自我介绍', '我想练习自我介绍', 'tự giới thiệu'],
  tones: ['声调好难', '拼音怎么读', 'thanh điệu'],
  'say-again': ['再说一遍', '请再说一次！', '你说什么？', 'nói lại đi'],
  slower: ['慢一点', '请说慢一点儿', '太快了', 'nói chậm thôi'],
  'how-do-you-say': [
    '“cảm ơn”用中文怎么说？',
    '谢谢用汉语怎么说',
    'tiếng Trung nói "tạm biệt" thế nào?',
    'nước tiếng Trung là gì',
    'How do you say friend in Chinese?',
  ],
  'what-does-it-mean': ['朋友是什么意思？', '“进步”什么意思', '朋友 là gì?', '什么意思？', 'what does 漂亮 mean'],
  'dont-understand': ['我听不懂', '我不明白', '聽不懂', 'không hiểu', "I don't understand"],
  understood: ['我懂了', '明白了！', 'hiểu rồi'],
  'how-are-you': ['你好吗？', '你最近怎么样', '你好嗎', 'em khỏe không?'],
  greeting: ['你好！', '你好，小师妹', 'xin chào', 'hello'],
  'good-morning': ['早上好', '师妹早安！'],
  'good-evening': ['晚上好', 'chào buổi tối'],
  'good-night': ['晚安', '我要睡觉了'],
  'nice-to-meet-you': ['很高兴认识你', '认识你很高兴！', 'rất vui được làm quen'],
  'long-time-no-see': ['好久不见！', 'lâu quá không gặp'],
  thanks: ['谢谢', '多谢师妹', 'cảm ơn em'],
  bye: ['再见', '明天见！', 'tạm biệt'],
  'ask-own-name': ['我叫什么名字？', '你记得我吗'],
  'her-name': ['你叫什么名字？', '你是谁', 'em tên là gì'],
  'my-name': ['我叫阿明', '我的名字是Minh', 'tôi tên là Minh'],
  'her-age': ['你几岁？', '你今年多大了', 'em bao nhiêu tuổi'],
  'my-age': ['我二十岁', '我今年25岁了', 'tôi 30 tuổi'],
  'ask-family': ['你家有几口人？', '你有哥哥吗', 'gia đình em có mấy người'],
  'tell-family': ['我家有五口人', '我有一个姐姐', 'nhà tôi có bốn người'],
  'ask-food': ['你喜欢吃什么？', '你最爱吃什么', 'em thích ăn gì'],
  'tell-food': ['我喜欢吃米饭', '我很爱吃越南粉', 'tôi thích ăn phở'],
  hungry: ['我饿了', '你吃饭了吗？', 'tôi đói quá'],
  thirsty: ['我想喝水', '我有点渴', 'khát nước quá'],
  weather: ['今天天气怎么样？', '今天下雨吗', 'thời tiết hôm nay thế nào'],
  hot: ['今天很热', '热死了！', 'nóng quá'],
  cold: ['好冷啊', '今天太冷了', 'lạnh quá'],
  time: ['现在几点？', '几点了', 'mấy giờ rồi'],
  date: ['今天星期几？', '今天几月几号', 'hôm nay thứ mấy'],
  birthday: ['你的生日是几月几号？', '你生日是什么时候', 'sinh nhật em là ngày nào'],
  'ask-hobby': ['你的爱好是什么？', '你喜欢做什么', 'sở thích của em là gì'],
  'likes-her': ['我喜欢你', '我也很喜欢你！'],
  'tell-hobby': ['我的爱好是游泳', '我喜欢看书', 'tôi thích đọc sách'],
  'ask-work': ['你是做什么工作的？', '你是学生吗', 'em làm nghề gì'],
  'tell-work': ['我是学生', '我在公司工作', 'tôi là giáo viên'],
  'ask-where-from': ['你是哪国人？', '你从哪里来', 'em là người nước nào'],
  'tell-where-from': ['我是越南人', '我来自河内', 'tôi là người Việt Nam', '我是美国人'],
  'ask-where-live': ['你住在哪儿？', '你家在哪里', 'em sống ở đâu'],
  'tell-where-live': ['我住在河内', '我家在胡志明市', 'tôi sống ở Hà Nội'],
  'feel-happy': ['我很高兴', '我今天很开心！', 'tôi rất vui'],
  'feel-sad': ['我很难过', '我今天不开心', 'tôi buồn'],
  'feel-tired': ['我好累', '我有点困了', 'tôi mệt quá'],
  'feel-sick': ['我生病了', '我头疼', 'tôi bị ốm'],
  'ask-busy': ['你忙吗？', '你忙不忙', 'em có bận không'],
  'tell-busy': ['我最近很忙', '我今天太忙了', 'tôi đang bận'],
  compliment: ['你真漂亮', '你长得很好看', 'em xinh quá'],
  'praise-her': ['你真厉害！', '你的汉语真好', 'em giỏi quá'],
  'ask-praise': ['我说得怎么样？', '我的汉语好吗', 'tôi nói giỏi không'],
  'what-can-you-do': ['你会做什么？', '你能做什么', 'em có thể làm gì'],
  'are-you-ai': ['你是机器人吗？', '你是不是AI', 'em là người máy à'],
  'what-are-you-doing': ['你在做什么？', '你在干嘛呢', 'em đang làm gì'],
  'speak-vietnamese': ['你会说越南语吗？', '你懂越南话吗', 'em biết tiếng Việt không'],
};

/** Messages that look like an intent but are not it. */
const NEAR_MISSES: [string, string][] = [
  ['你好吗', 'greeting'],
  ['你好漂亮', 'greeting'],
  ['我想学习', 'want-to-learn'],
  ['我叫什么名字', 'my-name'],
  ['我喜欢你', 'tell-hobby'],
  ['我喜欢吃饺子', 'tell-hobby'],
  ['你喜欢吃什么', 'ask-hobby'],
  ['我懂了', 'dont-understand'],
  ['你在做什么', 'ask-work'],
  ['汉语怎么学', 'how-do-you-say'],
  ['我很忙', 'ask-busy'],
  ['我是学生', 'tell-where-from'],
  ['我很好', 'feel-happy'],
  ['慢慢来', 'slower'],
];

const PLACEHOLDER = /\$\{|undefined|null|NaN|\[object|TODO|XXX|\{\w+\}/;
const LATIN_ONLY = /^[^\p{Script=Han}]*$/u;

describe('the common beginner intents', () => {
  it('has about fifty, each with at least two phrasings in this table', () => {
    expect(INTENTS.length).toBeGreaterThanOrEqual(50);
    expect(new Set(INTENTS.map((i) => i.id)).size).toBe(INTENTS.length);
    for (const { id } of INTENTS) expect(PHRASINGS[id]?.length ?? 0, id).toBeGreaterThanOrEqual(2);
    for (const id of Object.keys(PHRASINGS))
      expect(
        INTENTS.some((i) => i.id === id),
        id,
      ).toBe(true);
  });

  it.each(Object.entries(PHRASINGS).flatMap(([id, texts]) => texts.map((text) => [text, id])))(
    '%s → %s',
    (text, id) => {
      expect(matchIntent(text)?.intent.id).toBe(id);
    },
  );

  it.each(NEAR_MISSES)('%s is not %s', (text, id) => {
    expect(matchIntent(text)?.intent.id).not.toBe(id);
  });

  it('reads full-width, spaced, traditional and particle-laden messages the same', () => {
    expect(normalize('  我想 學習 中文 呢！ ')).toBe(normalize('我想学习汉语'));
    expect(normalize('ＨＥＬＬＯ')).toBe('hello');
    expect(normalize('小师妹，你几岁啊？')).toBe('你几岁');
    expect(normalize('Tiếng Trung')).toBe('tieng trung');
  });

  it('reads ages', () => {
    expect([readNumber('二十'), readNumber('十六'), readNumber('三十五'), readNumber('25'), readNumber('九')]).toEqual([
      20, 16, 35, 25, 9,
    ]);
    expect(readNumber('好')).toBeUndefined();
    expect([20, 35, 12, 9, 10].map(chineseNumber)).toEqual(['二十', '三十五', '十二', '九', '十']);
  });
});

describe('every answer a learner can get from the table', () => {
  const cases = Object.entries(PHRASINGS).flatMap(([id, texts]) => texts.map((text) => [id, text] as const));
  it.each(cases)('%s: %s', async (_id, text) => {
    const reply = await ask(text, [{ zh: '今天天气很好。', vi: 'Hôm nay trời đẹp.' }]);
    expect(reply.chinese_content).toMatch(/\p{Script=Han}/u);
    expect(reply.vietnamese_display.length).toBeGreaterThan(5);
    expect(reply.vietnamese_display).not.toBe(reply.chinese_content);
    // The Vietnamese is mostly Vietnamese, not the Chinese again.
    expect(reply.vietnamese_display.replace(/“[^”]*”|\([^)]*\)|[\p{Script=Han}，。！？：“”]/gu, '')).toMatch(
      /\p{L}{2,}.*\p{L}{2,}/u,
    );
    expect(reply.pinyin).toMatch(/[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]/);
    for (const field of [reply.chinese_content, reply.vietnamese_display, reply.pinyin]) {
      expect(field).not.toMatch(PLACEHOLDER);
    }
    expect(LATIN_ONLY.test(reply.chinese_content)).toBe(false);
    expect(reply.chinese_content).not.toMatch(/\p{Script=Latin}/u);
  });
});

describe('what a learner notices', () => {
  it('answers "I want to learn Chinese" and a long sentence differently, each to the point', async () => {
    const learn = await ask('我想学习汉语');
    const long = await ask('昨天下午我和我的两个好朋友一起去了城里一家很有名的饭店吃了很多好吃的东西然后我们回家了');
    expect(learn.chinese_content).toMatch(/学汉语|教你/);
    expect(learn.action).toBe('encourage');
    expect(long.chinese_content).toMatch(/长|多|短/);
    expect(long.chinese_content).toMatch(/比如：“.+。”/);
    expect(long.chinese_content).not.toBe(learn.chinese_content);
  });

  it('falls back with two concrete offers, varied across messages and stable for one', async () => {
    const odd = ['blorp', 'asdf qwer', '🐉🐉', '铅笔盒子是红的', 'zzz', 'foo bar baz', '香蕉桌子', 'lorem ipsum'];
    const replies = await Promise.all(odd.map((text) => ask(text)));
    for (const reply of replies) {
      expect(reply.action).toBe('encourage');
      const offered = OFFERS.filter((offer) => reply.chinese_content.includes(offer.zh));
      expect(offered, reply.chinese_content).toHaveLength(2);
      expect(reply.chinese_content).toMatch(/或者.*好不好？$/);
      for (const offer of offered) expect(reply.vietnamese_display).toContain(offer.vi);
    }
    expect(new Set(replies.map((r) => r.chinese_content)).size).toBeGreaterThanOrEqual(4);
    expect(await ask('blorp')).toEqual(await ask('blorp'));
  });

  it('an offer taken up leads somewhere', async () => {
    expect((await ask('打招呼')).chinese_content).toMatch(/你好/);
    const numbers = await ask('数字');
    expect(numbers.action).toBe('quiz');
    expect(numbers.quiz_list).toHaveLength(3);
    for (const item of numbers.quiz_list) expect(item.options).toContain(item.answer);
  });

  it('says her last line again, slower, or explains it', async () => {
    const before = [{ zh: '我们去山上练剑吧！', vi: 'Chúng ta lên núi luyện kiếm đi!' }];
    for (const text of ['再说一遍', '慢一点', '什么意思？', '我听不懂']) {
      const reply = await ask(text, before);
      expect(reply.chinese_content, text).toContain('“我们去山上练剑吧！”');
      expect(reply.vietnamese_display, text).toContain('Chúng ta lên núi luyện kiếm đi!');
    }
    // Asked twice, she does not nest the repetition.
    const again = await ask(
      '再说一遍',
      [await ask('再说一遍', before)].map((r) => ({ zh: r.chinese_content, vi: r.vietnamese_display })),
    );
    expect(again.chinese_content).toBe('好，我再说一遍：“我们去山上练剑吧！”');
  });

  it('explains words she knows and says so in character when she does not', async () => {
    const known = await ask('朋友是什么意思？');
    expect(known.vietnamese_display).toMatch(/“朋友” \(péng you\) nghĩa là “bạn, bạn bè”/i);
    const unknown = await ask('量子力学是什么意思？');
    expect(unknown.chinese_content).toMatch(/还没学过/);
    expect(unknown.chinese_content).toMatch(/你知道“.+”是什么意思吗？/);
  });

  it('gives the Chinese for Vietnamese and English words she knows', async () => {
    expect((await ask('“cảm ơn”用中文怎么说？')).chinese_content).toContain('“谢谢”');
    expect((await ask('tiếng Trung nói tạm biệt thế nào')).chinese_content).toContain('“再见”');
    expect((await ask('how do you say water in Chinese')).chinese_content).toContain('“水”');
    expect((await ask('tàu vũ trụ tiếng Trung là gì')).chinese_content).toMatch(/还不会说/);
  });

  it('compares ages', async () => {
    expect((await ask('我二十岁')).chinese_content).toMatch(/比我大/);
    expect((await ask('我十二岁')).chinese_content).toMatch(/比我小/);
    // Said in Vietnamese, the age comes back as a Chinese sentence to copy.
    expect((await ask('tôi 30 tuổi')).chinese_content).toContain('“我今年三十岁。”');
  });

  it('keeps sulking: rude words still hurt, and a sulk colours an intent', async () => {
    const rude = await ask('你真笨，我想学习汉语');
    expect(rude).toMatchObject({ user_tone: 'rude', emotion: 'sulking' });
    const prompt: TutorPrompt = {
      systemInstruction: '',
      history: [],
      userMessage: '我想学习汉语',
      persona: { userRole: '师兄', sulkingLevel: 1 },
    };
    expect((await tutor.generateReply(prompt)).chinese_content).toMatch(/还有点生气/);
  });

  it('is deterministic', async () => {
    for (const text of ['我想学习汉语', '朋友是什么意思', 'xyzzy', '考考我数字'])
      expect(await ask(text)).toEqual(await ask(text));
  });
});
