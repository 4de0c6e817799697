import { defineConfig } from 'vitest/config';

/**
 * The end-to-end chat, streaming, learning, quiz, resume, wire-protocol and queue-partition tests again, on a local
 * Redis Cluster (3 masters, 3 replicas) and behind Sentinel (a primary, a replica, 3 sentinels):
 * test-support's startTestRedis reads TEST_REDIS_TOPOLOGY. The main run covers a single Redis.
 */
const MATRIX_FILES = [
  'e2e/src/chat-turn.test.ts',
  'e2e/src/streaming.test.ts',
  'e2e/src/learning.test.ts',
  'e2e/src/quizzes.test.ts',
  'e2e/src/wire-protocol.test.ts',
  'e2e/src/partitions.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 90_000,
    maxWorkers: 2,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/vitest-topologies.json' },
    projects: (['cluster', 'sentinel'] as const).map((topology) => ({
      test: {
        name: topology,
        include: MATRIX_FILES,
        env: { TEST_REDIS_TOPOLOGY: topology },
        testTimeout: 30_000,
        hookTimeout: 90_000,
      },
    })),
  },
});
