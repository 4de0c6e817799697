import { type AgentEnv, llmProviderOf } from '../env.js';
import { GeminiTutorLlm } from './gemini.js';
import { OfflineTutorLlm } from './offline/tutor.js';
import { OpenAiTutorLlm } from './openai.js';
import type { TutorLlm } from './types.js';

export type { TutorLlm } from './types.js';

/** Chooses the tutor LLM from configuration: Gemini, an OpenAI-compatible server, or the offline practice tutor. */
export function createTutorLlm(env: AgentEnv): TutorLlm {
  const provider = llmProviderOf(env);
  if (provider === 'offline') return new OfflineTutorLlm();
  if (provider === 'openai') {
    return new OpenAiTutorLlm({
      baseUrl: env.OPENAI_BASE_URL,
      apiKey: env.OPENAI_API_KEY,
      model: env.OPENAI_MODEL ?? '',
      jsonMode: env.OPENAI_JSON_MODE,
      timeoutMs: env.LLM_TIMEOUT_MS,
    });
  }
  return new GeminiTutorLlm({
    apiKey: env.GEMINI_API_KEY ?? '',
    model: env.GEMINI_MODEL,
    baseUrl: env.GEMINI_BASE_URL,
    timeoutMs: env.LLM_TIMEOUT_MS,
  });
}
