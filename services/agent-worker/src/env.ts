import { EnvError, envKit, parseEnv, workerEnv } from '@xiaoyue/shared';
import { z } from 'zod';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export const agentEnvSchema = workerEnv.extend({
  /**
   * `gemini`, `openai` (any OpenAI-compatible server: OPENAI_*), or `offline` (the practice tutor,
   * no network). Default: gemini when GEMINI_API_KEY is set, else offline.
   */
  LLM_PROVIDER: z.enum(['gemini', 'openai', 'offline']).optional(),
  GEMINI_API_KEY: z.string().optional(),
  GEMINI_MODEL: z.string().default('gemini-2.5-flash'),
  /** API root for proxies and local test servers; the SDK's default when unset. */
  GEMINI_BASE_URL: z.url().optional(),
  /** API root of an OpenAI-compatible server, up to `/v1` (Ollama: http://127.0.0.1:11434/v1). */
  OPENAI_BASE_URL: z.url().default(OPENAI_DEFAULT_BASE_URL),
  /** Optional for local servers (none is sent without it); required for api.openai.com. */
  OPENAI_API_KEY: z.string().optional(),
  /** The model name as the server knows it (gpt-4o-mini, qwen3:8b, deepseek-chat…); required for openai. */
  OPENAI_MODEL: z.string().optional(),
  /**
   * `json_schema` (strict structured output: OpenAI, recent Ollama, vLLM, LM Studio) or
   * `json_object` (JSON mode with the schema in the prompt: DeepSeek, several Qwen endpoints).
   */
  OPENAI_JSON_MODE: z.enum(['json_schema', 'json_object']).default('json_schema'),
  /** Time allowed for one LLM attempt. */
  LLM_TIMEOUT_MS: envKit.int(500, 300_000).default(12_000),
  /** Attempts on 429/5xx/timeouts/garbage before XiaoYue answers with her fallback line. */
  LLM_MAX_ATTEMPTS: envKit.int(1, 10).default(3),
  /** Chat turns one agent process works on at once (they are I/O-bound). */
  AGENT_CONCURRENCY: envKit.int(1, 1_000).default(32),
});
export type AgentEnv = z.infer<typeof agentEnvSchema>;

export type LlmProvider = NonNullable<AgentEnv['LLM_PROVIDER']>;

/** Which model the agents think with, for logs, `describe` and checks. */
export function llmModelOf(env: AgentEnv): string {
  const provider = llmProviderOf(env);
  if (provider === 'gemini') return env.GEMINI_MODEL;
  if (provider === 'openai') return env.OPENAI_MODEL ?? '';
  return 'phrasebook';
}

/** The LLM provider in force: the configured one, else Gemini when a key is set, else offline. */
export function llmProviderOf(env: AgentEnv): LlmProvider {
  return env.LLM_PROVIDER ?? (env.GEMINI_API_KEY ? 'gemini' : 'offline');
}

export function loadAgentEnv(source: NodeJS.ProcessEnv = process.env): AgentEnv {
  const env = parseEnv(agentEnvSchema, source);
  const problems: string[] = [];
  if (env.LLM_PROVIDER === 'gemini' && !env.GEMINI_API_KEY) {
    problems.push('GEMINI_API_KEY: required when LLM_PROVIDER=gemini');
  }
  if (env.LLM_PROVIDER === 'openai') {
    if (!env.OPENAI_MODEL) {
      problems.push('OPENAI_MODEL: required when LLM_PROVIDER=openai (gpt-4o-mini, or a local model such as qwen3:8b)');
    }
    if (!env.OPENAI_API_KEY && new URL(env.OPENAI_BASE_URL).hostname === new URL(OPENAI_DEFAULT_BASE_URL).hostname) {
      problems.push(
        `OPENAI_API_KEY: required for ${OPENAI_DEFAULT_BASE_URL} (set OPENAI_BASE_URL for a local server, which needs none)`,
      );
    }
  }
  if (problems.length > 0) {
    throw new EnvError(`Invalid environment configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return env;
}
