import { type FakeGemini, freePort, rejectionOf, startFakeGemini } from '@xiaoyue/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GeminiTutorLlm } from './gemini.js';
import { geminiSchemaOf } from './gemini-schema.js';
import { AgentReply } from './reply-contract.js';
import { LlmError, type TutorPrompt } from './types.js';

let fake: FakeGemini;
beforeAll(async () => {
  fake = await startFakeGemini();
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

const llm = (timeoutMs = 2_000, baseUrl = fake.url) =>
  new GeminiTutorLlm({ apiKey: 'secret-key', model: 'gemini-2.5-flash', baseUrl, timeoutMs });

const valid = {
  emotion: 'shy',
  chinese_content: '我叫小月。',
  pinyin: 'Wǒ jiào Xiǎoyuè.',
  vietnamese_display: 'Muội tên là Tiểu Nguyệt.',
  action: 'none',
  quiz_list: [],
  user_tone: 'polite',
  thought: '',
};

const failure = (promise: Promise<unknown>) => rejectionOf(promise, LlmError);

describe('GeminiTutorLlm against a local Gemini REST server', () => {
  it('returns the validated structured reply', async () => {
    fake.enqueue({ kind: 'reply', body: valid });
    const reply = await llm().generateReply(prompt, new AbortController().signal);
    expect(reply).toMatchObject({ emotion: 'shy', chinese_content: '我叫小月。', user_tone: 'polite' });
  });

  it('sends the persona, the history, the schema in speaking order and thinking off', async () => {
    fake.enqueue({ kind: 'reply', body: valid });
    await llm().generateReply(prompt, new AbortController().signal);
    const [request] = fake.requests;
    expect(request).toMatchObject({ model: 'gemini-2.5-flash', method: 'generateContent', apiKey: 'secret-key' });
    const body = request?.body;
    expect(JSON.stringify(body.systemInstruction)).toContain('你是小师妹');
    expect(body.contents.map((c: { role: string }) => c.role)).toEqual(['user', 'model', 'user']);
    expect(body.contents[2].parts[0].text).toBe('你叫什么名字？');
    expect(body.generationConfig.responseMimeType).toBe('application/json');
    expect(body.generationConfig.responseSchema.propertyOrdering.slice(0, 2)).toEqual(['emotion', 'chinese_content']);
    expect(body.generationConfig.responseSchema.properties.emotion.enum).toContain('sulking');
    // The schema derived from the zod contract reaches the API as it is (the SDK keeps the ordering).
    expect(body.generationConfig.responseSchema).toEqual(geminiSchemaOf(AgentReply));
    expect(body.generationConfig.thinkingConfig).toEqual({ thinkingBudget: 0 });
  });

  it.each([
    [429, 'rate_limited', true],
    [500, 'server', true],
    [503, 'server', true],
    [400, 'rejected', false],
    [403, 'rejected', false],
  ])('classifies HTTP %i as %s', async (status, kind, retryable) => {
    fake.enqueue({ kind: 'error', status });
    const error = await failure(llm().generateReply(prompt, new AbortController().signal));
    expect(error).toMatchObject({ kind, status, retryable });
    expect(error.message).not.toContain('secret-key');
  });

  it('never repeats the API key in an error, even when the server quotes it', async () => {
    fake.enqueue({ kind: 'error', status: 400, message: 'API key secret-key not valid' });
    const error = await failure(llm().generateReply(prompt, new AbortController().signal));
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain('secret-key');
  });

  it('times out a silent server within its timeout', async () => {
    fake.enqueue({ kind: 'hang' });
    const started = Date.now();
    const error = await failure(llm(300).generateReply(prompt, new AbortController().signal));
    expect(error.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it("stops when the caller aborts, and says it was the caller's doing", async () => {
    fake.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(llm().generateReply(prompt, controller.signal));
    expect(error).toMatchObject({ kind: 'aborted', retryable: false });
  });

  it('rejects output that is not JSON, or JSON without her line', async () => {
    fake.enqueue({ kind: 'garbage' }, { kind: 'reply', body: { ...valid, chinese_content: '' } });
    expect((await failure(llm().generateReply(prompt, new AbortController().signal))).kind).toBe('invalid_output');
    expect((await failure(llm().generateReply(prompt, new AbortController().signal))).kind).toBe('invalid_output');
  });

  it('reports a refused connection as a network error', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const error = await failure(llm(1_000, closed).generateReply(prompt, new AbortController().signal));
    expect(error.kind).toBe('network');
  });
});
