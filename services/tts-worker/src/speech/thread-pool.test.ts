import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerThreadPool } from './thread-pool.js';

// A real thread: `{ spinMs }` busy-waits (synchronous work, like a synthesis) then answers its
// thread id; `{ crash: true }` throws outside any handler, which ends the thread.
const dir = mkdtempSync(join(tmpdir(), 'thread-pool-'));
const script = pathToFileURL(join(dir, 'thread.mjs'));
writeFileSync(
  script,
  `import { parentPort, threadId } from 'node:worker_threads';
parentPort.on('message', (task) => {
  if (task.crash) setImmediate(() => { throw new Error('thread crashed'); });
  else {
    const until = Date.now() + task.spinMs;
    while (Date.now() < until);
    parentPort.postMessage({ threadId, spinMs: task.spinMs });
  }
});`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Task {
  spinMs?: number;
  crash?: boolean;
}
interface Reply {
  threadId: number;
  spinMs: number;
}
const never = () => new AbortController().signal;

describe('worker thread pool', () => {
  it('runs tasks on at most `size` threads, in parallel, reusing them', async () => {
    const pool = new WorkerThreadPool<Task, Reply>(script, 2);
    try {
      const started = performance.now();
      const replies = await Promise.all([150, 150, 150, 150].map((spinMs) => pool.run({ spinMs }, never())));
      const tookMs = performance.now() - started;
      expect(new Set(replies.map((r) => r.threadId)).size).toBe(2);
      expect(pool.threads).toBe(2);
      // Two rounds of two (not four in a row): the threads ran side by side.
      expect(tookMs).toBeGreaterThan(290);
      expect(tookMs).toBeLessThan(550 + 400);
    } finally {
      await pool.close();
    }
  });

  it('drops a queued task that is aborted, and terminates the thread of a running one', async () => {
    const pool = new WorkerThreadPool<Task, Reply>(script, 1);
    try {
      const running = new AbortController();
      const queued = new AbortController();
      const first = pool.run({ spinMs: 5_000 }, running.signal);
      const second = pool.run({ spinMs: 10 }, queued.signal);
      queued.abort(new Error('not needed'));
      await expect(second).rejects.toThrow('not needed');
      const started = performance.now();
      running.abort(new Error('gave up'));
      await expect(first).rejects.toThrow('gave up');
      // A new thread takes the old one's place at once.
      const next = await pool.run({ spinMs: 10 }, never());
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(next.spinMs).toBe(10);
      expect(pool.threads).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('fails the task of a thread that crashed, and keeps serving', async () => {
    const pool = new WorkerThreadPool<Task, Reply>(script, 1);
    try {
      await expect(pool.run({ crash: true }, never())).rejects.toThrow('thread crashed');
      expect((await pool.run({ spinMs: 1 }, never())).spinMs).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('on close, rejects running and queued tasks, stops every thread and takes no more', async () => {
    const pool = new WorkerThreadPool<Task, Reply>(script, 1);
    const tasks = Promise.allSettled([pool.run({ spinMs: 5_000 }, never()), pool.run({ spinMs: 1 }, never())]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await pool.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    const [running, queued] = (await tasks).map((outcome) =>
      outcome.status === 'rejected' ? String(outcome.reason) : 'answered',
    );
    expect(running).toMatch(/exited/);
    expect(queued).toMatch(/closed/);
    expect(pool.threads).toBe(0);
    await expect(pool.run({ spinMs: 1 }, never())).rejects.toThrow(/closed/);
  });
});
