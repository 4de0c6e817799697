import {
  type FakeGemini,
  type FakeOpenAi,
  openAiAgentEnv,
  startFakeEdgeTts,
  startFakeGemini,
  startFakeOpenAi,
} from '@xiaoyue/test-support';
import { isFirstAudio, isReplyWithAudio, Learner } from '../learner.js';
import type { BenchContext, Row, Scenario } from '../report.js';
import { round, summarize } from '../stats.js';
import { startBenchSystem } from '../system.js';

export const firstAudio: Scenario = { ids: ['P3', 'P3-openai'], run };

const LATENCY = { firstTokenMs: 400, tokensPerSecond: 50 };

/**
 * P3 time to first audio: streaming vs the seed's whole-reply mode, with realistic latencies; with
 * Gemini's fake (P3) and an OpenAI-compatible one (P3-openai: SSE chunks through the openai SDK),
 * both writing at the same speed.
 */
async function run(context: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  if (context.wanted('P3')) {
    const gemini = await startFakeGemini({ latency: LATENCY });
    rows.push(await measureWith(context, 'P3', 'Gemini', gemini, undefined, () => gemini.close()));
  }
  if (context.wanted('P3-openai')) {
    const openai = await startFakeOpenAi({ latency: LATENCY });
    const agentEnv = openAiAgentEnv(openai);
    rows.push(await measureWith(context, 'P3-openai', 'OpenAI-compatible', openai, agentEnv, () => openai.close()));
  }
  return rows;
}

async function measureWith(
  { redisUrl, quick }: BenchContext,
  id: string,
  provider: string,
  llm: FakeGemini | FakeOpenAi,
  openAiEnv: Record<string, string> | undefined,
  closeLlm: () => Promise<void>,
): Promise<Row> {
  const edge = await startFakeEdgeTts({ default: { kind: 'speak', delayMs: 300, msPerChar: 10 } });
  const system = openAiEnv
    ? await startBenchSystem(redisUrl, undefined, edge, {}, openAiEnv)
    : await startBenchSystem(redisUrl, llm as FakeGemini, edge);
  const runs = quick ? 3 : 8;
  // A reply as Gemini writes it: every field filled, pinyin and Vietnamese as long as a real one.
  const reply = (n: number) => ({
    emotion: 'happy',
    chinese_content: `师兄早上好，这是第${n}次！今天我们一起去后山练剑吧。师父说你最近进步很大，我也为你高兴。`,
    pinyin: `Shīxiōng zǎoshang hǎo, zhè shì dì ${n} cì! Jīntiān wǒmen yìqǐ qù hòushān liàn jiàn ba. Shīfu shuō nǐ zuìjìn jìnbù hěn dà, wǒ yě wèi nǐ gāoxìng.`,
    vietnamese_display: `Chào buổi sáng sư huynh, đây là lần thứ ${n}! Hôm nay chúng ta cùng lên núi sau luyện kiếm nhé. Sư phụ nói dạo này huynh tiến bộ nhiều lắm, muội cũng mừng cho huynh.`,
    action: 'none',
    quiz_list: [],
    user_tone: 'polite',
    thought: 'benchmark',
  });
  try {
    const measure = async (stream: boolean) => {
      const learner = await Learner.connect(system.baseUrl, `p3-${stream ? 'stream' : 'seed'}`, { stream });
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        // A new text every time: the TTS cache must not help either mode.
        llm.enqueue({ kind: 'reply', body: reply(i + (stream ? 1000 : 0)) });
        const done = stream ? (f: { type: string }) => f.type === 'reply_done' : isReplyWithAudio;
        let firstAudio: number | undefined;
        const started = performance.now();
        await learner.turn('早上好', (f) => {
          if (firstAudio === undefined && isFirstAudio(f)) firstAudio = performance.now() - started;
          return done(f);
        });
        times.push(firstAudio ?? Number.NaN);
      }
      learner.close();
      return times;
    };
    const seed = summarize(await measure(false));
    const streamed = summarize(await measure(true));
    return {
      id,
      what: `time to first audio (${provider}): LLM 400 ms + 50 tok/s, TTS 300 ms + 10 ms/char`,
      result: `streaming: p50 ${streamed.p50} ms`,
      baseline: `seed mode: p50 ${seed.p50} ms`,
      target: '≤ 0.4× seed',
      met: streamed.p50 <= 0.4 * seed.p50,
      data: { seed, streamed, ratio: round(streamed.p50 / seed.p50) },
    };
  } finally {
    await system.stop();
    await Promise.all([closeLlm(), edge.close()]);
  }
}
