import {
  type FakeOpenAi,
  freePort,
  lastUserMessage,
  rejectionOf,
  startFakeOpenAi,
  systemPromptOf,
} from '@xiaoyue/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiTutorLlm } from './openai.js';
import { openAiSchemaOf } from './openai-schema.js';
import { AgentReply } from './reply-contract.js';
import { LlmError, parseReply, type TutorPrompt } from './types.js';

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

const prompt: TutorPrompt = {
  systemInstruction: '你是小师妹',
  history: [
    { role: 'user', text: '你好' },
    { role: 'model', text: '{"chinese_content":"师兄好"}' },
  ],
  userMessage: '你叫什么名字？',
};

const llm = (
  options: { timeoutMs?: number; baseUrl?: string; apiKey?: string; jsonMode?: 'json_schema' | 'json_object' } = {},
) =>
  new OpenAiTutorLlm({
    baseUrl: options.baseUrl ?? fake.url,
    apiKey: 'apiKey' in options ? options.apiKey : 'secret-key',
    model: 'qwen3:8b',
    jsonMode: options.jsonMode ?? 'json_schema',
    timeoutMs: options.timeoutMs ?? 2_000,
  });

const valid = {
  emotion: 'shy',
  chinese_content: '我叫"小月"。\n师兄呢？',
  pinyin: 'Wǒ jiào "Xiǎoyuè". Shīxiōng ne?',
  vietnamese_display: 'Muội tên là "Tiểu Nguyệt". Còn sư huynh?',
  action: 'none',
  quiz_list: [],
  correction: null,
  user_tone: 'polite',
  learner_facts: null,
  thought: '',
};

const never = () => new AbortController().signal;
const failure = (promise: Promise<unknown>) => rejectionOf(promise, LlmError);

async function streamed(provider: OpenAiTutorLlm, signal = never()): Promise<string[]> {
  const pieces: string[] = [];
  for await (const piece of provider.streamReply(prompt, signal)) pieces.push(piece);
  return pieces;
}

describe('OpenAiTutorLlm against a local chat completions server', () => {
  it('returns the validated structured reply', async () => {
    fake.enqueue({ kind: 'reply', body: valid });
    const reply = await llm().generateReply(prompt, never());
    expect(reply).toMatchObject({ emotion: 'shy', chinese_content: valid.chinese_content, user_tone: 'polite' });
    // A strict model writes null for "nothing": read as left out.
    expect(reply.correction ?? null).toBeNull();
  });

  it('sends the persona as the system message, the history as user/assistant turns, and the strict schema', async () => {
    fake.enqueue({ kind: 'reply', body: valid });
    await llm().generateReply(prompt, never());
    const [request] = fake.requests;
    expect(request).toMatchObject({ model: 'qwen3:8b', stream: false, authorization: 'Bearer secret-key' });
    const body = request?.body;
    expect(body.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(body.messages[0].content).toBe('你是小师妹');
    expect(body.messages[2].content).toBe('{"chinese_content":"师兄好"}');
    expect(lastUserMessage(body)).toBe('你叫什么名字？');
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'xiaoyue_reply', strict: true, schema: openAiSchemaOf(AgentReply) },
    });
    expect(Object.keys(body.response_format.json_schema.schema.properties).slice(0, 2)).toEqual([
      'emotion',
      'chinese_content',
    ]);
  });

  it('in JSON mode, asks for json_object and describes the schema in the system prompt', async () => {
    fake.enqueue({ kind: 'reply', body: valid });
    await llm({ jsonMode: 'json_object' }).generateReply(prompt, never());
    const body = fake.requests[0]?.body;
    expect(body.response_format).toEqual({ type: 'json_object' });
    const system = systemPromptOf(body);
    expect(system.startsWith('你是小师妹')).toBe(true);
    expect(system).toContain('JSON');
    expect(system).toContain(JSON.stringify(openAiSchemaOf(AgentReply)));
  });

  it('sends no Authorization header without a key (local servers)', async () => {
    fake.enqueue({ kind: 'reply', body: valid });
    await llm({ apiKey: undefined }).generateReply(prompt, never());
    expect(fake.requests[0]?.authorization).toBeNull();
  });

  it('strips a <think> block and never reads reasoning_content', async () => {
    fake.enqueue({ kind: 'reply', body: valid, think: '师兄问名字，要害羞。{"not":"this"}', reasoning: '思考中……' });
    const reply = await llm().generateReply(prompt, never());
    expect(reply.chinese_content).toBe(valid.chinese_content);
    expect(JSON.stringify(reply)).not.toContain('思考');
    expect(JSON.stringify(reply)).not.toContain('害羞');
  });

  it('streams the content deltas in order, split mid-escape and mid-character, with a usage chunk at the end', async () => {
    const text = JSON.stringify({ ...valid, chinese_content: '师兄😊"好"\n！' });
    const escape = text.indexOf('\\"');
    const emoji = text.indexOf('😊');
    fake.enqueue({ kind: 'reply', body: text, cuts: [escape + 1, emoji + 1, text.indexOf('\\n') + 1], usage: true });
    const pieces = await streamed(llm());
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    expect(pieces.join('')).toBe(text);
    expect(parseReply(pieces.join('')).chinese_content).toBe('师兄😊"好"\n！');
    expect(fake.requests[0]).toMatchObject({ stream: true });
  });

  it('streams without reasoning_content and without a <think> block split across chunks', async () => {
    const text = JSON.stringify(valid);
    const think = '让我想想：师兄问名字。';
    const content = `<think>${think}</think>\n\n${text}`;
    // Cuts inside "<think>", inside "</think>", and inside the answer.
    fake.enqueue({
      kind: 'reply',
      body: valid,
      think,
      reasoning: 'reasoning_content 不能说出来',
      cuts: [3, 7 + think.length + 4, content.length - 20],
    });
    const pieces = await streamed(llm());
    expect(pieces.join('')).toBe(text);
    for (const piece of pieces) {
      expect(piece).not.toMatch(/think|想|reasoning|不能/);
    }
  });

  it.each([
    [400, 'rejected', false],
    [401, 'rejected', false],
    [429, 'rate_limited', true],
    [500, 'server', true],
    [503, 'server', true],
  ])('classifies HTTP %i as %s', async (status, kind, retryable) => {
    fake.enqueue({ kind: 'error', status });
    const error = await failure(llm().generateReply(prompt, never()));
    expect(error).toMatchObject({ kind, status, retryable });
    expect(error.message).not.toContain('secret-key');
  });

  it('hands a 429 retry-after to the agent, and does not retry by itself', async () => {
    fake.enqueue({ kind: 'error', status: 429, retryAfter: '7' });
    const error = await failure(llm().generateReply(prompt, never()));
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7_000 });
    fake.enqueue({ kind: 'error', status: 500 });
    await failure(llm().generateReply(prompt, never()));
    expect(fake.requests).toHaveLength(2);
  });

  it('never repeats the API key in an error, even when the server quotes it', async () => {
    fake.enqueue({ kind: 'error', status: 401, message: 'Incorrect API key provided: secret-key.' });
    const error = await failure(llm().generateReply(prompt, never()));
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain('secret-key');
  });

  it('times out a silent server within its timeout, streamed or not', async () => {
    for (const attempt of [
      (p: OpenAiTutorLlm) => p.generateReply(prompt, never()),
      (p: OpenAiTutorLlm) => streamed(p),
    ]) {
      fake.enqueue({ kind: 'hang' });
      const started = Date.now();
      const error = await failure(attempt(llm({ timeoutMs: 300 })));
      expect(error.kind).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(1_500);
    }
  });

  it("stops when the caller aborts, and says it was the caller's doing", async () => {
    fake.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(llm().generateReply(prompt, controller.signal));
    expect(error).toMatchObject({ kind: 'aborted', retryable: false });
  });

  it('rejects output that is not JSON, JSON without her line, or a think block that never ends', async () => {
    fake.enqueue(
      { kind: 'garbage' },
      { kind: 'reply', body: { ...valid, chinese_content: '' } },
      { kind: 'reply', body: `<think>${JSON.stringify(valid)}` },
    );
    for (let i = 0; i < 3; i++)
      expect((await failure(llm().generateReply(prompt, never()))).kind).toBe('invalid_output');
  });

  it('reports a truncated answer: unreadable when not streamed, an incomplete document when streamed', async () => {
    fake.enqueue({ kind: 'truncate', body: valid });
    expect((await failure(llm().generateReply(prompt, never()))).retryable).toBe(true);
    fake.enqueue({ kind: 'truncate', body: valid });
    const pieces: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const piece of llm().streamReply(prompt, never())) pieces.push(piece);
        parseReply(pieces.join(''));
      })(),
      LlmError,
    );
    expect(error.retryable).toBe(true);
    expect(pieces.join('').length).toBeGreaterThan(0);
  });

  it('reports a refused connection as a network error', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/v1`;
    const error = await failure(llm({ baseUrl: closed, timeoutMs: 1_000 }).generateReply(prompt, never()));
    expect(error.kind).toBe('network');
  });

  it('judges a translation with its own strict schema', async () => {
    fake.enqueue({ kind: 'reply', body: { correct: true, explanation: 'Đúng.' } });
    const verdict = await llm().judgeTranslation(
      { question: 'Dịch: 我很高兴', expected: 'Tôi rất vui', answer: 'Mình vui lắm' },
      never(),
    );
    expect(verdict).toEqual({ correct: true, explanation: 'Đúng.' });
    const body = fake.requests[0]?.body;
    expect(body.response_format.json_schema).toMatchObject({ name: 'translation_verdict', strict: true });
    expect(body.response_format.json_schema.schema.required).toEqual(['correct', 'explanation']);
    expect(lastUserMessage(body)).toContain('Mình vui lắm');
    expect(body.temperature).toBe(0);
  });

  it('probes whether the server keeps to the JSON schema', async () => {
    fake.enqueue({ kind: 'reply', body: { correct: true, explanation: 'Đúng.' } });
    expect(await llm().probe(never())).toEqual({ model: 'qwen3:8b', schemaMode: 'json_schema', honoured: true });
    fake.enqueue({ kind: 'reply', body: { correct: true, reason: 'ok' } });
    expect(await llm().probe(never())).toMatchObject({
      honoured: false,
      detail: 'missing explanation; not in the schema: reason',
    });
  });
});
