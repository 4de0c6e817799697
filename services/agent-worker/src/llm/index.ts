import type { AgentEnv } from '../env.js';
import { GeminiTutorLlm } from './gemini.js';
import { LlmError, type TutorLlm } from './types.js';

export type { TutorLlm } from './types.js';

/** Without credentials every turn fails fast (not retryable) and XiaoYue answers her fallback line. */
class UnconfiguredTutorLlm implements TutorLlm {
  readonly name = 'unconfigured';
  async generateReply(): Promise<never> {
    throw new LlmError('GEMINI_API_KEY is not set', 'rejected');
  }
}

/** Chooses the tutor LLM from configuration. */
export function createTutorLlm(env: AgentEnv): TutorLlm {
  if (!env.GEMINI_API_KEY) return new UnconfiguredTutorLlm();
  return new GeminiTutorLlm({
    apiKey: env.GEMINI_API_KEY,
    model: env.GEMINI_MODEL,
    baseUrl: env.GEMINI_BASE_URL,
    timeoutMs: env.LLM_TIMEOUT_MS,
  });
}
