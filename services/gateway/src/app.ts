import { randomUUID, timingSafeEqual } from 'node:crypto';
import helmet from '@fastify/helmet';
import websocket from '@fastify/websocket';
import {
  AgentMode,
  type CatalogQueue,
  ConversationStore,
  createMetricsRegistry,
  errorFrame,
  type FrameLimits,
  LearnerStore,
  type Logger,
  learnerStoreOptionsFrom,
  Outbox,
  outboxOptionsFrom,
  parseTtsVoiceInfo,
  type RedisClient,
  type Registry,
  redisKeys,
  registerQueueDepth,
  requestTurnCancel,
  TurnDeadlines,
} from '@xiaoyue/shared';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { WebSocket } from 'ws';
import { Admission, type Admitted, type Refusal, type UpgradeRequest } from './admission.js';
import { createAuthenticator } from './auth.js';
import { CloseCode } from './close-codes.js';
import type { GatewayEnv } from './env.js';
import { EventFeed } from './event-feed.js';
import { requestJudgement } from './judge.js';
import { LearnerLimits, SOCKET_LEASE_MS } from './limits.js';
import { createGatewayMetrics } from './metrics.js';
import { startReplay } from './replay.js';
import { type SessionDeps, SocketSession } from './socket-session.js';
import { SocketSweep } from './socket-sweep.js';
import { TurnStarter } from './turns.js';
import { CLIENT_MODULE_PATH, CLIENT_SOURCE_MAP_PATH, ICON_PATH, loadWebPage } from './web-page.js';

export interface GatewayDeps {
  env: GatewayEnv;
  logger: Logger;
  /** Producer-profile connection (fails fast). */
  redis: RedisClient;
  /** Worker-profile connection dedicated to pub/sub. */
  subscriber: RedisClient;
  /** `tts` carries replays (a past line spoken again). */
  queues: { chat: CatalogQueue<'chat'>; tts: CatalogQueue<'tts'>; quizJudge: CatalogQueue<'quizJudge'> };
  /** Served at `/metrics`; a fresh one is made when not given. */
  metrics?: Registry;
}

export interface Gateway {
  app: FastifyInstance;
  /** Fails readiness and closes every socket with 1012 so clients reconnect elsewhere. */
  drain(): void;
  socketCount(): number;
  /** Not draining, Redis reachable: what `/readyz` answers. */
  isReady(): boolean;
  /** The gateway's metrics (served on METRICS_PORT by main.ts, or on the chat port with METRICS_TOKEN). */
  metrics: Registry;
}

/** How long a translation may wait for the LLM's judgement before the rules grade it. */
const JUDGE_TIMEOUT_MS = 5_000;

/** Frames beyond this are cut by the WebSocket layer itself (close 1009); below it we answer. */
const HARD_MAX_PAYLOAD_BYTES = 1_048_576;

/** Builds the gateway without listening. */
export async function buildGateway(deps: GatewayDeps): Promise<Gateway> {
  const { env, logger, redis, subscriber } = deps;
  const keys = redisKeys(env.QUEUE_PREFIX);
  const outbox = new Outbox(redis, keys, outboxOptionsFrom(env));
  const store = new ConversationStore(redis, keys, {
    historyTurns: env.HISTORY_TURNS,
    ttlSeconds: env.STATE_TTL_SECONDS,
    sulkDecayMs: env.SULK_DECAY_MINUTES * 60_000,
  });
  const learners = new LearnerStore(redis, keys, learnerStoreOptionsFrom(env));
  const feed = new EventFeed(subscriber, keys, logger);
  const deadlines = new TurnDeadlines(redis, keys, env.QUEUE_PARTITIONS);
  const turns = new TurnStarter(redis, keys, deps.queues.chat, deadlines, env.TURN_TIMEOUT_MS);
  const limits: FrameLimits = { maxFrameBytes: env.MAX_FRAME_BYTES, maxMessageChars: env.MAX_MESSAGE_CHARS };
  /** Open sockets, with the lease each holds (or is claiming) on its learner's socket cap. */
  const sockets = new Map<WebSocket, { userId: string; socketId: string }>();
  let draining = false;
  const registry = deps.metrics ?? createMetricsRegistry('gateway');
  const metrics = createGatewayMetrics(registry, () => sockets.size);
  registerQueueDepth(registry, [deps.queues.chat]);

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // The connect throttle counts per client address: behind an Ingress, the one in X-Forwarded-For.
    trustProxy: env.TRUST_PROXY_HOPS ? (_address: string, hop: number) => hop < env.TRUST_PROXY_HOPS : false,
    // Probes and upgrades would flood the log; sessions log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
  });
  await app.register(websocket, {
    // A client that breaks the WebSocket protocol (invalid UTF-8, a bad opcode, a frame over 1 MiB)
    // is closed by `ws` with the code that says so; that is the client's fault, not an error here.
    errorHandler: (error, socket, request) => {
      const code = (error as { code?: string }).code ?? '';
      if (code.startsWith('WS_ERR_')) request.log.debug({ code, message: error.message }, 'client broke the protocol');
      else request.log.error(error);
      socket.terminate();
    },
    options: {
      maxPayload: HARD_MAX_PAYLOAD_BYTES,
      // Browsers cannot set headers: a token may come as `Sec-WebSocket-Protocol: bearer, <token>`.
      handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false),
    },
  });

  // The web client: one page and the client module it imports, read once.
  const web = await loadWebPage();
  // Security headers on every HTTP answer (nosniff, no framing, no referrer…) and the page's own CSP;
  // not helmet's default CSP, whose upgrade-insecure-requests would turn ws:// into wss:// on http.
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: web.contentSecurityPolicy },
    frameguard: { action: 'deny' },
  });
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(web.html));
  app.get(ICON_PATH, async (_request, reply) =>
    web.icon
      ? reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(web.icon)
      : reply.code(404).send(),
  );
  app.get(CLIENT_MODULE_PATH, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(web.clientModule),
  );
  const { clientSourceMap } = web;
  if (clientSourceMap) {
    app.get(CLIENT_SOURCE_MAP_PATH, async (_request, reply) =>
      reply.type('application/json; charset=utf-8').send(clientSourceMap),
    );
  }

  // On the chat port only for whoever holds METRICS_TOKEN (a scrape costs Redis reads); else on
  // METRICS_PORT (main.ts), or not at all.
  const { METRICS_TOKEN } = env;
  if (METRICS_TOKEN) {
    app.get('/metrics', async (request, reply) => {
      if (!bearerMatches(request.headers.authorization, METRICS_TOKEN)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
      }
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  }
  app.get('/healthz', async () => ({ status: 'ok' }));
  const isReady = () => !draining && redis.status === 'ready' && subscriber.status === 'ready';
  app.get('/readyz', async (_request, reply) => {
    const ready = isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', draining });
  });

  const learnerLimits = new LearnerLimits(redis, keys, {
    perMinute: env.RATE_LIMIT_PER_MINUTE,
    burst: env.RATE_LIMIT_BURST,
    maxSockets: env.MAX_SOCKETS_PER_USER,
  });
  const leaseRenewal = setInterval(
    () => void learnerLimits.renewSockets([...sockets.values()]).catch(() => {}),
    SOCKET_LEASE_MS / 3,
  );
  leaseRenewal.unref();
  const sweep = new SocketSweep(env.HEARTBEAT_MS);
  app.addHook('onClose', async () => {
    clearInterval(leaseRenewal);
    sweep.stop();
  });
  const admission = new Admission({
    env,
    authenticate: createAuthenticator(env),
    limits: learnerLimits,
    isDraining: () => draining,
    logger,
  });

  const agentMode = async () => AgentMode.safeParse(await redis.get(keys.agentMode())).data ?? null;
  const sessionDeps: SessionDeps = {
    services: {
      store,
      learners,
      turns,
      judgeTranslation: (request) =>
        requestJudgement({ judgeQueue: deps.queues.quizJudge, agentMode, timeoutMs: JUDGE_TIMEOUT_MS }, request),
      replay: (request) =>
        startReplay({ store, learners, ttsQueue: deps.queues.tts, timeoutMs: env.TURN_TIMEOUT_MS }, request),
      ttsVoice: async () => parseTtsVoiceInfo(await redis.get(keys.ttsVoice())),
    },
    delivery: { feed, outbox, store, agentMode, maxBufferedBytes: env.MAX_SOCKET_BUFFER_BYTES, logger },
    limits,
    logger,
    metrics,
    allowDebugActions: env.ALLOW_DEBUG_ACTIONS,
    socketBudget: {
      perMinute: env.RATE_LIMIT_PER_MINUTE,
      burst: env.RATE_LIMIT_BURST,
      maxConsecutiveRefusals: env.MAX_CONSECUTIVE_REFUSALS,
    },
    takeAction: (userId) => learnerLimits.takeAction(userId),
    interruptTurn: (userId, turnId) => requestTurnCancel(redis, keys, userId, turnId),
  };

  /**
   * Serves one upgraded socket. Its slot is claimed only now that it is a socket (so that an upgrade
   * that failed or was dropped holds nothing); its frames wait for the claim. Kept apart from the
   * route so that its closures do not hold the HTTP request.
   */
  function serve(socket: WebSocket, admitted: Admitted, options: ConnectOptions): void {
    const { userId } = admitted;
    const socketId = randomUUID();
    const session = new SocketSession(userId, socket, sessionDeps, options.stream);
    sockets.set(socket, { userId, socketId });
    sweep.watch(socket, admitted.tokenExpiresAt);
    const claimed = claimSlot(socket, userId, socketId);
    // Listen before the claim and the async open so that no early frame is lost.
    socket.on('message', (data, isBinary) => {
      void claimed.then((ok) => ok && session.handleMessage(data as Buffer, isBinary));
    });
    socket.on('close', () => {
      sockets.delete(socket);
      sweep.forget(socket);
      session.close();
      // After the claim settles: a socket that closed while claiming still frees what it got.
      void claimed.then((ok) => (ok ? learnerLimits.releaseSocket(userId, socketId) : undefined)).catch(() => {});
    });
    socket.on('error', (err) => logger.debug({ err }, 'socket error'));
    void claimed.then((ok) => {
      if (ok) openSession(socket, session, userId, options);
    });
  }

  /** Claims the socket's slot; on losing the race for the last one (1008) or without Redis (1013), closes it. */
  async function claimSlot(socket: WebSocket, userId: string, socketId: string): Promise<boolean> {
    try {
      if (await learnerLimits.claimSocket(userId, socketId)) return true;
      socket.close(CloseCode.policy, `too many open connections (at most ${env.MAX_SOCKETS_PER_USER})`);
    } catch (error) {
      logger.warn({ err: (error as Error).message, userId }, 'cannot claim a socket slot');
      socket.close(CloseCode.tryAgainLater, 'temporarily unavailable');
    }
    return false;
  }

  function openSession(socket: WebSocket, session: SocketSession, userId: string, options: ConnectOptions): void {
    if (options.lastSeq === 'invalid') {
      socket.send(
        JSON.stringify(
          errorFrame({ code: 'invalid_message', message: 'last_seq must be a non-negative integer; ignoring it' }),
        ),
      );
    }
    const resume = { lastSeq: options.lastSeq === 'invalid' ? undefined : options.lastSeq, epoch: options.epoch };
    session.open(resume).catch((error) => {
      logger.error({ err: error, userId }, 'could not open session');
      socket.close(CloseCode.tryAgainLater, 'temporarily unavailable');
    });
  }

  // One wildcard route, so that every malformed user id gets the protocol's 400, not a 404. Who may
  // connect is decided before the upgrade (preValidation): a refusal is an HTTP answer, never a
  // socket that is opened and then closed.
  app.get(
    '/ws/chat/*',
    {
      websocket: true,
      preValidation: async (request, reply) => {
        if (!request.ws) return; // a plain GET: the route answers 404
        const result = await admission.admit(request as UpgradeRequest);
        if ('refusal' in result) {
          metrics.upgradeRefusals.inc({ error: result.refusal.error });
          return refuseUpgrade(reply, result.refusal);
        }
        (request as { admitted?: Admitted }).admitted = result;
      },
    },
    (socket, request) => {
      const admitted = (request as { admitted?: Admitted }).admitted;
      if (!admitted) return void socket.close(CloseCode.policy, 'refused');
      serve(socket, admitted, connectOptions(request.query as Record<string, unknown>));
    },
  );

  return {
    app,
    drain() {
      draining = true;
      for (const socket of sockets.keys())
        socket.close(CloseCode.restarting, 'gateway restarting; reconnect with last_seq');
    },
    socketCount: () => sockets.size,
    isReady,
    metrics: registry,
  };
}

/** Whether an Authorization header carries this bearer token (compared in constant time). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface ConnectOptions {
  lastSeq: number | undefined | 'invalid';
  epoch: string | undefined;
  /** `?stream=1`: replies come sentence by sentence. */
  stream: boolean;
}

function connectOptions(query: Record<string, unknown>): ConnectOptions {
  return {
    lastSeq: parseLastSeq(query.last_seq),
    epoch: typeof query.epoch === 'string' && /^[\w-]{1,32}$/.test(query.epoch) ? query.epoch : undefined,
    stream: query.stream === '1' || query.stream === 'true',
  };
}

function parseLastSeq(value: unknown): number | undefined | 'invalid' {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return 'invalid';
  return Number(value);
}

/** Answers an upgrade over HTTP: `{error, message}`, with Retry-After when a retry can succeed. */
function refuseUpgrade(reply: FastifyReply, refusal: Refusal): FastifyReply {
  if (refusal.retryAfterSeconds) reply.header('retry-after', String(refusal.retryAfterSeconds));
  return reply.code(refusal.status).send({ error: refusal.error, message: refusal.message });
}
