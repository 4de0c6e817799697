import { pinyin } from 'pinyin-pro';
import { describe, expect, it } from 'vitest';
import { llmSyllables, pinyinLine, pinyinTokens, readings } from './pinyin-tokens.js';

/** Sentences full of polyphones, with the reading every Han character must get. */
const POLYPHONES: [string, string][] = [
  ['师父说得对。', 'shī fu shuō de duì'],
  ['慢慢地走。', 'màn màn de zǒu'],
  ['我得走了。', 'wǒ děi zǒu le'],
  ['明天还你书。', 'míng tiān huán nǐ shū'],
  ['我会说一点中文。', 'wǒ huì shuō yì diǎn zhōng wén'],
  ['你有空吗？', 'nǐ yǒu kòng ma'],
  ['他背着包走了。', 'tā bēi zhe bāo zǒu le'],
  ['你长得真高！', 'nǐ zhǎng de zhēn gāo'],
  ['我们去银行吧。', 'wǒ men qù yín háng ba'],
  ['这条路很长。', 'zhè tiáo lù hěn cháng'],
  ['他还没来。', 'tā hái méi lái'],
  ['我觉得很快乐。', 'wǒ jué de hěn kuài lè'],
  ['她高兴地笑了。', 'tā gāo xìng de xiào le'],
  ['我们得到了师父的认可。', 'wǒ men dé dào le shī fu de rèn kě'],
  ['他跑得很快。', 'tā pǎo de hěn kuài'],
  ['这个地方很漂亮。', 'zhè ge dì fang hěn piào liang'],
  ['你看着我。', 'nǐ kàn zhe wǒ'],
  ['他长大了。', 'tā zhǎng dà le'],
  ['中午我们吃饭。', 'zhōng wǔ wǒ men chī fàn'],
  ['我得去练剑。', 'wǒ děi qù liàn jiàn'],
];

const hanReadings = (text: string, llm?: string) => readings(text, llm).filter(Boolean).join(' ');

describe('pinyin readings of polyphones', () => {
  it('reads every sentence of the set right from the dictionary plus context rules, and says how the dictionary alone does', () => {
    let dictionaryRight = 0;
    for (const [text, expected] of POLYPHONES) {
      expect(hanReadings(text), text).toBe(expected);
      if (
        pinyin(text, { toneType: 'symbol', type: 'array' })
          .filter((s) => /\p{L}/u.test(s))
          .join(' ') === expected
      )
        dictionaryRight++;
    }
    console.log(
      `pinyin set: ours ${POLYPHONES.length}/${POLYPHONES.length}, dictionary alone ${dictionaryRight}/${POLYPHONES.length}`,
    );
    expect(dictionaryRight).toBeLessThan(POLYPHONES.length);
  });

  it('takes a messy but right LLM reading of a polyphone (tone numbers, no spaces)', () => {
    expect(hanReadings('他还在学习。', 'ta1hai2zai4xue2xi2')).toBe('tā hái zài xué xí');
    expect(hanReadings('这首歌很好听。', 'zhe4shou3ge1hen3hao3ting1')).toBe('zhè shǒu gē hěn hǎo tīng');
    expect(hanReadings('重要的事情', 'zhòngyào de shìqing')).toBe('zhòng yào de shì qing');
    expect(hanReadings('再说一次，重来。', 'zai4 shuo1 yi2 ci4, chong2 lai2')).toBe('zài shuō yí cì chóng lái');
  });

  it('ignores an LLM reading that is not a reading of the character, or that does not line up', () => {
    expect(hanReadings('我们去银行吧。', 'wo3 men xing2 hang2 ba')).toBe('wǒ men qù yín háng ba');
    expect(hanReadings('你好', 'ni3 hao3 ma')).toBe('nǐ hǎo');
    expect(llmSyllables('ni3 hao3 ma', 2)).toBeUndefined();
    expect(llmSyllables('nǐhǎo', 2)).toEqual(['nǐ', 'hǎo']);
  });
});

describe('pinyin tokens', () => {
  it('covers every character in order, words together, punctuation on its own', () => {
    const text = '师兄，我们去银行吧！OK？';
    const tokens = pinyinTokens(text);
    expect(tokens.map((t) => t.hanzi).join('')).toBe(text);
    expect(tokens).toContainEqual({ hanzi: '银行', pinyin: 'yín háng' });
    expect(tokens).toContainEqual({ hanzi: '，', pinyin: '' });
    expect(tokens.filter((t) => t.pinyin === '').map((t) => t.hanzi)).toEqual(['，', '！', 'OK', '？']);
    expect(pinyinLine(tokens)).toBe('Shī xiōng, wǒ men qù yín háng ba! OK?');
  });
});
