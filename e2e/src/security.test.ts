import { type FakeGemini, spawnRedisServer, startFakeGemini, type TestRedis } from '@xiaoyue/test-support';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem } from './system.js';

const REDIS_PASSWORD = 'redis-pass-XYZ-987';
const GEMINI_KEY = 'AIzaSy-secret-gemini-key-123';
const JWT_SECRET = 'jwt-secret-that-is-long-enough-abcdef';

let redis: TestRedis;
let gemini: FakeGemini;
let system: RunningSystem;
let token: string;

beforeAll(async () => {
  [redis, gemini] = await Promise.all([spawnRedisServer({ password: REDIS_PASSWORD }), startFakeGemini()]);
  system = await startSystem({
    redisUrl: redis.url,
    gemini,
    env: { GEMINI_API_KEY: GEMINI_KEY },
    gatewayEnv: { AUTH_MODE: 'jwt', JWT_SECRET, ALLOW_DEBUG_ACTIONS: 'false' },
  });
  token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('secure')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(JWT_SECRET));
});
afterAll(async () => {
  await system?.stop();
  await gemini?.close();
  await redis?.stop();
});

describe('a production-like gateway: Redis with a password, JWT auth, debug actions off', () => {
  it('serves an authenticated learner', async () => {
    expect(redis.url).toContain(REDIS_PASSWORD);
    const client = await system.connect('secure', `?token=${token}`);
    await client.next('welcome');
    gemini.enqueue({ kind: 'error', status: 403, message: `API key ${GEMINI_KEY} not valid` });
    client.send({ action: 'chat', message: '你好' });
    expect((await client.next('reply')).data.fallback).toBe(true);
    expect((await client.request({ action: 'set_sulking', level: 2 }, 'sulking_set')).data.code).toBe('forbidden');
    client.close();
  });

  it("refuses anonymous learners (401), other learners' tokens (403) and tokens that never expire (401), before the upgrade", async () => {
    const forever = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('secure')
      .sign(new TextEncoder().encode(JWT_SECRET));
    for (const [userId, query, status] of [
      ['secure', '', 401],
      ['someone-else', `?token=${token}`, 403],
      ['secure', `?token=${forever}`, 401],
    ] as const) {
      const learner = await system.connect(userId, query);
      expect(await learner.closed).toMatchObject({ code: 1006, status });
      expect(learner.frames).toEqual([]);
    }
  });

  it('never writes a secret to the logs', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const logs = [system.gateway, system.agent, system.tts].map((s) => s.output()).join('\n');
    expect(logs.length).toBeGreaterThan(500);
    for (const secret of [REDIS_PASSWORD, GEMINI_KEY, JWT_SECRET, token]) expect(logs).not.toContain(secret);
  });
});
