import { eventData, type ServerEventType } from '@xiaoyue/shared';
import {
  type FakeEdgeTts,
  type FakeGemini,
  type FakeOpenAi,
  openAiAgentEnv,
  type RunningSystem as ProcessSystem,
  type SystemOptions,
  startFakeEdgeTts,
  startFakeGemini,
  startFakeOpenAi,
  startSystem as startProcesses,
  startTestRedis,
  type TestRedis,
} from '@xiaoyue/test-support';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { Learner, optionsFromQuery } from './learner.js';

export interface RunningSystem extends ProcessSystem {
  /**
   * Connects a learner through @xiaoyue/client (reconnect off), at its welcome or once refused;
   * `query` as a URL's (`?stream=1`, `?last_seq=…&epoch=…`, `?token=…`) becomes client options.
   */
  connect(userId: string, query?: string): Promise<Learner>;
}

/** The three services as real processes (test-support's startSystem), and a way to connect learners. */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const system = await startProcesses(options);
  return {
    ...system,
    connect: (userId, query = '') => Learner.connect({ url: system.baseUrl, userId, ...optionsFromQuery(query) }),
  };
}

export interface SystemWithFakes {
  redis: TestRedis;
  /** The Gemini fake (the agents' LLM unless `llm: 'openai'`). */
  gemini: FakeGemini;
  /** The OpenAI-compatible fake: the agents' LLM with `llm: 'openai'` (`LLM_PROVIDER=openai`). */
  openai: FakeOpenAi;
  edge: FakeEdgeTts;
  system: RunningSystem;
  /** Connects a learner; the connection is closed after the test. */
  connect(userId: string, query?: string): Promise<Learner>;
}

/**
 * Registers the hooks of a test file that runs the system against the cloud fakes: one system
 * for the file, fakes reset and learners closed after each test. Read the fields inside tests.
 * The agents think with Gemini's fake, or with the OpenAI-compatible one (`llm: 'openai'`, with
 * `agentEnv` for the OPENAI_* variables); `env` goes to every service.
 */
export function useSystemWithFakes(
  options: { llm?: 'gemini' | 'openai'; agentEnv?: Record<string, string>; env?: Record<string, string> } = {},
): SystemWithFakes {
  const learners: Learner[] = [];
  const context = {} as SystemWithFakes;
  beforeAll(async () => {
    const [redis, gemini, openai, edge] = await Promise.all([
      startTestRedis(),
      startFakeGemini(),
      startFakeOpenAi(),
      startFakeEdgeTts(),
    ]);
    const llm =
      options.llm === 'openai'
        ? { agentEnv: openAiAgentEnv(openai, options.agentEnv) }
        : { gemini, agentEnv: options.agentEnv };
    const system = await startSystem({ redis, edge, env: options.env, ...llm });
    Object.assign(context, { redis, gemini, openai, edge, system });
  });
  afterEach(() => {
    for (const learner of learners.splice(0)) {
      learner.close();
      expectFramesOfTheCatalog(learner);
    }
    context.gemini.reset();
    context.openai.reset();
    context.edge.reset();
  });
  afterAll(async () => {
    await context.system?.stop();
    await Promise.all([context.gemini?.close(), context.openai?.close(), context.edge?.close()]);
    await context.redis?.stop();
  });
  context.connect = async (userId, query = '') => {
    const learner = await context.system.connect(userId, query);
    learners.push(learner);
    return learner;
  };
  return context;
}

/** Every frame a learner received (as received, repeats included) is an event of the catalog, its data exactly the catalog's shape. */
function expectFramesOfTheCatalog(learner: Learner): void {
  for (const frame of learner.frames) {
    const schema = eventData[frame.type as ServerEventType];
    expect(schema, `unknown event type "${frame.type}"`).toBeDefined();
    const parsed = schema.strict().safeParse(frame.data);
    expect(parsed.error?.issues ?? [], `${frame.type} frame: ${JSON.stringify(frame).slice(0, 300)}`).toEqual([]);
  }
}
