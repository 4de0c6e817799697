import type { z } from 'zod';
import { redisTopologyFrom, type workerEnv } from './env.js';
import { type HealthServer, startHealthServer } from './health-server.js';
import { exitOnStartupError, shutdownOnSignals } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import type { Registry } from './metrics.js';
import type { QueueWorker } from './queue-worker.js';
import {
  closeRedis,
  connectRedis,
  createWorkerRedis,
  describeRedisTopology,
  logRedisErrors,
  type RedisClient,
  type RedisTopology,
} from './redis.js';

type WorkerEnv = z.infer<typeof workerEnv>;

export interface StartedWorkers {
  workers: QueueWorker[];
  /** Logged with "ready": what this process runs (provider, model, voice…). */
  describe: Record<string, unknown>;
  /** Stops taking jobs and lets running ones finish. */
  close(): Promise<void>;
  /** Served on HEALTH_PORT at `/metrics`. */
  metrics?: Registry;
}

export interface WorkerServiceSpec<E extends WorkerEnv> {
  name: string;
  loadEnv: () => E;
  start(context: {
    env: E;
    logger: Logger;
    redis: RedisClient;
    redisTopology: RedisTopology;
  }): Promise<StartedWorkers> | StartedWorkers;
}

/**
 * The `main` of a worker service: parse env, connect Redis (worker profile), start the BullMQ
 * workers, serve probes on HEALTH_PORT, and shut down in order on SIGTERM: fail readiness, drain
 * the workers, close the probe server, close Redis.
 */
export function runWorkerService<E extends WorkerEnv>(spec: WorkerServiceSpec<E>): void {
  const main = async () => {
    const env = spec.loadEnv();
    const logger = createLogger(spec.name, env.LOG_LEVEL);
    const redisTopology = redisTopologyFrom(env);
    const redis = createWorkerRedis(redisTopology, spec.name);
    logRedisErrors(redis, logger, spec.name);
    await connectRedis(redis);
    const started = await spec.start({ env, logger, redis, redisTopology });
    let stopping = false;
    let health: HealthServer | undefined;
    if (env.HEALTH_PORT !== undefined) {
      health = await startHealthServer({
        port: env.HEALTH_PORT,
        host: env.HOST,
        isReady: () => !stopping && redis.status === 'ready' && started.workers.every((w) => w.isRunning()),
        metrics: started.metrics,
      });
    }
    logger.info(
      {
        redis: describeRedisTopology(redisTopology),
        prefix: env.QUEUE_PREFIX,
        healthPort: health?.port,
        ...started.describe,
      },
      `${spec.name} ready`,
    );
    shutdownOnSignals(logger, env.SHUTDOWN_TIMEOUT_MS, [
      { name: 'fail readiness', run: () => void (stopping = true) },
      { name: 'stop taking jobs; finish running ones', run: () => started.close() },
      { name: 'close the probe server', run: () => health?.close() },
      { name: 'close Redis', run: () => closeRedis(redis) },
    ]);
  };
  main().catch(exitOnStartupError(spec.name));
}
