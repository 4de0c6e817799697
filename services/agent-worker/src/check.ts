// `pnpm check llm` (or `gemini`): can the agent reach its LLM with this configuration? One
// request: a tiny structured one (OpenAI-compatible servers: is the JSON schema honoured?), or a
// reply to 你好 (Gemini, which enforces its response schema).
import { DEFAULT_USER_ROLE } from '@xiaoyue/shared';
import { llmModelOf, llmProviderOf, loadAgentEnv } from './env.js';
import { createTutorLlm } from './llm/index.js';
import { buildTutorPrompt } from './prompt.js';

const label = process.argv[2] === 'gemini' ? 'gemini' : 'llm';

async function checkLlm(): Promise<boolean> {
  const env = loadAgentEnv();
  const provider = llmProviderOf(env);
  if (label === 'gemini' && provider !== 'gemini') {
    console.log('FAIL gemini: GEMINI_API_KEY is not set (the agents would run the offline practice tutor instead)');
    return false;
  }
  if (provider === 'offline') {
    console.log(
      'FAIL llm: no LLM is configured (set GEMINI_API_KEY, or LLM_PROVIDER=openai with OPENAI_MODEL); the agents would run the offline practice tutor instead',
    );
    return false;
  }
  const llm = createTutorLlm(env);
  const model = llmModelOf(env);
  const signal = AbortSignal.timeout(Math.max(env.LLM_TIMEOUT_MS, 5_000));
  const started = Date.now();
  try {
    if (llm.probe) {
      const probe = await llm.probe(signal);
      const ms = Date.now() - started;
      const where = `${provider} ${probe.model} at ${env.OPENAI_BASE_URL}`;
      if (probe.honoured) {
        console.log(`PASS ${label}: ${where} answered in ${ms} ms; ${probe.schemaMode} honoured`);
        return true;
      }
      const advice =
        probe.schemaMode === 'json_schema' ? ' (try OPENAI_JSON_MODE=json_object)' : ' (try a stronger model)';
      console.log(
        `FAIL ${label}: ${where} answered in ${ms} ms but ${probe.schemaMode} was not honoured: ${probe.detail}${advice}`,
      );
      return false;
    }
    const prompt = buildTutorPrompt({
      history: [],
      userMessage: '你好！',
      userRole: DEFAULT_USER_ROLE,
      sulkingLevel: 0,
    });
    const reply = await llm.generateReply(prompt, signal);
    console.log(
      `PASS ${label}: ${model} answered in ${Date.now() - started} ms (response schema honoured): ${reply.chinese_content}`,
    );
    return true;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const advice =
      provider === 'openai' &&
      env.OPENAI_JSON_MODE === 'json_schema' &&
      /\b400\b.*(response_format|json_schema)/i.test(why)
        ? ' (the server may not take JSON schemas: try OPENAI_JSON_MODE=json_object)'
        : '';
    console.log(`FAIL ${label}: ${provider} ${model}: ${why}${advice}`);
    return false;
  }
}

checkLlm().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    console.log(`FAIL ${label}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
