import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  type FakeGemini,
  type FakeOpenAi,
  freePort,
  openAiAgentEnv,
  repoRoot,
  startFakeGemini,
  startFakeOpenAi,
  startTestRedis,
  type TestRedis,
} from '@xiaoyue/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem } from './system.js';

let redis: TestRedis;
let system: RunningSystem;
let gemini: FakeGemini;
let openai: FakeOpenAi;

beforeAll(async () => {
  [redis, gemini, openai] = await Promise.all([startTestRedis(), startFakeGemini(), startFakeOpenAi()]);
  system = await startSystem({ redisUrl: redis.url });
});
afterAll(async () => {
  await system?.stop();
  await gemini?.close();
  await openai?.close();
  await redis?.stop();
});

/** Runs one of the repo's scripts as a user would, with piped stdin. */
function runScript(script: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'scripts', script), ...args], {
      // Not the developer's own .env or pnpm start's Redis record: only what the test gives.
      env: {
        PATH: process.env.PATH,
        XIAOYUE_ENV_FILE: join(repoRoot, 'e2e', 'no-such.env'),
        LOCAL_REDIS_DIR: join(repoRoot, 'e2e', 'no-such-redis-dir'),
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill(), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.stdin.end(options.input ?? '');
  });
}

describe('pnpm chat', () => {
  it('chats from a terminal: Chinese, pinyin, Vietnamese, quiz, commands', async () => {
    const { code, output } = await runScript('chat.mjs', ['cli-learner', '--url', system.baseUrl], {
      input: '你好\n我是很好\n考考我\n1\n/state\n/sulk 2\n',
    });
    expect(code).toBe(0);
    expect(output).toContain('offline practice mode');
    expect(output).toContain('师兄好！今天也来练功吗？');
    expect(output).toContain('Shī xiōng hǎo! Jīn tiān yě lái liàn gōng ma?');
    expect(output).toContain('Chào sư huynh!');
    expect(output).toContain('action: correction');
    expect(output).toMatch(/测验 “.+”是什么意思？/);
    expect(output).toMatch(/对了|不对/);
    expect(output).toContain('sulking 0/3, 3 turns');
    expect(output).toContain('sulking level is now 2');
    expect(output).toMatch(/audio: \d+ bytes/);
  });

  it('answers a quiz graded by the server, and shows progress, level, review and a slow replay', async () => {
    const { code, output } = await runScript('chat.mjs', ['cli-quizzer', '--url', system.baseUrl], {
      input: '考考我\n1\n/a 2\n/skip\n/progress\n/level 3\n/slow\n/review\n',
    });
    expect(code).toBe(0);
    // The questions carry no key: the answers are graded by the server, one result each.
    const results = output.match(/^ {2}[✓✗] .+$/gmu) ?? [];
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result).toMatch(/^ {2}(✓ 对了！ Đúng rồi! {2}\(.+\)|✗ 不对。 Sai rồi: you said “.+”, expected “.+”)$/u);
    }
    // Each result is followed by the explanation and her reaction (Chinese, pinyin, Vietnamese).
    expect(output).toMatch(
      /[✓✗] .+\n {4}“.+” \(.+\) nghĩa là “.+”\.\n {2}小师妹 {2}\p{Script=Han}.*\n {10}\S.*\n {10}\S/u,
    );
    expect(output).toMatch(/\(answer 1-[34], \/a TEXT, or \/skip\)/);
    const correct = results.filter((r) => r.includes('✓')).length;
    expect(output).toContain(`quizzes ${correct}/2 right (${Math.round((correct / 2) * 100)}%)`);
    expect(output).toMatch(/progress: HSK level \d · review cards \d+ \(\d+ due, 0 learned\)/);
    expect(output).toMatch(/streak 1 day · words met [1-9]\d*/);
    expect(output).toContain('HSK level is now 3');
    expect(output).toMatch(/🐢 .+ · replay \(slow\): \d+ bytes/);
    expect(output).toMatch(/(以前错过的题|现在没有要复习的)/);
  });
});

describe('pnpm check', () => {
  const check = (name: string, env: Record<string, string>) => runScript('check.mjs', [name], { env });

  it('passes redis against a working Redis and fails with the reason against a closed port', async () => {
    const ok = await check('redis', { REDIS_URL: redis.url });
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.output).toMatch(/^PASS redis: .* answered PONG, Redis \d/);
    const bad = await check('redis', { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/FAIL redis: .*ECONNREFUSED/);
  });

  it('passes gemini when it answers, fails on a refusal or a missing key', async () => {
    const env = { GEMINI_API_KEY: 'k', GEMINI_BASE_URL: gemini.url };
    expect((await check('gemini', env)).output).toMatch(/^PASS gemini: gemini-2.5-flash answered/);
    gemini.enqueue({ kind: 'error', status: 403, message: 'API key not valid' });
    const refused = await check('gemini', env);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/FAIL gemini: .*403/);
    expect((await check('gemini', {})).output).toMatch(/FAIL gemini: GEMINI_API_KEY is not set/);
  });

  it('checks the configured LLM: an OpenAI-compatible server, its model, latency and JSON schema mode', async () => {
    const env = openAiAgentEnv(openai);
    openai.enqueue({ kind: 'reply', body: { correct: true, explanation: 'Đúng.' } });
    const ok = await check('llm', env);
    expect(ok.code).toBe(0);
    expect(ok.output).toMatch(
      /^PASS llm: openai fake-chat-1 at http:\/\/127\.0\.0\.1:\d+\/v1 answered in \d+ ms; json_schema honoured/,
    );
    expect(openai.requests.at(-1)?.body.response_format.type).toBe('json_schema');

    openai.enqueue({ kind: 'reply', body: { correct: false, explanation: 'Sai.' } });
    const jsonMode = await check('llm', { ...env, OPENAI_JSON_MODE: 'json_object' });
    expect(jsonMode.output).toMatch(/^PASS llm: .* json_object honoured/);
    expect(openai.requests.at(-1)?.body.response_format).toEqual({ type: 'json_object' });
  }, 60_000);

  it('says when an OpenAI-compatible server ignores or refuses the JSON schema, or the LLM is not configured', async () => {
    const env = openAiAgentEnv(openai);
    openai.enqueue({ kind: 'reply', body: 'Sure! {"correct": true}' });
    const ignored = await check('llm', env);
    expect(ignored.code).toBe(1);
    expect(ignored.output).toMatch(
      /FAIL llm: .* json_schema was not honoured: the answer is not JSON.*OPENAI_JSON_MODE=json_object/,
    );

    openai.enqueue({
      kind: 'error',
      status: 400,
      message: "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
    });
    const refused = await check('llm', env);
    expect(refused.output).toMatch(/FAIL llm: openai fake-chat-1: .*400.*try OPENAI_JSON_MODE=json_object/);

    // No LLM at all is the offline practice tutor: information, not a failure (pnpm check llm).
    const offline = await check('llm', {});
    expect(offline.output).toMatch(/INFO llm: no LLM configured: the agents run the offline practice tutor/);
    expect(offline.code).toBe(0);
    expect((await check('llm', { LLM_PROVIDER: 'openai' })).output).toMatch(/OPENAI_MODEL: required/);
  }, 60_000);

  it('passes tts with the offline voice', async () => {
    const result = await check('tts', { TTS_PROVIDER: 'espeak' });
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/PASS tts: espeak spoke \d+ bytes of mp3/);
  });
});
