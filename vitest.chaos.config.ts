import { defineConfig } from 'vitest/config';

// `pnpm test:chaos`: failure scenarios against real processes; each prints a CHAOS line of counts.
export default defineConfig({
  test: {
    include: ['e2e/src/chaos/**/*.chaos.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    fileParallelism: false,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/vitest-chaos.json' },
  },
});
