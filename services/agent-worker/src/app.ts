import {
  ConversationStore,
  createQueue,
  LearnerStore,
  type Logger,
  Outbox,
  parseJobData,
  queueCatalog,
  type Redis,
  type Registry,
  redisKeys,
  registerQueueDepth,
  type TurnCancellations,
} from '@xiaoyue/shared';
import { Worker } from 'bullmq';
import { enforceTurnDeadline } from './deadline.js';
import type { AgentEnv } from './env.js';
import { judgeAnswer } from './judge.js';
import type { TutorLlm } from './llm/types.js';
import { createAgentMetrics } from './metrics.js';
import { answerTurn, RateLimited, type TurnDeps } from './turn.js';

export interface AgentWorkerDeps {
  env: AgentEnv;
  logger: Logger;
  /** Worker-profile connection: waits out Redis restarts. */
  redis: Redis;
  llm: TutorLlm;
  metrics: Registry;
  /** Lets learners interrupt streaming turns; without it they run to the end. */
  cancellations?: TurnCancellations;
}

export interface AgentWorkers {
  chat: Worker;
  turnDeadline: Worker;
  /** Translations the rules graded wrong, judged by the LLM. */
  quizJudge: Worker;
  /** Stops taking jobs, lets running turns finish, then closes its queues. */
  close(): Promise<void>;
}

/** Builds and starts the agent's BullMQ workers (chat turns and the turn-deadline watchdog). */
export function startAgentWorkers({
  env,
  logger,
  redis,
  llm,
  metrics: registry,
  cancellations,
}: AgentWorkerDeps): AgentWorkers {
  const keys = redisKeys(env.QUEUE_PREFIX);
  const outbox = new Outbox(redis, keys, { maxEvents: env.OUTBOX_MAX_EVENTS, ttlSeconds: env.OUTBOX_TTL_SECONDS });
  const store = new ConversationStore(redis, keys, {
    historyTurns: env.HISTORY_TURNS,
    ttlSeconds: env.STATE_TTL_SECONDS,
    sulkDecayMs: env.SULK_DECAY_MINUTES * 60_000,
  });
  const learners = new LearnerStore(redis, keys, { quizTtlSeconds: env.STATE_TTL_SECONDS });
  const ttsQueue = createQueue(queueCatalog.tts, redis, env.QUEUE_PREFIX);
  const chatQueue = createQueue(queueCatalog.chat, redis, env.QUEUE_PREFIX);
  const pendingReplyTtlSeconds = Math.ceil((env.TURN_TIMEOUT_MS * 2) / 1000) + 60;
  const metrics = createAgentMetrics(registry);
  registerQueueDepth(registry, [chatQueue]);
  const turnDeps: TurnDeps = {
    llm,
    store,
    learners,
    historyTurns: env.HISTORY_TURNS,
    outbox,
    redis,
    keys,
    ttsQueue,
    logger,
    llmMaxAttempts: env.LLM_MAX_ATTEMPTS,
    pendingReplyTtlSeconds,
    metrics,
    cancellations,
  };

  const chat = new Worker(
    queueCatalog.chat.name,
    async (job, _token, signal) => {
      if (job.attemptsMade === 0) {
        metrics.queueWait.observe({ queue: queueCatalog.chat.name }, (Date.now() - job.timestamp) / 1000);
      }
      try {
        return await answerTurn(parseJobData(queueCatalog.chat, job), turnDeps, signal);
      } catch (error) {
        if (!(error instanceof RateLimited)) throw error;
        logger.warn({ jobId: job.id, pauseMs: error.pauseMs }, 'LLM rate limited: pausing the chat queue');
        metrics.rateLimitPauses.inc();
        await chat.rateLimit(error.pauseMs);
        throw Worker.RateLimitError();
      }
    },
    {
      connection: redis,
      prefix: env.QUEUE_PREFIX,
      concurrency: env.AGENT_CONCURRENCY,
      ...queueCatalog.chat.workerOptions,
    },
  );
  const turnDeadline = new Worker(
    queueCatalog.turnDeadline.name,
    async (job) =>
      enforceTurnDeadline(parseJobData(queueCatalog.turnDeadline, job), {
        outbox,
        store,
        redis,
        keys,
        logger,
        pendingReplyTtlSeconds,
        onFallback: () => metrics.fallbacks.inc({ reason: 'deadline' }),
      }),
    { connection: redis, prefix: env.QUEUE_PREFIX, concurrency: 16, ...queueCatalog.turnDeadline.workerOptions },
  );
  const quizJudge = new Worker(
    queueCatalog.quizJudge.name,
    async (job, _token, signal) =>
      judgeAnswer(parseJobData(queueCatalog.quizJudge, job), { llm, learners, outbox, logger }, signal),
    { connection: redis, prefix: env.QUEUE_PREFIX, concurrency: 16, ...queueCatalog.quizJudge.workerOptions },
  );
  for (const worker of [chat, turnDeadline, quizJudge]) {
    worker.on('failed', (job, err) =>
      logger.error({ jobId: job?.id, queue: worker.name, err: err.message }, 'job failed'),
    );
    worker.on('error', (err) => logger.warn({ queue: worker.name, err: err.message }, 'worker error'));
  }

  return {
    chat,
    turnDeadline,
    quizJudge,
    async close() {
      await Promise.all([chat.close(), turnDeadline.close(), quizJudge.close()]);
      await Promise.all([ttsQueue.close(), chatQueue.close()]);
    },
  };
}
