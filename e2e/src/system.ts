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
  gateway: ServiceProcess;
  agent: ServiceProcess;
  tts: ServiceProcess;
  connect(userId: string, query?: string): Promise<TestClient>;
  stop(): Promise<void>;
}

export interface SystemOptions {
  redisUrl: string;
  gemini: FakeGemini;
  edge: FakeEdgeTts;
  env?: Record<string, string>;
}

/** The three services as real processes, wired to one Redis and to the local cloud fakes. */
export async function startSystem({ redisUrl, gemini, edge, env = {} }: SystemOptions): Promise<RunningSystem> {
  const prefix = uniquePrefix('e2e');
  const port = await freePort();
  const common = { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, TURN_TIMEOUT_MS: '8000', ...env };
  const [gateway, agent, tts] = await Promise.all([
    startService('gateway', { ...common, PORT: String(port), HOST: '127.0.0.1' }),
    startService('agent-worker', {
      ...common,
      GEMINI_API_KEY: 'test-key',
      GEMINI_BASE_URL: gemini.url,
      LLM_TIMEOUT_MS: '1500',
      LLM_MAX_ATTEMPTS: '3',
    }),
    startService('tts-worker', { ...common, EDGE_TTS_URL: edge.url, TTS_TIMEOUT_MS: '1500' }),
  ]);
  const baseUrl = `ws://127.0.0.1:${port}`;
  return {
    prefix,
    baseUrl,
    gateway,
    agent,
    tts,
    connect: (userId, query = '') => TestClient.connect(`${baseUrl}/ws/chat/${userId}${query}`),
    async stop() {
      await Promise.all([gateway.stop(), agent.stop(), tts.stop()]);
    },
  };
}
