import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import websocket from '@fastify/websocket';
import {
  AgentMode,
  ConversationStore,
  createMetricsRegistry,
  errorFrame,
  type FrameLimits,
  LearnerStore,
  type Logger,
  Outbox,
  type Queue,
  type Redis,
  type Registry,
  redisKeys,
  registerQueueDepth,
  requestTurnCancel,
  UserId,
} from '@xiaoyue/shared';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { WebSocket } from 'ws';
import { createAuthenticator, tokenFrom } from './auth.js';
import { CloseCode } from './close-codes.js';
import type { GatewayEnv } from './env.js';
import { EventFeed } from './event-feed.js';
import { requestJudgement } from './judge.js';
import { LearnerLimits, SOCKET_LEASE_MS } from './limits.js';
import { createGatewayMetrics } from './metrics.js';
import { startReplay } from './replay.js';
import { type SessionDeps, SocketSession } from './socket-session.js';
import { TurnStarter } from './turns.js';
import { CLIENT_MODULE_PATH, CLIENT_SOURCE_MAP_PATH, loadWebPage } from './web-page.js';

export interface GatewayDeps {
  env: GatewayEnv;
  logger: Logger;
  /** Producer-profile connection (fails fast). */
  redis: Redis;
  /** Worker-profile connection dedicated to pub/sub. */
  subscriber: Redis;
  /** `tts` carries replays (a past line spoken again). */
  queues: { chat: Queue; turnDeadline: Queue; tts: Queue; quizJudge: Queue };
  /** Served at `/metrics`; a fresh one is made when not given. */
  metrics?: Registry;
}

export interface Gateway {
  app: FastifyInstance;
  /** Fails readiness and closes every socket with 1012 so clients reconnect elsewhere. */
  drain(): void;
  socketCount(): number;
}

/** How long a translation may wait for the LLM's judgement before the rules grade it. */
const JUDGE_TIMEOUT_MS = 5_000;

/** Frames beyond this are cut by the WebSocket layer itself (close 1009); below it we answer. */
const HARD_MAX_PAYLOAD_BYTES = 1_048_576;

/** Builds the gateway without listening. */
export async function buildGateway(deps: GatewayDeps): Promise<Gateway> {
  const { env, logger, redis, subscriber } = deps;
  const keys = redisKeys(env.QUEUE_PREFIX);
  const outbox = new Outbox(redis, keys, { maxEvents: env.OUTBOX_MAX_EVENTS, ttlSeconds: env.OUTBOX_TTL_SECONDS });
  const store = new ConversationStore(redis, keys, {
    historyTurns: env.HISTORY_TURNS,
    ttlSeconds: env.STATE_TTL_SECONDS,
    sulkDecayMs: env.SULK_DECAY_MINUTES * 60_000,
  });
  const learners = new LearnerStore(redis, keys, { quizTtlSeconds: env.STATE_TTL_SECONDS });
  const feed = new EventFeed(subscriber, keys, logger);
  const turns = new TurnStarter(redis, keys, deps.queues, env.TURN_TIMEOUT_MS);
  const limits: FrameLimits = { maxFrameBytes: env.MAX_FRAME_BYTES, maxMessageChars: env.MAX_MESSAGE_CHARS };
  /** Open sockets, with the lease each holds on its learner's socket cap. */
  const sockets = new Map<WebSocket, { userId: string; socketId: string }>();
  let draining = false;
  const registry = deps.metrics ?? createMetricsRegistry('gateway');
  const metrics = createGatewayMetrics(registry, () => sockets.size);
  registerQueueDepth(registry, [deps.queues.chat, deps.queues.turnDeadline]);

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Probes and upgrades would flood the log; sessions log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
  });
  await app.register(websocket, {
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
  app.get(CLIENT_MODULE_PATH, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(web.clientModule),
  );
  const { clientSourceMap } = web;
  if (clientSourceMap) {
    app.get(CLIENT_SOURCE_MAP_PATH, async (_request, reply) =>
      reply.type('application/json; charset=utf-8').send(clientSourceMap),
    );
  }

  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = !draining && redis.status === 'ready' && subscriber.status === 'ready';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', draining });
  });

  const authenticate = createAuthenticator(env);
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
  app.addHook('onClose', async () => clearInterval(leaseRenewal));

  const agentMode = async () => AgentMode.safeParse(await redis.get(keys.agentMode())).data ?? null;
  const sessionDeps: SessionDeps = {
    services: {
      store,
      learners,
      turns,
      judgeTranslation: (request) =>
        requestJudgement({ judgeQueue: deps.queues.quizJudge, agentMode, timeoutMs: JUDGE_TIMEOUT_MS }, request),
      replay: (request) => startReplay({ store, ttsQueue: deps.queues.tts, timeoutMs: env.TURN_TIMEOUT_MS }, request),
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

  /** Serves one accepted socket. Kept apart from the route so its closures do not hold the HTTP request. */
  function serve(socket: WebSocket, userId: string, socketId: string, options: ConnectOptions): void {
    const session = new SocketSession(userId, socket, sessionDeps, options.stream);
    sockets.set(socket, { userId, socketId });
    // Listen before the async open so that no early frame is lost; the session queues them.
    socket.on('message', (data, isBinary) => session.handleMessage(data as Buffer, isBinary));
    socket.on('close', () => {
      sockets.delete(socket);
      session.close();
      void learnerLimits.releaseSocket(userId, socketId).catch(() => {});
    });
    socket.on('error', (err) => logger.debug({ err }, 'socket error'));
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

  // One wildcard route, so that every malformed user id gets the protocol's 1008, not a 404.
  // Who may connect is decided before the upgrade (preValidation); a refusal is then a 1008 close.
  app.get(
    '/ws/chat/*',
    {
      websocket: true,
      preValidation: async (request) => {
        const admission = await admit(
          request.params as Record<string, string>,
          request.query as Record<string, unknown>,
          request.headers,
        );
        (request as { admission?: Admission }).admission = admission;
      },
    },
    (socket, request) => {
      const admission = (request as { admission?: Admission }).admission;
      if (!admission || 'refuse' in admission) {
        socket.close(admission?.refuse.code ?? CloseCode.policy, admission?.refuse.reason ?? 'refused');
        return;
      }
      serve(socket, admission.userId, admission.socketId, connectOptions(request.query as Record<string, unknown>));
    },
  );

  type Admission = { userId: string; socketId: string } | { refuse: { code: number; reason: string } };

  async function admit(
    params: Record<string, string>,
    query: Record<string, unknown>,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<Admission> {
    if (draining) return { refuse: { code: CloseCode.restarting, reason: 'gateway restarting' } };
    const userId = UserId.safeParse(decodeURIComponentSafe((params['*'] ?? '').replace(/\/$/, '')));
    if (!userId.success)
      return { refuse: { code: CloseCode.policy, reason: 'user_id must be 1-64 of A-Z a-z 0-9 _ -' } };
    const origin = typeof headers.origin === 'string' ? headers.origin : undefined;
    if (origin && env.ALLOWED_ORIGINS && !env.ALLOWED_ORIGINS.includes(origin)) {
      return { refuse: { code: CloseCode.policy, reason: 'origin not allowed' } };
    }
    const protocol = headers['sec-websocket-protocol'];
    const auth = await authenticate(userId.data, tokenFrom(query, typeof protocol === 'string' ? protocol : undefined));
    if (!auth.ok) return { refuse: { code: CloseCode.policy, reason: auth.reason } };
    const socketId = randomUUID();
    if (!(await learnerLimits.claimSocket(auth.userId, socketId))) {
      return {
        refuse: { code: CloseCode.policy, reason: `too many open connections (at most ${env.MAX_SOCKETS_PER_USER})` },
      };
    }
    return { userId: auth.userId, socketId };
  }

  return {
    app,
    drain() {
      draining = true;
      for (const socket of sockets.keys())
        socket.close(CloseCode.restarting, 'gateway restarting; reconnect with last_seq');
    },
    socketCount: () => sockets.size,
  };
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

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
