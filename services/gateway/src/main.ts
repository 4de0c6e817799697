import {
  closeRedis,
  connectRedis,
  createLogger,
  createProducerRedis,
  createQueue,
  createWorkerRedis,
  describeRedisTopology,
  exitOnStartupError,
  logQueueErrors,
  logRedisErrors,
  queueCatalog,
  redisTopologyFrom,
  shutdownOnSignals,
  startHealthServer,
} from '@xiaoyue/shared';
import { buildGateway } from './app.js';
import { loadGatewayEnv } from './env.js';

async function main(): Promise<void> {
  const env = loadGatewayEnv();
  const logger = createLogger('gateway', env.LOG_LEVEL);
  const topology = redisTopologyFrom(env);
  const redis = createProducerRedis(topology, 'gateway');
  const subscriber = createWorkerRedis(topology, 'gateway-subscriber');
  const queueConnection = createProducerRedis(topology, 'gateway-queues');
  logRedisErrors(redis, logger, 'gateway');
  logRedisErrors(subscriber, logger, 'gateway-subscriber');
  logRedisErrors(queueConnection, logger, 'gateway-queues');
  await Promise.all([connectRedis(redis), connectRedis(subscriber), connectRedis(queueConnection)]);
  const queues = {
    chat: createQueue(queueCatalog.chat, queueConnection, env.QUEUE_PREFIX, { partitions: env.QUEUE_PARTITIONS }),
    tts: createQueue(queueCatalog.tts, queueConnection, env.QUEUE_PREFIX, { partitions: env.QUEUE_PARTITIONS }),
    quizJudge: createQueue(queueCatalog.quizJudge, queueConnection, env.QUEUE_PREFIX),
  };
  // Without a listener, BullMQ prints a stack trace for every retry while Redis is away.
  logQueueErrors(queues.quizJudge, logger, 'queue');

  if (env.AUTH_MODE === 'dev') {
    logger.warn('AUTH_MODE=dev: anonymous learners are accepted; never run a public gateway like this');
  }
  const gateway = await buildGateway({ env, logger, redis, subscriber, queues });
  await gateway.app.listen({ port: env.PORT, host: env.HOST });
  // Prometheus scrapes its own port, which need not be reachable from where learners are.
  const metricsServer =
    env.METRICS_PORT === undefined
      ? undefined
      : await startHealthServer({
          port: env.METRICS_PORT,
          host: env.HOST,
          isReady: gateway.isReady,
          metrics: gateway.metrics,
        });
  logger.info(
    { redis: describeRedisTopology(topology), prefix: env.QUEUE_PREFIX, metricsPort: metricsServer?.port },
    'gateway ready',
  );

  shutdownOnSignals(logger, env.SHUTDOWN_TIMEOUT_MS, [
    { name: 'fail readiness; close sockets with 1012 so clients resume elsewhere', run: () => gateway.drain() },
    { name: 'stop intake', run: () => gateway.app.close() },
    { name: 'close the metrics server', run: () => metricsServer?.close() },
    {
      name: 'close queue producers',
      run: () => Promise.all(Object.values(queues).map((q) => q.close())).then(() => {}),
    },
    {
      name: 'close Redis',
      run: () => Promise.all([redis, subscriber, queueConnection].map(closeRedis)).then(() => {}),
    },
  ]);
}

main().catch(exitOnStartupError('gateway'));
