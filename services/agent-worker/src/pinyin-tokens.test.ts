import { clearCustomDict, convert, customPinyin, pinyin } from 'pinyin-pro';
import { describe, expect, it } from 'vitest';
import { PHRASE_READINGS } from './pinyin.js';
import { llmSyllables, pinyinLine, pinyinTokens, readings } from './pinyin-tokens.js';

/**
 * Sentences full of polyphones, with the reading every Han character must get, written by hand:
 * standard Putonghua, neutral tone for particles and neutral-tone words (师父 shī fu, 朋友 péng you),
 * and 一/不 with their tone changes as the dictionary writes them (一点 yì diǎn, 一遍 yí biàn).
 */
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
  ['这样不行。', 'zhè yàng bù xíng'],
  ['行李很重。', 'xíng li hěn zhòng'],
  ['请重新说一遍。', 'qǐng chóng xīn shuō yí biàn'],
  ['他在这一行干了十年。', 'tā zài zhè yì háng gàn le shí nián'],
  ['她很喜欢音乐。', 'tā hěn xǐ huan yīn yuè'],
  ['我想睡觉了。', 'wǒ xiǎng shuì jiào le'],
  ['他睡了一觉。', 'tā shuì le yí jiào'],
  ['请把钱还给我。', 'qǐng bǎ qián huán gěi wǒ'],
  ['这本书你看完了就还我。', 'zhè běn shū nǐ kàn wán le jiù huán wǒ'],
  ['你还好吗？', 'nǐ hái hǎo ma'],
  ['这是一张地图。', 'zhè shì yì zhāng dì tú'],
  ['他重重地打了我一下。', 'tā zhòng zhòng de dǎ le wǒ yí xià'],
  ['他得了冠军。', 'tā dé le guàn jūn'],
  ['天快黑了，我们得赶路。', 'tiān kuài hēi le wǒ men děi gǎn lù'],
  ['我了解他的意思了。', 'wǒ liǎo jiě tā de yì si le'],
  ['我们都是朋友。', 'wǒ men dōu shì péng you'],
  ['北京是中国的首都。', 'běi jīng shì zhōng guó de shǒu dū'],
  ['他是成都人。', 'tā shì chéng dū rén'],
  ['你为什么学中文？', 'nǐ wèi shén me xué zhōng wén'],
  ['我为你高兴。', 'wǒ wèi nǐ gāo xìng'],
  ['他成为了大侠。', 'tā chéng wéi le dà xiá'],
  ['我以为你走了。', 'wǒ yǐ wéi nǐ zǒu le'],
  ['这里的茶很便宜。', 'zhè lǐ de chá hěn pián yi'],
  ['坐地铁很方便。', 'zuò dì tiě hěn fāng biàn'],
  ['随便吃一点吧。', 'suí biàn chī yì diǎn ba'],
  ['我数到三，你就跑。', 'wǒ shǔ dào sān nǐ jiù pǎo'],
  ['我的数学不好。', 'wǒ de shù xué bù hǎo'],
  ['我的爱好是练剑。', 'wǒ de ài hào shì liàn jiàn'],
  ['孩子们很好奇。', 'hái zi men hěn hào qí'],
  ['现在差五分八点。', 'xiàn zài chà wǔ fēn bā diǎn'],
  ['爸爸去出差了。', 'bà ba qù chū chāi le'],
  ['这两种茶有什么差别？', 'zhè liǎng zhǒng chá yǒu shén me chā bié'],
  ['他睡着了。', 'tā shuì zháo le'],
  ['别着急，慢慢来。', 'bié zháo jí màn màn lái'],
  ['师父教我练剑。', 'shī fu jiāo wǒ liàn jiàn'],
  ['师父教了我三招。', 'shī fu jiāo le wǒ sān zhāo'],
  ['我想请教您一个问题。', 'wǒ xiǎng qǐng jiào nín yí gè wèn tí'],
  ['他是我的教练。', 'tā shì wǒ de jiào liàn'],
  ['我相信你。', 'wǒ xiāng xìn nǐ'],
  ['我们一起照相吧。', 'wǒ men yì qǐ zhào xiàng ba'],
  ['我只有一把剑。', 'wǒ zhǐ yǒu yì bǎ jiàn'],
  ['我家有一只猫。', 'wǒ jiā yǒu yì zhī māo'],
  ['你在干什么？', 'nǐ zài gàn shén me'],
  ['衣服已经干了。', 'yī fu yǐ jīng gān le'],
  ['房间很干净。', 'fáng jiān hěn gān jìng'],
  ['他是少林弟子。', 'tā shì shào lín dì zǐ'],
  ['那个少年很勇敢。', 'nà ge shào nián hěn yǒng gǎn'],
  ['今天人很少。', 'jīn tiān rén hěn shǎo'],
  ['这种茶很好喝。', 'zhè zhǒng chá hěn hǎo hē'],
  ['农民在种地。', 'nóng mín zài zhòng dì'],
  ['春天我们种树。', 'chūn tiān wǒ men zhòng shù'],
  ['我和你一起去。', 'wǒ hé nǐ yì qǐ qù'],
  ['今天很暖和。', 'jīn tiān hěn nuǎn huo'],
  ['少林寺的和尚会武功。', 'shào lín sì de hé shang huì wǔ gōng'],
  ['我们要调查这件事。', 'wǒ men yào diào chá zhè jiàn shì'],
  ['请打开空调。', 'qǐng dǎ kāi kōng tiáo'],
  ['中文有四个声调。', 'zhōng wén yǒu sì gè shēng diào'],
  ['到处都是人。', 'dào chù dōu shì rén'],
  ['他处处帮助我。', 'tā chù chù bāng zhù wǒ'],
  ['这件事我来处理。', 'zhè jiàn shì wǒ lái chǔ lǐ'],
  ['我们相处得很好。', 'wǒ men xiāng chǔ de hěn hǎo'],
  ['天空很蓝。', 'tiān kōng hěn lán'],
  ['我妈妈是会计。', 'wǒ mā ma shì kuài jì'],
  ['我们明天开会。', 'wǒ men míng tiān kāi huì'],
  ['我的背很疼。', 'wǒ de bèi hěn téng'],
  ['我在背课文。', 'wǒ zài bèi kè wén'],
  ['你应该多休息。', 'nǐ yīng gāi duō xiū xi'],
  ['他的反应很快。', 'tā de fǎn yìng hěn kuài'],
  ['师父答应了。', 'shī fu dā ying le'],
  ['他中毒了。', 'tā zhòng dú le'],
  ['他一剑刺中了敌人。', 'tā yí jiàn cì zhòng le dí rén'],
  ['他是我们的班长。', 'tā shì wǒ men de bān zhǎng'],
  ['长老说得很对。', 'zhǎng lǎo shuō de hěn duì'],
  ['好好学习。', 'hǎo hǎo xué xí'],
  ['你数一数有几个人。', 'nǐ shǔ yi shǔ yǒu jǐ gè rén'],
  ['师父背着手走来走去。', 'shī fu bèi zhe shǒu zǒu lái zǒu qù'],
  ['把声音调大一点。', 'bǎ shēng yīn tiáo dà yì diǎn'],
  ['他把书还了。', 'tā bǎ shū huán le'],
  ['你别干了。', 'nǐ bié gàn le'],
  ['少林功夫天下第一。', 'shào lín gōng fu tiān xià dì yī'],
  ['他教会了我很多。', 'tā jiāo huì le wǒ hěn duō'],
];

/** The polyphones the set must cover, each at least twice and in every reading listed. */
const COVERAGE: Record<string, string[]> = {
  行: ['xíng', 'háng'],
  长: ['cháng', 'zhǎng'],
  重: ['zhòng', 'chóng'],
  乐: ['lè', 'yuè'],
  觉: ['jué', 'jiào'],
  还: ['hái', 'huán'],
  地: ['de', 'dì'],
  得: ['de', 'dé', 'děi'],
  了: ['le', 'liǎo'],
  都: ['dōu', 'dū'],
  为: ['wèi', 'wéi'],
  便: ['biàn', 'pián'],
  数: ['shù', 'shǔ'],
  好: ['hǎo', 'hào'],
  差: ['chà', 'chā', 'chāi'],
  着: ['zhe', 'zháo'],
  教: ['jiāo', 'jiào'],
  相: ['xiāng', 'xiàng'],
  只: ['zhī', 'zhǐ'],
  干: ['gān', 'gàn'],
  少: ['shǎo', 'shào'],
  种: ['zhǒng', 'zhòng'],
  和: ['hé', 'huo'],
  调: ['diào', 'tiáo'],
  处: ['chù', 'chǔ'],
  空: ['kōng', 'kòng'],
  会: ['huì', 'kuài'],
  背: ['bèi', 'bēi'],
  应: ['yīng', 'yìng'],
  中: ['zhōng', 'zhòng'],
};

const HAN = /\p{Script=Han}/u;
const hanOf = (text: string) => [...text].filter((c) => HAN.test(c));
const hanReadings = (text: string, llm?: string) => readings(text, llm).filter(Boolean).join(' ');

/** A small seeded random generator, so the messy spellings are the same on every run. */
function seeded(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Pinyin as an LLM might scribble it: tone numbers, no spaces, capitals anywhere (e.g. "Wo3menQU4yin2hang2ba"). */
function messy(syllables: string[], random: () => number): string {
  return syllables
    .map((syllable) => {
      const numbered = (convert(syllable, { format: 'symbolToNum' }) as string).replace(/0$/, '');
      const spelled = random() < 0.3 ? numbered.replace(/ü/g, 'v') : numbered;
      return [...spelled].map((c) => (random() < 0.3 ? c.toUpperCase() : c)).join('');
    })
    .join('');
}

/** Every reading the dictionary knows for each Han character of `text`. */
const readingsKnown = (text: string) =>
  pinyin(text, { type: 'all' })
    .filter((c) => HAN.test(c.origin))
    .map((c) => c.polyphonic);

/** Another tone: 1→2, 2→3, 3→4, 4→1, neutral→1. */
const otherTone = (syllable: string) => {
  const numbered = convert(syllable, { format: 'symbolToNum' }) as string;
  const tone = Number(numbered.at(-1));
  return convert(`${numbered.slice(0, -1)}${(tone % 4) + 1}`, { format: 'numToSymbol' }) as string;
};
const toneless = (syllable: string) => (convert(syllable, { format: 'symbolToNum' }) as string).replace(/\d$/, '');

/** The LLM wrong on every character: a polyphone gets another valid reading, any other character another tone. */
function wrongSyllables(text: string, expected: string[]): string[] {
  return readingsKnown(text).map((known, k) => {
    const right = expected[k] as string;
    const others = known.filter((r) => r !== right && /^[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+$/.test(r));
    return others.find((r) => toneless(r) !== toneless(right)) ?? others[0] ?? otherTone(right);
  });
}

/** The dictionary alone: pinyin-pro without our phrase table, rules or the LLM. */
function dictionaryAlone(text: string): string {
  clearCustomDict('pinyin');
  try {
    return pinyin(text, { type: 'all' })
      .filter((c) => HAN.test(c.origin))
      .map((c) => c.pinyin)
      .join(' ');
  } finally {
    customPinyin(PHRASE_READINGS);
  }
}

describe('pinyin readings of polyphones', () => {
  it('has a set of at least 64 sentences covering every listed polyphone in every listed reading', () => {
    expect(POLYPHONES.length).toBeGreaterThanOrEqual(64);
    const seen: Record<string, string[]> = {};
    for (const [text, expected] of POLYPHONES) {
      const syllables = expected.split(' ');
      expect(syllables.length, text).toBe(hanOf(text).length);
      hanOf(text).forEach((char, k) => {
        (seen[char] ??= []).push(syllables[k] as string);
        // Every expected syllable is one the dictionary knows for that character, or its neutral
        // tone: no typos.
        const known = [...(readingsKnown(char)[0] ?? []), ...(readingsKnown(text)[k] ?? [])];
        expect([...known, ...known.map(toneless)], `${text} ${char}`).toContain(syllables[k]);
      });
    }
    for (const [char, wanted] of Object.entries(COVERAGE)) {
      expect(seen[char]?.length ?? 0, char).toBeGreaterThanOrEqual(2);
      expect([...new Set(seen[char])].sort(), char).toEqual(expect.arrayContaining(wanted));
    }
  });

  it('reads the whole set right with no LLM pinyin, messy right LLM pinyin and wrong LLM pinyin; pinyin-pro alone does not', () => {
    const random = seeded(42);
    const failures: string[] = [];
    const right = { none: 0, messy: 0, wrong: 0, dictionary: 0 };
    for (const [text, expected] of POLYPHONES) {
      const syllables = expected.split(' ');
      const n = syllables.length;

      const ours = hanReadings(text);
      if (ours === expected) right.none++;
      else failures.push(`no LLM: ${text} → ${ours}`);

      const llmRight = messy(syllables, random);
      expect(llmSyllables(llmRight, n), `${text} ${llmRight}`).toEqual(syllables);
      const withRight = hanReadings(text, llmRight);
      if (withRight === expected) right.messy++;
      else failures.push(`messy LLM ${llmRight}: ${text} → ${withRight}`);

      // Wrong: every syllable wrong but lined up (so the LLM is really heard), then one syllable
      // short, then one too many.
      const wrong = wrongSyllables(text, syllables);
      const llmWrong = [messy(wrong, random), messy(syllables.slice(1), random), `${messy(syllables, random)}ma`];
      expect(llmSyllables(llmWrong[0], n), `${text} ${llmWrong[0]}`).toEqual(wrong);
      const withWrong = llmWrong.map((llm) => hanReadings(text, llm));
      if (withWrong.every((r) => r === expected)) right.wrong++;
      else failures.push(`wrong LLM ${llmWrong[0]}: ${text} → ${withWrong.join(' | ')}`);

      if (dictionaryAlone(text) === expected) right.dictionary++;
    }
    const total = POLYPHONES.length;
    console.log(
      `polyphone set: ${total} sentences; ours ${right.none}/${total} (no LLM), ${right.messy}/${total} (messy LLM), ` +
        `${right.wrong}/${total} (wrong LLM); pinyin-pro alone ${right.dictionary}/${total}`,
    );
    expect(failures).toEqual([]);
    expect(right.dictionary).toBeLessThan(total);
  });

  it('takes a messy but right LLM reading of a polyphone (tone numbers, no spaces)', () => {
    expect(hanReadings('他还在学习。', 'ta1hai2zai4xue2xi2')).toBe('tā hái zài xué xí');
    expect(hanReadings('这首歌很好听。', 'zhe4shou3ge1hen3hao3ting1')).toBe('zhè shǒu gē hěn hǎo tīng');
    expect(hanReadings('重要的事情', 'zhòngyào de shìqing')).toBe('zhòng yào de shì qing');
    expect(hanReadings('再说一次，重来。', 'zai4 shuo1 yi2 ci4, chong2 lai2')).toBe('zài shuō yí cì chóng lái');
    // Letters run together are split on the characters' readings: "genan" is ge nán, not gen àn.
    expect(hanReadings('这个男人很高。', 'Zhe4genan2ren2hen3gao1')).toBe('zhè ge nán rén hěn gāo');
    expect(llmSyllables('zhe4genan2', 3)).toEqual(['zhè', 'gen', 'án']);
    expect(llmSyllables('xian1', 2)).toEqual(['xi', 'ān']);
  });

  it('lets the LLM decide a polyphone no rule or phrase decides, and only then', () => {
    // 调 on its own: tiáo (adjust) or diào (move); the dictionary alone says tiáo.
    expect(hanReadings('把他调到北京。', 'ba3 ta1 diao4 dao4 bei3 jing1')).toBe('bǎ tā diào dào běi jīng');
    expect(hanReadings('把他调到北京。')).toBe('bǎ tā tiáo dào běi jīng');
    // 了 and 都 on their own are never the LLM's call, nor are the tone changes of 一 and 不.
    expect(hanReadings('都走了。', 'du1 zou3 liao3')).toBe('dōu zǒu le');
    expect(hanReadings('一天不去', 'yi1 tian1 bu4 qu4')).toBe('yì tiān bú qù');
  });

  it('reads the potential complement 不了 as liǎo', () => {
    expect(readings('我受不了了！').filter(Boolean).slice(-2)).toEqual(['liǎo', 'le']);
    expect(readings('他来不了。').filter(Boolean).at(-1)).toBe('liǎo');
    expect(readings('不了，谢谢。').filter(Boolean)[1]).toBe('le');
  });

  it('ignores an LLM reading that is not a reading of the character, or that does not line up', () => {
    expect(hanReadings('我们去银行吧。', 'wo3 men xing2 hang2 ba')).toBe('wǒ men qù yín háng ba');
    expect(hanReadings('你好', 'ni3 hao3 ma')).toBe('nǐ hǎo');
    expect(llmSyllables('ni3 hao3 ma', 2)).toBeUndefined();
    expect(llmSyllables('nǐhǎo', 2)).toEqual(['nǐ', 'hǎo']);
    expect(llmSyllables('Xi1An1', 2)).toEqual(['xī', 'ān']);
    // Pinyin of some other sentence, though it has the right number of syllables.
    expect(hanReadings('我们去银行吧。', 'ta1 shi4 lao3 shi1 a')).toBe('wǒ men qù yín háng ba');
    expect(llmSyllables('ta1 shi4 lao3 shi1 a', 5, readingsKnown('我们去银行吧'))).toBeUndefined();
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

  it('keeps the rules lined up past characters outside the Basic Plane', () => {
    expect(readings('😀你长得真高').filter(Boolean).join(' ')).toBe('nǐ zhǎng de zhēn gāo');
  });
});
