import type { FakeEdgeTts } from './fake-edge-tts.js';
import type { FakeGemini } from './fake-gemini.js';
import { type ServiceProcess, startService } from './processes.js';
import { freePort, type TestRedis, uniquePrefix } from './redis.js';

export interface RunningSystem {
  prefix: string;
  /** `ws://127.0.0.1:<port>`: learners connect to `${baseUrl}/ws/chat/<user_id>`. */
  baseUrl: string;
  /** Base URLs of the probe endpoints: gateway, agent worker, TTS worker. */
  /** `gatewayMetrics`: the gateway's METRICS_PORT (`/metrics`, `/healthz`, `/readyz`). */
  probes: { gateway: string; gatewayMetrics: string; agent: string; tts: string };
  gateway: ServiceProcess;
  /** What the gateway was started with: `startService('gateway', gatewayEnv)` starts another like it (same port). */
  gatewayEnv: Record<string, string>;
  agent: ServiceProcess;
  tts: ServiceProcess;
  stop(): Promise<void>;
}

export interface SystemOptions {
  /** The Redis: a single server's URL, or a test Redis of any topology (its `env`). */
  redisUrl?: string;
  redis?: Pick<TestRedis, 'env'>;
  /** The Gemini fake to use; without one the agents run the offline tutor. */
  gemini?: FakeGemini;
  /** The Edge fake to use; without one the TTS workers speak with espeak-ng. */
  edge?: FakeEdgeTts;
  /** Variables for every service (after the defaults below). */
  env?: Record<string, string>;
  /** Extra variables for the gateway only (auth, limits). */
  gatewayEnv?: Record<string, string>;
  agentEnv?: Record<string, string>;
  ttsEnv?: Record<string, string>;
  /** Queue and key prefix; a fresh one by default. */
  prefix?: string;
  readyTimeoutMs?: number;
}

/** Connect throttle settings (per learner and per address) that tests do not reach. */
export const GENEROUS_CONNECT_LIMITS = {
  USER_CONNECTS_PER_MINUTE: '100000',
  USER_CONNECT_BURST: '10000',
  ADDRESS_CONNECTS_PER_MINUTE: '1000000',
  ADDRESS_CONNECT_BURST: '100000',
} as const;

/** A gateway as tests run it: on this machine, anonymous learners, testing actions, limits out of reach. */
export const TEST_GATEWAY_ENV = {
  HOST: '127.0.0.1',
  AUTH_MODE: 'dev',
  ALLOW_DEBUG_ACTIONS: 'true',
  RATE_LIMIT_PER_MINUTE: '6000',
  RATE_LIMIT_BURST: '100',
  // Every test learner connects from 127.0.0.1, and reconnects often: no connect throttle unless asked.
  ...GENEROUS_CONNECT_LIMITS,
} as const;

/**
 * The three services as real processes, wired to one Redis and to the local cloud fakes (or the
 * offline providers): what the end-to-end tests, the chaos suite and the benchmark run against.
 */
export async function startSystem({
  redisUrl,
  redis,
  gemini,
  edge,
  env = {},
  gatewayEnv = {},
  agentEnv = {},
  ttsEnv = {},
  prefix = uniquePrefix('e2e'),
  readyTimeoutMs,
}: SystemOptions): Promise<RunningSystem> {
  const [port, metricsPort, agentHealthPort, ttsHealthPort] = await Promise.all(
    Array.from({ length: 4 }, () => freePort()),
  );
  if (!redis && !redisUrl) throw new Error('startSystem needs a Redis: redis or redisUrl');
  const redisEnv = redis?.env ?? { REDIS_URL: redisUrl as string };
  const common = { ...redisEnv, QUEUE_PREFIX: prefix, TURN_TIMEOUT_MS: '8000', ...env };
  const options = { readyTimeoutMs };
  const gatewayProcessEnv = {
    ...common,
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    ...TEST_GATEWAY_ENV,
    ...gatewayEnv,
  };
  const [gateway, agent, tts] = await Promise.all([
    startService('gateway', gatewayProcessEnv, options),
    startService(
      'agent-worker',
      {
        ...common,
        ...(gemini ? { GEMINI_API_KEY: 'test-key', GEMINI_BASE_URL: gemini.url } : { LLM_PROVIDER: 'offline' }),
        LLM_TIMEOUT_MS: '1500',
        LLM_MAX_ATTEMPTS: '3',
        HEALTH_PORT: String(agentHealthPort),
        ...env,
        ...agentEnv,
      },
      options,
    ),
    startService(
      'tts-worker',
      {
        ...common,
        // Speech failures must stay visible to these tests rather than be covered by espeak. Without
        // the Debian espeak-ng the offline voice is the WASM one: a few hundred ms a sentence, more
        // on a loaded 2-core machine, so it gets a longer timeout than the Edge fake needs.
        ...(edge
          ? { EDGE_TTS_URL: edge.url, TTS_FALLBACK: 'none', TTS_TIMEOUT_MS: '1500' }
          : { TTS_PROVIDER: 'espeak', TTS_TIMEOUT_MS: '6000' }),
        HEALTH_PORT: String(ttsHealthPort),
        ...ttsEnv,
      },
      options,
    ),
  ]);
  return {
    prefix,
    baseUrl: `ws://127.0.0.1:${port}`,
    probes: {
      gateway: `http://127.0.0.1:${port}`,
      gatewayMetrics: `http://127.0.0.1:${metricsPort}`,
      agent: `http://127.0.0.1:${agentHealthPort}`,
      tts: `http://127.0.0.1:${ttsHealthPort}`,
    },
    gateway,
    gatewayEnv: gatewayProcessEnv,
    agent,
    tts,
    async stop() {
      await Promise.all([gateway.stop(), agent.stop(), tts.stop()]);
    },
  };
}
