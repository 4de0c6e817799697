import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

export type { Cluster, Redis };

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/**
 * A connection to XiaoYue's Redis, whatever its topology: one server (or a Sentinel-managed
 * primary, which ioredis follows through failovers) is a `Redis`; a Redis Cluster is a `Cluster`.
 * Both take the same commands, scripts and MULTI (whose keys share one hash tag).
 */
export type RedisClient = Redis | Cluster;

export interface RedisNode {
  host: string;
  port: number;
}

/** How the services reach Redis: chosen by configuration (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS). */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisNode[]; auth: RedisAuth }
  | { kind: 'sentinel'; sentinels: RedisNode[]; primaryName: string; auth: RedisAuth; sentinelPassword?: string };

export interface RedisAuth {
  username?: string;
  password?: string;
  /** TLS to every node (rediss:// for a single URL). */
  tls: boolean;
}

/** `host:port,host:port` as a list of nodes (the host may be a name or an IPv4 address). */
export function parseRedisNodes(text: string): RedisNode[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const match = /^([^:\s]+):(\d{1,5})$/.exec(part);
      if (!match) throw new Error(`"${part}" is not host:port`);
      return { host: match[1] as string, port: Number(match[2]) };
    });
}

/** The topology, for logs: no credentials. */
export function describeRedisTopology(topology: RedisTopology): string {
  const nodes = (list: RedisNode[]) => list.map((n) => `${n.host}:${n.port}`).join(',');
  switch (topology.kind) {
    case 'single':
      return describeRedisUrl(topology.url);
    case 'cluster':
      return `cluster ${nodes(topology.nodes)}${topology.auth.tls ? ' (tls)' : ''}`;
    case 'sentinel':
      return `sentinel ${topology.primaryName}@${nodes(topology.sentinels)}${topology.auth.tls ? ' (tls)' : ''}`;
  }
}

/** A REDIS_URL safe to log: credentials removed. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.username) parsed.username = '***';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/** Options of a connection profile, for one node (also each node of a cluster). */
type Profile = Pick<RedisOptions, 'maxRetriesPerRequest' | 'enableOfflineQueue' | 'enableReadyCheck'>;

/**
 * Producer profile: for request paths (the gateway, enqueueing, reads). Commands fail fast while
 * Redis is unreachable instead of piling up in memory, so a request gets a clear error.
 */
const PRODUCER: Profile = { enableOfflineQueue: false, maxRetriesPerRequest: 1 };

/**
 * Worker profile: for BullMQ workers and subscribers, which must wait out a Redis restart or a
 * failover rather than fail (BullMQ requires `maxRetriesPerRequest: null`).
 */
const WORKER: Profile = { maxRetriesPerRequest: null, enableReadyCheck: true };

/** A single Redis URL is a `Redis`; a topology from the environment may be a cluster. */
export function createProducerRedis(url: string, connectionName: string, extra?: RedisOptions): Redis;
export function createProducerRedis(topology: RedisTopology, connectionName: string, extra?: RedisOptions): RedisClient;
export function createProducerRedis(
  topology: RedisTopology | string,
  connectionName: string,
  extra: RedisOptions = {},
): RedisClient {
  return createRedis(topology, connectionName, PRODUCER, extra);
}

export function createWorkerRedis(url: string, connectionName: string, extra?: RedisOptions): Redis;
export function createWorkerRedis(topology: RedisTopology, connectionName: string, extra?: RedisOptions): RedisClient;
export function createWorkerRedis(
  topology: RedisTopology | string,
  connectionName: string,
  extra: RedisOptions = {},
): RedisClient {
  return createRedis(topology, connectionName, WORKER, extra);
}

/** The nodes a cluster client was configured with, to say what they are when it cannot connect. */
const seedNodes = new WeakMap<Cluster, RedisNode[]>();

/** Retries a lost connection every 0.1-2 s; the services log it once (see `logRedisErrors`). */
const retryStrategy = (attempt: number) => Math.min(100 * attempt, 2_000);

function createRedis(
  where: RedisTopology | string,
  connectionName: string,
  profile: Profile,
  extra: RedisOptions,
): RedisClient {
  const topology: RedisTopology = typeof where === 'string' ? { kind: 'single', url: where } : where;
  const common: RedisOptions = { connectionName, lazyConnect: true, retryStrategy, ...profile, ...extra };
  switch (topology.kind) {
    case 'single':
      return new Redis(topology.url, common);
    case 'sentinel':
      return new Redis({
        ...common,
        ...authOptions(topology.auth),
        sentinels: topology.sentinels,
        name: topology.primaryName,
        sentinelPassword: topology.sentinelPassword,
        enableTLSForSentinelMode: topology.auth.tls,
        // A failover is a reconnect to the new primary; a READONLY reply means we still talk to
        // the demoted one: reconnect (ioredis then asks the sentinels again).
        reconnectOnError: (err) => err.message.startsWith('READONLY'),
      });
    case 'cluster': {
      const { enableOfflineQueue, lazyConnect, ...perNode } = common;
      const options: ClusterOptions = {
        lazyConnect,
        enableOfflineQueue: enableOfflineQueue ?? true,
        enableReadyCheck: true,
        // Per-learner delivery: SSUBSCRIBE goes to the shard that owns the learner's slot.
        shardedSubscribers: true,
        // Many small commands for many learners: batched per node, not one round trip each.
        enableAutoPipelining: true,
        clusterRetryStrategy: retryStrategy,
        // After a failover the promoted replica answers within a few seconds: keep retrying moves.
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 300,
        redisOptions: { ...perNode, ...authOptions(topology.auth) },
      };
      const cluster = new Cluster(topology.nodes, options);
      seedNodes.set(cluster, topology.nodes);
      return cluster;
    }
  }
}

function authOptions(auth: RedisAuth): RedisOptions {
  return { username: auth.username, password: auth.password, tls: auth.tls ? {} : undefined };
}

/** Thrown at start when the configured topology is not the one Redis runs: says what to set. */
export class RedisTopologyError extends Error {
  override name = 'RedisTopologyError';
}

/**
 * Connects a lazy client and resolves once it answers and is the topology it was configured as;
 * rejects after `timeoutMs`, or with a RedisTopologyError that says what to set.
 */
export async function connectRedis<C extends RedisClient>(redis: C, timeoutMs = 10_000): Promise<C> {
  if (redis.status === 'ready') return redis;
  {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not become ready within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const ready = new Promise<void>((resolve) => {
        redis.once('ready', () => resolve());
      });
      if (redis.status === 'wait') await Promise.race([redis.connect(), timeout]);
      if ((redis.status as string) !== 'ready') await Promise.race([ready, timeout]);
    } catch (error) {
      throw await explainTopologyMismatch(redis, error);
    } finally {
      clearTimeout(timer);
    }
  }
  const info = await redis.info();
  const version = /redis_version:(\d+)/.exec(info)?.[1];
  if (version !== undefined && Number(version) < 7) {
    throw new RedisTopologyError(`XiaoYue needs Redis 7 or later (sharded pub/sub); this server runs Redis ${version}`);
  }
  if (!isCluster(redis) && info.includes('cluster_enabled:1')) {
    throw new RedisTopologyError(
      'REDIS_URL points at a node of a Redis Cluster: set REDIS_CLUSTER_NODES=host:port,host:port (a few of its nodes) instead of REDIS_URL',
    );
  }
  return redis;
}

/** Why a cluster client could not connect, when the reason is that its nodes are no cluster. */
async function explainTopologyMismatch(redis: RedisClient, error: unknown): Promise<unknown> {
  if (!isCluster(redis)) return error;
  const first = seedNodes.get(redis)?.[0];
  if (!first) return error;
  const probe = new Redis({
    ...redis.options.redisOptions,
    host: first.host,
    port: first.port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    if ((await probe.info('cluster')).includes('cluster_enabled:0')) {
      return new RedisTopologyError(
        `REDIS_CLUSTER_NODES names ${first.host}:${first.port}, which is not a Redis Cluster node: for a single Redis set REDIS_URL instead`,
      );
    }
  } catch {
    // unreachable: the original error says so
  } finally {
    probe.disconnect();
  }
  return error;
}

/** Closes politely, and forcibly if QUIT does not answer (e.g. Redis is already gone). */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1_000))]);
  } catch {
    // already closing or unreachable: disconnect below
  }
  redis.disconnect();
}

type OutageLogger = { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };

/** One service's view of its Redis: down since when, and the lines left out since the last one. */
interface Outage {
  down: boolean;
  since: number;
  lastLine: number;
  leftOut: number;
}
const outages = new WeakMap<object, Outage>();
/** How often a Redis that stays away is mentioned again. */
const OUTAGE_REMINDER_MS = 60_000;
/** Errors that mean "cannot reach Redis" (as opposed to a failing command or script). */
const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|Connection is closed|Stream isn't writeable|connect |CLUSTERDOWN|MASTERDOWN|LOADING/i;

function outageOf(logger: object): Outage {
  let outage = outages.get(logger);
  if (!outage) {
    outage = { down: false, since: 0, lastLine: 0, leftOut: 0 };
    outages.set(logger, outage);
  }
  return outage;
}

/**
 * Records that `source` (a connection, a queue, a worker) cannot reach Redis. A service logs one
 * line when its Redis goes away, whichever of its connections notices first, then one a minute
 * while it stays away (with how many errors it left out), and one when it is back: a Redis that is
 * down for minutes is a handful of lines, not one per connection and retry.
 */
export function reportRedisUnreachable(logger: OutageLogger, source: string, err: Error, now = Date.now()): void {
  const outage = outageOf(logger);
  if (!outage.down) {
    Object.assign(outage, { down: true, since: now, lastLine: now, leftOut: 0 });
    logger.warn({ err: err.message, connection: source }, 'redis connection lost; retrying');
    return;
  }
  if (now - outage.lastLine < OUTAGE_REMINDER_MS) {
    outage.leftOut++;
    return;
  }
  logger.warn(
    { err: err.message, downSeconds: Math.round((now - outage.since) / 1000), leftOut: outage.leftOut },
    'redis still unreachable; retrying',
  );
  Object.assign(outage, { lastLine: now, leftOut: 0 });
}

function reportRedisBack(logger: OutageLogger, source: string): void {
  const outage = outageOf(logger);
  if (!outage.down) return;
  outage.down = false;
  logger.info(
    { connection: source, downSeconds: Math.round((Date.now() - outage.since) / 1000) },
    'redis connection back',
  );
}

/**
 * Logs a lost Redis once per outage for the whole service (and once when it is back), not once
 * per connection and retry: a Redis that is down for minutes would otherwise write thousands of
 * identical lines. See `reportRedisUnreachable`.
 */
export function logRedisErrors(redis: RedisClient, logger: OutageLogger, name: string): void {
  redis.on('error', (err: Error) => reportRedisUnreachable(logger, name, err));
  redis.on('ready', () => reportRedisBack(logger, name));
}

/**
 * Logs the 'error' events of something that retries a lost Redis by itself (a BullMQ Queue or
 * Worker emits one per retry). Without a listener BullMQ prints each one as a stack trace.
 * "Cannot reach Redis" joins the service's outage (`reportRedisUnreachable`); any other error is
 * logged at most once a minute per emitter, with how many were left out.
 */
export function logQueueErrors(
  emitter: { name: string; on(event: 'error', listener: (err: Error) => void): unknown },
  logger: OutageLogger,
  kind: 'queue' | 'worker',
): void {
  let lastLine = Number.NEGATIVE_INFINITY;
  let leftOut = 0;
  emitter.on('error', (err: Error) => {
    if (UNREACHABLE.test(err.message) || outageOf(logger).down) {
      reportRedisUnreachable(logger, `${kind} ${emitter.name}`, err);
      return;
    }
    const now = Date.now();
    if (now - lastLine < OUTAGE_REMINDER_MS) {
      leftOut++;
      return;
    }
    logger.warn({ queue: emitter.name, err: err.message, ...(leftOut > 0 ? { leftOut } : {}) }, `${kind} error`);
    lastLine = now;
    leftOut = 0;
  });
}
