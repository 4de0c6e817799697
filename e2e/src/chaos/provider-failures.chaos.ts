import {
  type FakeEdgeBehaviour,
  type FakeGeminiBehaviour,
  type FakeOpenAiBehaviour,
  openAiAgentEnv,
  type SystemOptions,
  startFakeEdgeTts,
  startFakeGemini,
  startFakeOpenAi,
  startTestRedis,
} from '@xiaoyue/test-support';
import { expect, it } from 'vitest';
import { startSystem } from '../system.js';

const reply = {
  emotion: 'neutral',
  chinese_content: '好的。',
  pinyin: 'Hǎo de.',
  vietnamese_display: 'Được.',
  action: 'none',
  quiz_list: [],
  user_tone: 'neutral',
  thought: '',
};

/** An LLM fake that fails in turn with each of `faults`, as the agents are configured to use it. */
interface FailingLlm {
  options: Pick<SystemOptions, 'gemini' | 'agentEnv'>;
  close(): Promise<void>;
}

async function failingGemini(): Promise<FailingLlm> {
  const gemini = await startFakeGemini();
  const faults: FakeGeminiBehaviour[] = [
    { kind: 'reply', body: reply },
    { kind: 'error', status: 429 },
    { kind: 'error', status: 500 },
    { kind: 'hang' },
    { kind: 'garbage' },
    { kind: 'reply', body: { ...reply, chinese_content: '' } },
  ];
  let n = 0;
  gemini.setDefault(() => faults[n++ % faults.length] as FakeGeminiBehaviour);
  return { options: { gemini }, close: () => gemini.close() };
}

/** The same faults from an OpenAI-compatible server, and what only it does: a cut-off answer, a think block. */
async function failingOpenAi(): Promise<FailingLlm> {
  const openai = await startFakeOpenAi();
  const faults: FakeOpenAiBehaviour[] = [
    { kind: 'reply', body: reply },
    { kind: 'error', status: 429, retryAfter: '1' },
    { kind: 'error', status: 500 },
    { kind: 'hang' },
    { kind: 'garbage' },
    { kind: 'reply', body: { ...reply, chinese_content: '' } },
    { kind: 'truncate', body: reply },
    { kind: 'reply', body: reply, think: '想一想' },
  ];
  let n = 0;
  openai.setDefault(() => faults[n++ % faults.length] as FakeOpenAiBehaviour);
  return { options: { agentEnv: openAiAgentEnv(openai) }, close: () => openai.close() };
}

it.each([
  ['', 'Gemini', failingGemini],
  [' (openai)', 'OpenAI-compatible', failingOpenAi],
])(
  'R4%s: LLM 429/500/timeout/invalid JSON and TTS 403/hang/truncated: every turn answered within its deadline, 0 crashes',
  async (_, providerName, startLlm) => {
    const [redis, llm, edge] = await Promise.all([startTestRedis(), startLlm(), startFakeEdgeTts()]);
    const ttsFaults: FakeEdgeBehaviour[] = [
      { kind: 'speak' },
      { kind: 'reject', status: 403 },
      { kind: 'hang' },
      { kind: 'truncate' },
    ];
    for (let i = 0; i < 400; i++) edge.enqueue(ttsFaults[i % ttsFaults.length] as FakeEdgeBehaviour);
    const turnTimeoutMs = 8_000;
    const system = await startSystem({
      redisUrl: redis.url,
      ...llm.options,
      edge,
      env: { TURN_TIMEOUT_MS: String(turnTimeoutMs) },
    });
    try {
      const turns = 60;
      const outcomes = await Promise.all(
        Array.from({ length: turns }, async (_, i) => {
          const client = await system.connect(`r4-${i}`, '');
          await client.next('welcome');
          const started = Date.now();
          client.send({ action: 'chat', message: `第${i}次` });
          const answer = await client.next('reply', turnTimeoutMs + 5_000);
          client.close();
          return {
            ms: Date.now() - started,
            fallback: answer.data.fallback === true,
            audio: answer.data.audio_base64 !== null,
          };
        }),
      );
      const late = outcomes.filter((o) => o.ms > turnTimeoutMs + 1_000).length;
      const fallbacks = outcomes.filter((o) => o.fallback).length;
      const silent = outcomes.filter((o) => !o.audio).length;
      console.log(
        `CHAOS R4 provider failures (${providerName}): ${turns} turns, ${turns} answered, ${fallbacks} fallback lines, ${silent} without audio, ${late} late, slowest ${Math.max(...outcomes.map((o) => o.ms))} ms, crashes 0`,
      );
      expect(late).toBe(0);
      expect(fallbacks).toBeGreaterThan(0);
      expect(silent).toBeGreaterThan(0);
      for (const service of [system.gateway, system.agent, system.tts]) expect(service.process.exitCode).toBeNull();
    } finally {
      await system.stop();
      await Promise.all([llm.close(), edge.close()]);
      await redis.stop();
    }
  },
);
