// `pnpm check gemini`: can the agent reach Gemini with this configuration? Asks one question.
import { DEFAULT_USER_ROLE } from '@xiaoyue/shared';
import { llmProviderOf, loadAgentEnv } from './env.js';
import { createTutorLlm } from './llm/index.js';
import { buildTutorPrompt } from './prompt.js';

async function checkGemini(): Promise<boolean> {
  const env = loadAgentEnv();
  if (llmProviderOf(env) !== 'gemini') {
    console.log('FAIL gemini: GEMINI_API_KEY is not set (the agents would run the offline practice tutor instead)');
    return false;
  }
  const llm = createTutorLlm(env);
  const prompt = buildTutorPrompt({ history: [], userMessage: '你好！', userRole: DEFAULT_USER_ROLE, sulkingLevel: 0 });
  const started = Date.now();
  try {
    const reply = await llm.generateReply(prompt, AbortSignal.timeout(Math.max(env.LLM_TIMEOUT_MS, 5_000)));
    console.log(`PASS gemini: ${env.GEMINI_MODEL} answered in ${Date.now() - started} ms: ${reply.chinese_content}`);
    return true;
  } catch (error) {
    console.log(`FAIL gemini: ${env.GEMINI_MODEL}: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

checkGemini().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    console.log(`FAIL gemini: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
