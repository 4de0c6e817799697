import { z } from 'zod';
import { parseRedisNodes, type RedisTopology } from './redis.js';

export class EnvError extends Error {
  override name = 'EnvError';
}

/** Treats `VAR=` (empty) as unset, the way people write `.env` files. */
function withoutEmptyValues(source: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && value.trim() !== '') out[key] = value;
  }
  return out;
}

/**
 * Parses a service's environment once at start. A bad value throws an EnvError whose message
 * names every offending variable, so the service fails fast and readably.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, source: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(withoutEmptyValues(source));
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    return `  ${name}: ${issue.message}`;
  });
  throw new EnvError(`Invalid environment configuration:\n${problems.join('\n')}`);
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** Variables every service reads. Each service's own schema extends this object. */
export const commonEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Redis: exactly one of REDIS_URL (one server), REDIS_CLUSTER_NODES, REDIS_SENTINELS (see redisTopologyFrom).
  /** One Redis server; credentials and TLS (rediss://) in the URL. Default redis://127.0.0.1:6379. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Redis Cluster: a few of its nodes as host:port,host:port (the rest are discovered). */
  REDIS_CLUSTER_NODES: z.string().optional(),
  /** Sentinel: the sentinels as host:port,host:port, and the name of the primary they watch. */
  REDIS_SENTINELS: z.string().optional(),
  REDIS_SENTINEL_MASTER: z.string().default('mymaster'),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  /** Credentials and TLS for cluster nodes or the Sentinel-managed primary (and replicas). */
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_TLS: bool.default(false),
  /**
   * The chat and tts queues and the turn-deadline set are each split into this many partitions
   * (each its own hash tag: on a Redis Cluster they spread over the shards); a learner's partition
   * is a hash of the user id. Every service must run with the same value (docs/deployment.md).
   */
  QUEUE_PARTITIONS: int(1, 256).default(1),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"')
    .default('xiaoyue'),
  STATE_TTL_SECONDS: int(60, 365 * 24 * 3600).default(7 * 24 * 3600),
  TURN_TIMEOUT_MS: int(1_000, 600_000).default(30_000),
  HISTORY_TURNS: int(1, 200).default(20),
  /** Her sulk fades by one level after this many minutes without a change (0: never). */
  SULK_DECAY_MINUTES: int(0, 7 * 24 * 60).default(30),
  OUTBOX_MAX_EVENTS: int(10, 100_000).default(200),
  /** A learner's outbox stream keeps its newest events within this many bytes too (audio is tens of KB an event). */
  OUTBOX_MAX_BYTES: int(65_536, 512 * 1_048_576).default(2 * 1_048_576),
  OUTBOX_TTL_SECONDS: int(60, 7 * 24 * 3600).default(24 * 3600),
  // A learner's progress is bounded (see DEFAULT_LEARNER_BOUNDS in learning/learner-store.ts).
  /** An unanswered quiz can be answered this long (never longer than STATE_TTL_SECONDS). */
  QUIZ_TTL_SECONDS: int(60, 365 * 24 * 3600).default(24 * 3600),
  /** The newest quizzes kept per learner (turn and review quizzes together). */
  MAX_QUIZZES_PER_LEARNER: int(3, 10_000).default(50),
  /** Review cards kept per learner; over it the oldest learned card goes first, else the oldest. */
  MAX_CARDS_PER_LEARNER: int(10, 100_000).default(500),
  /** Words met counted exactly per learner; beyond, approximately (HyperLogLog). */
  MAX_EXACT_WORDS_PER_LEARNER: int(10, 1_000_000).default(2_500),
  SHUTDOWN_TIMEOUT_MS: int(100, 120_000).default(15_000),
});
export type CommonEnv = z.infer<typeof commonEnv>;

/** Variables of the worker services (agent, TTS). */
export const workerEnv = commonEnv.extend({
  /** Port of `/healthz` and `/readyz` for orchestrator probes; unset: no probe server. */
  HEALTH_PORT: int(0, 65_535).optional(),
  /** Address the probe server binds, as the gateway's HOST (127.0.0.1: this machine only). */
  HOST: z.string().default('0.0.0.0'),
});

export const envKit = { int, bool };

/** The outbox's bounds, as every service that appends or reads it configures them. */
export function outboxOptionsFrom(env: CommonEnv) {
  return { maxEvents: env.OUTBOX_MAX_EVENTS, maxBytes: env.OUTBOX_MAX_BYTES, ttlSeconds: env.OUTBOX_TTL_SECONDS };
}

/** A learner's progress bounds, as the gateway and the agents configure the learner store. */
export function learnerStoreOptionsFrom(env: CommonEnv) {
  return {
    quizTtlSeconds: env.STATE_TTL_SECONDS,
    bounds: {
      quizTtlSeconds: env.QUIZ_TTL_SECONDS,
      maxQuizzes: env.MAX_QUIZZES_PER_LEARNER,
      maxCards: env.MAX_CARDS_PER_LEARNER,
      maxExactWords: env.MAX_EXACT_WORDS_PER_LEARNER,
    },
  };
}

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The Redis topology the environment names: REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS
 * (none: the local default). Two of them at once is an EnvError that says which to keep.
 */
export function redisTopologyFrom(env: CommonEnv): RedisTopology {
  const named = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((name) => env[name]);
  if (named.length > 1) {
    throw new EnvError(
      `Invalid environment configuration:\n  ${named.join(', ')}: set only one (REDIS_URL for one server, REDIS_CLUSTER_NODES for a Redis Cluster, REDIS_SENTINELS for Sentinel)`,
    );
  }
  const auth = { username: env.REDIS_USERNAME, password: env.REDIS_PASSWORD, tls: env.REDIS_TLS };
  const nodes = (name: 'REDIS_CLUSTER_NODES' | 'REDIS_SENTINELS', text: string) => {
    try {
      const list = parseRedisNodes(text);
      if (list.length === 0) throw new Error('no nodes');
      return list;
    } catch (error) {
      throw new EnvError(
        `Invalid environment configuration:\n  ${name}: ${(error as Error).message} (expected host:port,host:port)`,
      );
    }
  };
  if (env.REDIS_CLUSTER_NODES)
    return { kind: 'cluster', nodes: nodes('REDIS_CLUSTER_NODES', env.REDIS_CLUSTER_NODES), auth };
  if (env.REDIS_SENTINELS) {
    return {
      kind: 'sentinel',
      sentinels: nodes('REDIS_SENTINELS', env.REDIS_SENTINELS),
      primaryName: env.REDIS_SENTINEL_MASTER,
      sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
      auth,
    };
  }
  return { kind: 'single', url: env.REDIS_URL ?? DEFAULT_REDIS_URL };
}
