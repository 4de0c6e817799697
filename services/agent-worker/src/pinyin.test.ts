import { describe, expect, it } from 'vitest';
import { toPinyin } from './pinyin-tokens.js';

describe('dictionary pinyin', () => {
  it.each([
    ['我得走了，明天见！', 'Wǒ děi zǒu le, míng tiān jiàn!'],
    ['师父说得对。', 'Shī fu shuō de duì.'],
    ['你长得真高。', 'Nǐ zhǎng de zhēn gāo.'],
    ['有空吗？', 'Yǒu kòng ma?'],
    ['谢谢你！', 'Xiè xie nǐ!'],
    ['我会说一点中文。', 'Wǒ huì shuō yì diǎn zhōng wén.'],
    ['我觉得很快乐。', 'Wǒ jué de hěn kuài lè.'],
    ['我们去银行吧。', 'Wǒ men qù yín háng ba.'],
    ['师兄，应该说：“我很好”', 'Shī xiōng, yīng gāi shuō: “wǒ hěn hǎo”'],
    ['我想吃饺子和包子。', 'Wǒ xiǎng chī jiǎo zi hé bāo zi.'],
    ['孔子说。', 'Kǒng zǐ shuō.'],
  ])('reads %s as %s', (text, expected) => {
    expect(toPinyin(text)).toBe(expected);
  });
});
