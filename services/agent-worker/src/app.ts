import {
  ConversationStore,
  createQueue,
  LearnerStore,
  type Logger,
  learnerStoreOptionsFrom,
  Outbox,
  outboxOptionsFrom,
  PauseQueue,
  type QueuesConsumedBy,
  queueCatalog,
  type RedisClient,
  type Registry,
  redisKeys,
  registerQueueDepth,
  type ServiceWorkers,
  startWorkers,
  type TurnCancellations,
  TurnDeadlines,
} from '@xiaoyue/shared';
import { type DeadlineDeps, enforceTurnDeadline } from './deadline.js';
import { TurnDeadlineSweep } from './deadline-sweep.js';
import type { AgentEnv } from './env.js';
import { judgeAnswer } from './judge.js';
import type { TutorLlm } from './llm/types.js';
import { createAgentMetrics } from './metrics.js';
import { answerTurn, RateLimited, type TurnDeps } from './turn.js';

export interface AgentWorkerDeps {
  env: AgentEnv;
  logger: Logger;
  /** Worker-profile connection: waits out Redis restarts. */
  redis: RedisClient;
  llm: TutorLlm;
  metrics: Registry;
  /** Lets learners interrupt streaming turns; without it they run to the end. */
  cancellations?: TurnCancellations;
}

export type AgentWorkers = ServiceWorkers<QueuesConsumedBy<'agent-worker'>>;

/** A claimed deadline is another agent's to answer after this long (its sweeper died). */
const DEADLINE_LEASE_MS = 10_000;

/**
 * Starts the agent's queue workers (chat turns on a stream, and on BullMQ the quiz judge plus the
 * chat and turn-deadline jobs that gateways of the previous release still queue) and its
 * turn-deadline sweeper.
 */
export function startAgentWorkers({
  env,
  logger,
  redis,
  llm,
  metrics: registry,
  cancellations,
}: AgentWorkerDeps): AgentWorkers {
  const keys = redisKeys(env.QUEUE_PREFIX);
  const outbox = new Outbox(redis, keys, outboxOptionsFrom(env));
  const store = new ConversationStore(redis, keys, {
    historyTurns: env.HISTORY_TURNS,
    ttlSeconds: env.STATE_TTL_SECONDS,
    sulkDecayMs: env.SULK_DECAY_MINUTES * 60_000,
  });
  const learners = new LearnerStore(redis, keys, learnerStoreOptionsFrom(env));
  const partitions = env.QUEUE_PARTITIONS;
  const ttsQueue = createQueue(queueCatalog.tts, redis, env.QUEUE_PREFIX, { partitions });
  const chatQueue = createQueue(queueCatalog.chat, redis, env.QUEUE_PREFIX, { partitions });
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

  const deadlineDeps: DeadlineDeps = {
    outbox,
    store,
    redis,
    keys,
    logger,
    pendingReplyTtlSeconds,
    onFallback: () => metrics.fallbacks.inc({ reason: 'deadline' }),
  };
  const deadlineSweep = new TurnDeadlineSweep({
    deadlines: new TurnDeadlines(redis, keys, partitions),
    enforce: (job) => enforceTurnDeadline(job, deadlineDeps),
    logger,
    // Below TURN_TIMEOUT_MS, so that a deadline scheduled while the sweeper sleeps is not slept past.
    idleMs: Math.min(5_000, Math.floor(env.TURN_TIMEOUT_MS / 2)),
    leaseMs: DEADLINE_LEASE_MS,
  });

  const workers = startWorkers(
    'agent-worker',
    {
      async chat(job, { signal }) {
        try {
          return await answerTurn(job, turnDeps, signal);
        } catch (error) {
          if (!(error instanceof RateLimited)) throw error;
          // The LLM answered 429 with time to spare: the turn goes back to the queue, which pauses.
          metrics.rateLimitPauses.inc();
          throw new PauseQueue(error.pauseMs, error.message);
        }
      },
      // Jobs queued by gateways of the previous release (deadlines are now a sorted set).
      turnDeadline: (job) => enforceTurnDeadline(job, deadlineDeps),
      quizJudge: (job, { signal }) => judgeAnswer(job, { llm, learners, outbox, logger }, signal),
    },
    {
      connection: redis,
      prefix: env.QUEUE_PREFIX,
      logger,
      metrics: registry,
      // A stream queue's concurrency is shared by its partitions: ceil(AGENT_CONCURRENCY / QUEUE_PARTITIONS) each.
      concurrency: { chat: env.AGENT_CONCURRENCY, turnDeadline: 16, quizJudge: 16 },
      partitions,
    },
  );
  return {
    ...workers,
    async close() {
      await Promise.all([workers.close(), deadlineSweep.close()]);
      await Promise.all([ttsQueue.close(), chatQueue.close()]);
    },
  };
}
