import { describe, expect, it } from 'vitest';
import { startHealthServer } from './health-server.js';

describe('health server', () => {
  it('answers liveness always and readiness as told', async () => {
    let ready = true;
    const health = await startHealthServer({ port: 0, host: '127.0.0.1', isReady: () => ready });
    const base = `http://127.0.0.1:${health.port}`;
    try {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      ready = false;
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: 'not_ready' });
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await health.close();
    }
  });
});
