import { EnvError, envKit, parseEnv, workerEnv } from '@xiaoyue/shared';
import { z } from 'zod';

export const agentEnvSchema = workerEnv.extend({
  /** `gemini`, or `offline` (the practice tutor, no network). Default: gemini when a key is set. */
  LLM_PROVIDER: z.enum(['gemini', 'offline']).optional(),
  GEMINI_API_KEY: z.string().optional(),
  GEMINI_MODEL: z.string().default('gemini-2.5-flash'),
  /** API root for proxies and local test servers; the SDK's default when unset. */
  GEMINI_BASE_URL: z.url().optional(),
  /** Time allowed for one LLM attempt. */
  LLM_TIMEOUT_MS: envKit.int(500, 300_000).default(12_000),
  /** Attempts on 429/5xx/timeouts/garbage before XiaoYue answers with her fallback line. */
  LLM_MAX_ATTEMPTS: envKit.int(1, 10).default(3),
  /** Chat turns one agent process works on at once (they are I/O-bound). */
  AGENT_CONCURRENCY: envKit.int(1, 1_000).default(32),
});
export type AgentEnv = z.infer<typeof agentEnvSchema>;

export type LlmProvider = NonNullable<AgentEnv['LLM_PROVIDER']>;

/** The LLM provider in force: the configured one, else Gemini when a key is set, else offline. */
export function llmProviderOf(env: AgentEnv): LlmProvider {
  return env.LLM_PROVIDER ?? (env.GEMINI_API_KEY ? 'gemini' : 'offline');
}

export function loadAgentEnv(source: NodeJS.ProcessEnv = process.env): AgentEnv {
  const env = parseEnv(agentEnvSchema, source);
  if (env.LLM_PROVIDER === 'gemini' && !env.GEMINI_API_KEY) {
    throw new EnvError('Invalid environment configuration:\n  GEMINI_API_KEY: required when LLM_PROVIDER=gemini');
  }
  return env;
}
