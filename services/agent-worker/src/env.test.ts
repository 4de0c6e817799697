import { EnvError } from '@xiaoyue/shared';
import { describe, expect, it } from 'vitest';
import { llmModelOf, llmProviderOf, loadAgentEnv } from './env.js';
import { LlmError } from './llm/types.js';
import { MAX_RATE_LIMIT_PAUSE_MS, RATE_LIMIT_PAUSE_MS, rateLimitPauseMs } from './turn.js';

describe('the LLM provider in the environment', () => {
  it('defaults to Gemini with a key, else offline; openai only when asked for', () => {
    expect(llmProviderOf(loadAgentEnv({ GEMINI_API_KEY: 'k' }))).toBe('gemini');
    expect(llmProviderOf(loadAgentEnv({}))).toBe('offline');
    expect(llmProviderOf(loadAgentEnv({ OPENAI_MODEL: 'gpt-4o-mini', OPENAI_API_KEY: 'k' }))).toBe('offline');
    const env = loadAgentEnv({
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      OPENAI_MODEL: 'qwen3:8b',
    });
    expect(llmProviderOf(env)).toBe('openai');
    expect(llmModelOf(env)).toBe('qwen3:8b');
    expect(env.OPENAI_JSON_MODE).toBe('json_schema');
    expect(env.OPENAI_API_KEY).toBeUndefined();
  });

  it('fails fast, naming the variable, when openai lacks a model, or a key for api.openai.com', () => {
    expect(() => loadAgentEnv({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'k' })).toThrow(EnvError);
    expect(() => loadAgentEnv({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'k' })).toThrow(/OPENAI_MODEL: required/);
    expect(() => loadAgentEnv({ LLM_PROVIDER: 'openai', OPENAI_MODEL: 'gpt-4o-mini' })).toThrow(
      /OPENAI_API_KEY: required for https:\/\/api\.openai\.com\/v1/,
    );
    expect(() =>
      loadAgentEnv({
        LLM_PROVIDER: 'openai',
        OPENAI_MODEL: 'm',
        OPENAI_BASE_URL: 'http://x/v1',
        OPENAI_JSON_MODE: 'yaml',
      }),
    ).toThrow(/OPENAI_JSON_MODE/);
  });
});

describe('the queue pause after a 429', () => {
  it("follows the server's retry-after within bounds, else the default", () => {
    const limited = (retryAfterMs?: number) => new LlmError('429', 'rate_limited', 429, { retryAfterMs });
    expect(rateLimitPauseMs(limited())).toBe(RATE_LIMIT_PAUSE_MS);
    expect(rateLimitPauseMs(limited(3_000))).toBe(3_000);
    expect(rateLimitPauseMs(limited(0))).toBe(RATE_LIMIT_PAUSE_MS);
    expect(rateLimitPauseMs(limited(3_600_000))).toBe(MAX_RATE_LIMIT_PAUSE_MS);
  });
});
