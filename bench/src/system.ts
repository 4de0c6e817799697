import {
  type FakeEdgeTts,
  type FakeGemini,
  type RunningSystem,
  startSystem,
  type TestRedis,
  uniquePrefix,
} from '@xiaoyue/test-support';

/**
 * The system as the end-to-end tests run it (test-support's startSystem), tuned for load: the
 * services' own timeouts and limits, not the tests' short ones, and wide pools.
 */
export function startBenchSystem(
  /** A single Redis's URL, or a test Redis of any topology (a local cluster for P8). */
  redis: string | Pick<TestRedis, 'env'>,
  /** Gemini's fake, or undefined with the LLM's variables in `agentEnv` (an OpenAI-compatible fake). */
  gemini: FakeGemini | undefined,
  edge: FakeEdgeTts,
  env: Record<string, string> = {},
  agentEnv: Record<string, string> = {},
): Promise<RunningSystem> {
  return startSystem({
    ...(typeof redis === 'string' ? { redisUrl: redis } : { redis }),
    ...(gemini ? { gemini } : {}),
    edge,
    prefix: uniquePrefix('bench'),
    readyTimeoutMs: 30_000,
    env: {
      TURN_TIMEOUT_MS: '30000',
      LLM_TIMEOUT_MS: '12000',
      TTS_TIMEOUT_MS: '8000',
      // e.g. BENCH_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the services
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      ...env,
    },
    gatewayEnv: { ALLOW_DEBUG_ACTIONS: 'false', RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_BURST: '1000' },
    agentEnv: { AGENT_CONCURRENCY: '200', ...agentEnv },
    ttsEnv: { TTS_CONCURRENCY: '200' },
  });
}
