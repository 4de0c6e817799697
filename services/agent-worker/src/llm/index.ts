import { type AgentEnv, llmProviderOf } from '../env.js';
import { GeminiTutorLlm } from './gemini.js';
import { OfflineTutorLlm } from './offline/tutor.js';
import type { TutorLlm } from './types.js';

export type { TutorLlm } from './types.js';

/** Chooses the tutor LLM from configuration: Gemini, or the offline practice tutor. */
export function createTutorLlm(env: AgentEnv): TutorLlm {
  if (llmProviderOf(env) === 'offline') return new OfflineTutorLlm();
  return new GeminiTutorLlm({
    apiKey: env.GEMINI_API_KEY ?? '',
    model: env.GEMINI_MODEL,
    baseUrl: env.GEMINI_BASE_URL,
    timeoutMs: env.LLM_TIMEOUT_MS,
  });
}
