import {
  type FakeEdgeTts,
  type FakeGemini,
  freePort,
  type ServiceProcess,
  startService,
  TestClient,
  uniquePrefix,
} from '@xiaoyue/test-support';

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
