import {
  closeRedis,
  connectRedis,
  createMetricsRegistry,
  createWorkerRedis,
  logRedisErrors,
  redisKeys,
  runWorkerService,
  TurnCancellations,
} from '@xiaoyue/shared';
import { startAgentWorkers } from './app.js';
import { llmModelOf, loadAgentEnv } from './env.js';
import { createTutorLlm } from './llm/index.js';

runWorkerService({
  name: 'agent-worker',
  loadEnv: loadAgentEnv,
  async start({ env, logger, redis, redisTopology }) {
    const llm = createTutorLlm(env);
    const model = llmModelOf(env);
    if (llm.name === 'offline') {
      logger.warn(
        'offline practice mode: no LLM; XiaoYue answers from her phrasebook (set GEMINI_API_KEY, or LLM_PROVIDER=openai with OPENAI_MODEL, for the real tutor)',
      );
    }
    // Gateways tell learners in `welcome` whether they talk to an LLM (`online`: Gemini or an
    // OpenAI-compatible model; it also lets the gateway ask for translation judgements) or the
    // offline tutor. The wire keeps these two values; which provider and model is in `describe`.
    await redis.set(redisKeys(env.QUEUE_PREFIX).agentMode(), llm.name === 'offline' ? 'offline' : 'online');
    const metrics = createMetricsRegistry('agent-worker');
    const cancelSubscriber = createWorkerRedis(redisTopology, 'agent-worker-cancel');
    // Without a listener a lost Redis would print an "Unhandled error event" stack trace per retry.
    logRedisErrors(cancelSubscriber, logger, 'agent-worker-cancel');
    await connectRedis(cancelSubscriber);
    const cancellations = await TurnCancellations.listen(redis, cancelSubscriber, redisKeys(env.QUEUE_PREFIX));
    const agent = startAgentWorkers({ env, logger, redis, llm, metrics, cancellations });
    return {
      // All of them (chat, turn-deadline, quiz-judge): readiness fails if any one stops.
      workers: agent.workers,
      // Which mind, in the `agent-worker ready` log line.
      describe: {
        llm: llm.name,
        model,
        ...(llm.name === 'openai' ? { baseUrl: env.OPENAI_BASE_URL, jsonMode: env.OPENAI_JSON_MODE } : {}),
      },
      close: async () => {
        await agent.close();
        await closeRedis(cancelSubscriber);
      },
      metrics,
    };
  },
});
