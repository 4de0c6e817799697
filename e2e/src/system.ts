import { eventData, type ServerEventType } from '@xiaoyue/shared';
import {
  type FakeEdgeTts,
  type FakeGemini,
  type RunningSystem as ProcessSystem,
  type SystemOptions,
  startFakeEdgeTts,
  startFakeGemini,
  startSystem as startProcesses,
  startTestRedis,
  TestClient,
  type TestRedis,
} from '@xiaoyue/test-support';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

export interface RunningSystem extends ProcessSystem {
  connect(userId: string, query?: string): Promise<TestClient>;
}

/** The three services as real processes (test-support's startSystem), and a way to connect learners. */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const system = await startProcesses(options);
  return {
    ...system,
    connect: (userId, query = '') => TestClient.connect(`${system.baseUrl}/ws/chat/${userId}${query}`),
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
