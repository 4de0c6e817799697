import { redisKeys, runWorkerService } from '@xiaoyue/shared';
import { startAgentWorkers } from './app.js';
import { loadAgentEnv } from './env.js';
import { createTutorLlm } from './llm/index.js';

runWorkerService({
  name: 'agent-worker',
  loadEnv: loadAgentEnv,
  async start({ env, logger, redis }) {
    const llm = createTutorLlm(env);
    if (llm.name === 'unconfigured') {
      logger.warn('GEMINI_API_KEY is not set: every turn will be answered with her fallback line');
    }
    // Gateways tell learners in `welcome` whether they talk to Gemini or the offline tutor.
    await redis.set(redisKeys(env.QUEUE_PREFIX).agentMode(), llm.name === 'gemini' ? 'online' : 'offline');
    const workers = startAgentWorkers({ env, logger, redis, llm });
    return {
      workers: [workers.chat, workers.turnDeadline],
      describe: { llm: llm.name, model: env.GEMINI_MODEL },
      close: () => workers.close(),
    };
  },
});
