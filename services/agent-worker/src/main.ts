import {
  closeRedis,
  connectRedis,
  createMetricsRegistry,
  createWorkerRedis,
  redisKeys,
  runWorkerService,
  TurnCancellations,
} from '@xiaoyue/shared';
import { startAgentWorkers } from './app.js';
import { loadAgentEnv } from './env.js';
import { createTutorLlm } from './llm/index.js';

runWorkerService({
  name: 'agent-worker',
  loadEnv: loadAgentEnv,
  async start({ env, logger, redis, redisTopology }) {
    const llm = createTutorLlm(env);
    if (llm.name === 'offline') {
      logger.warn(
        'offline practice mode: no Gemini; XiaoYue answers from her phrasebook (set GEMINI_API_KEY for the real tutor)',
      );
    }
    // Gateways tell learners in `welcome` whether they talk to Gemini or the offline tutor.
    await redis.set(redisKeys(env.QUEUE_PREFIX).agentMode(), llm.name === 'gemini' ? 'online' : 'offline');
    const metrics = createMetricsRegistry('agent-worker');
    const cancelSubscriber = await connectRedis(createWorkerRedis(redisTopology, 'agent-worker-cancel'));
    const cancellations = await TurnCancellations.listen(redis, cancelSubscriber, redisKeys(env.QUEUE_PREFIX));
    const agent = startAgentWorkers({ env, logger, redis, llm, metrics, cancellations });
    return {
      // All of them (chat, turn-deadline, quiz-judge): readiness fails if any one stops.
      workers: agent.workers,
      describe: { llm: llm.name, model: env.GEMINI_MODEL },
      close: async () => {
        await agent.close();
        await closeRedis(cancelSubscriber);
      },
      metrics,
    };
  },
});
