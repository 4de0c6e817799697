import { eventData, type ServerEventType } from '@xiaoyue/shared';
import {
  type FakeEdgeTts,
  type FakeGemini,
  freePort,
  type ServiceProcess,
  startFakeEdgeTts,
  startFakeGemini,
  startService,
  startTestRedis,
  TestClient,
  type TestRedis,
  uniquePrefix,
} from '@xiaoyue/test-support';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

export interface RunningSystem {
  prefix: string;
  baseUrl: string;
  /** Base URLs of the probe endpoints: gateway, agent worker, TTS worker. */
  probes: { gateway: string; agent: string; tts: string };
  gateway: ServiceProcess;
  agent: ServiceProcess;
  tts: ServiceProcess;
  connect(userId: string, query?: string): Promise<TestClient>;
  stop(): Promise<void>;
}

export interface SystemOptions {
  redisUrl: string;
  /** The Gemini fake to use; without one the agents run the offline tutor. */
  gemini?: FakeGemini;
  /** The Edge fake to use; without one the TTS workers speak with espeak-ng. */
  edge?: FakeEdgeTts;
  env?: Record<string, string>;
  /** Extra variables for the gateway only (auth, limits). */
  gatewayEnv?: Record<string, string>;
}

/** The three services as real processes, wired to one Redis and to the local cloud fakes (or offline providers). */
export async function startSystem({
  redisUrl,
  gemini,
  edge,
  env = {},
  gatewayEnv = {},
}: SystemOptions): Promise<RunningSystem> {
  const prefix = uniquePrefix('e2e');
  const [port, agentHealthPort, ttsHealthPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const common = { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, TURN_TIMEOUT_MS: '8000', ...env };
  const [gateway, agent, tts] = await Promise.all([
    startService('gateway', {
      ...common,
      PORT: String(port),
      HOST: '127.0.0.1',
      AUTH_MODE: 'dev',
      ALLOW_DEBUG_ACTIONS: 'true',
      RATE_LIMIT_PER_MINUTE: '6000',
      RATE_LIMIT_BURST: '100',
      ...gatewayEnv,
    }),
    startService('agent-worker', {
      ...common,
      ...(gemini ? { GEMINI_API_KEY: 'test-key', GEMINI_BASE_URL: gemini.url } : { LLM_PROVIDER: 'offline' }),
      LLM_TIMEOUT_MS: '1500',
      LLM_MAX_ATTEMPTS: '3',
      HEALTH_PORT: String(agentHealthPort),
      ...env,
    }),
    startService('tts-worker', {
      ...common,
      // Speech failures must stay visible to these tests rather than be covered by espeak.
      ...(edge ? { EDGE_TTS_URL: edge.url, TTS_FALLBACK: 'none' } : { TTS_PROVIDER: 'espeak' }),
      TTS_TIMEOUT_MS: '1500',
      HEALTH_PORT: String(ttsHealthPort),
    }),
  ]);
  const baseUrl = `ws://127.0.0.1:${port}`;
  return {
    prefix,
    baseUrl,
    probes: {
      gateway: `http://127.0.0.1:${port}`,
      agent: `http://127.0.0.1:${agentHealthPort}`,
      tts: `http://127.0.0.1:${ttsHealthPort}`,
    },
    gateway,
    agent,
    tts,
    connect: (userId, query = '') => TestClient.connect(`${baseUrl}/ws/chat/${userId}${query}`),
    async stop() {
      await Promise.all([gateway.stop(), agent.stop(), tts.stop()]);
    },
  };
}

export interface SystemWithFakes {
  redis: TestRedis;
  gemini: FakeGemini;
  edge: FakeEdgeTts;
  system: RunningSystem;
  /** Connects a learner; the socket is closed after the test. */
  connect(userId: string, query?: string): Promise<TestClient>;
}

/**
 * Registers the hooks of a test file that runs the system against the cloud fakes: one system
 * for the file, fakes reset and sockets closed after each test. Read the fields inside tests.
 */
export function useSystemWithFakes(): SystemWithFakes {
  const clients: TestClient[] = [];
  const context = {} as SystemWithFakes;
  beforeAll(async () => {
    const [redis, gemini, edge] = await Promise.all([startTestRedis(), startFakeGemini(), startFakeEdgeTts()]);
    Object.assign(context, { redis, gemini, edge, system: await startSystem({ redisUrl: redis.url, gemini, edge }) });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) {
      client.close();
      expectFramesOfTheCatalog(client);
    }
    context.gemini.reset();
    context.edge.reset();
  });
  afterAll(async () => {
    await context.system?.stop();
    await Promise.all([context.gemini?.close(), context.edge?.close()]);
    await context.redis?.stop();
  });
  context.connect = async (userId, query = '') => {
    const client = await context.system.connect(userId, query);
    clients.push(client);
    return client;
  };
  return context;
}

/** Every frame a learner received is an event of the catalog, its data exactly the catalog's shape. */
function expectFramesOfTheCatalog(client: TestClient): void {
  for (const frame of client.frames) {
    const schema = eventData[frame.type as ServerEventType];
    expect(schema, `unknown event type "${frame.type}"`).toBeDefined();
    const parsed = schema.strict().safeParse(frame.data);
    expect(parsed.error?.issues ?? [], `${frame.type} frame: ${JSON.stringify(frame).slice(0, 300)}`).toEqual([]);
  }
}
