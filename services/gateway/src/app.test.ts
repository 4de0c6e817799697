import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  connectRedis,
  createLogger,
  createProducerRedis,
  createQueue,
  createWorkerRedis,
  Outbox,
  queueCatalog,
  type Redis,
  type ReplyData,
  redisKeys,
} from '@xiaoyue/shared';
import {
  answerToUpgrade,
  rawUpgrade,
  sampleReply,
  startTestRedis,
  TEST_GATEWAY_ENV,
  TestClient,
  type TestRedis,
  uniquePrefix,
} from '@xiaoyue/test-support';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from './app.js';
import { loadGatewayEnv } from './env.js';

let server: TestRedis;
let admin: Redis;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  server = await startTestRedis();
  admin = await connectRedis(createWorkerRedis(server.url, 'test-admin'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  admin.disconnect();
  await server.stop();
});

/** A gateway in-process on a random port, with its own queue prefix. */
async function startGateway(prefix = uniquePrefix('gw'), env: Record<string, string> = {}) {
  const config = loadGatewayEnv({
    REDIS_URL: server.url,
    QUEUE_PREFIX: prefix,
    PORT: '0',
    ...TEST_GATEWAY_ENV,
    ...env,
  });
  const logger = createLogger('gateway-test', 'silent');
  const redis = await connectRedis(createProducerRedis(server.url, 'gw'));
  const subscriber = await connectRedis(createWorkerRedis(server.url, 'gw-sub'));
  const queues = {
    chat: createQueue(queueCatalog.chat, redis, prefix),
    tts: createQueue(queueCatalog.tts, redis, prefix),
    quizJudge: createQueue(queueCatalog.quizJudge, redis, prefix),
  };
  const gateway: Gateway = await buildGateway({ env: config, logger, redis, subscriber, queues });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  const address = gateway.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  cleanups.push(async () => {
    await gateway.app.close();
    await Promise.all(Object.values(queues).map((q) => q.close()));
    redis.disconnect();
    subscriber.disconnect();
  });
  const outbox = new Outbox(admin, redisKeys(prefix), { maxEvents: 100, ttlSeconds: 600 });
  const url = (path: string) => `ws://127.0.0.1:${port}${path}`;
  return {
    prefix,
    gateway,
    queues,
    outbox,
    /** The gateway's own Redis connection (to cut it). */
    redis,
    url,
    connect: async (path: string, options?: Parameters<typeof TestClient.connect>[1]) => {
      const client = await TestClient.connect(url(path), options);
      cleanups.push(() => client.close());
      return client;
    },
    /** How the gateway answers an upgrade of `path` (101, or its HTTP refusal). */
    answer: (path: string, options?: Parameters<typeof answerToUpgrade>[1]) => answerToUpgrade(url(path), options),
    /** Socket slots the learner holds, live or not. */
    slotsHeld: (userId: string) => admin.zcard(redisKeys(prefix).sockets(userId)),
  };
}

/** Her whole reply to a turn, without audio. */
const replyData = (turnId = 'turn'): ReplyData => sampleReply(turnId);

/** A sentence of hers, numbered: any outbox event would do for delivery tests. */
const sentence = (n: number, chinese = `第${n}句。`) =>
  ({ type: 'reply_text', data: { turn_id: 'turn', index: n, chinese, pinyin: '' } }) as const;

describe('gateway', () => {
  it('answers health and readiness probes', async () => {
    const { gateway } = await startGateway();
    expect((await gateway.app.inject('/healthz')).statusCode).toBe(200);
    expect((await gateway.app.inject('/readyz')).json()).toMatchObject({ status: 'ready' });
    gateway.drain();
    expect((await gateway.app.inject('/readyz')).statusCode).toBe(503);
  });

  it('serves the web page and the client module it imports, with its source map', async () => {
    const { gateway } = await startGateway();
    const page = await gateway.app.inject('/');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module">');
    expect(page.body).toMatch(/^import \{ XiaoYueClient \} from '\/client\.js';$/m);

    const client = await gateway.app.inject('/client.js');
    expect(client.statusCode).toBe(200);
    expect(client.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(client.body).toMatch(/^export \{[^}]*\bXiaoYueClient\b/m);
    // No bare import a browser could not resolve: the module stands alone.
    expect(client.body).not.toMatch(/^import\b|\bfrom\s*["'][^./]/m);
    expect(client.body.trimEnd().split('\n').at(-1)).toBe('//# sourceMappingURL=/client.js.map');

    // Security headers: only this page's own inline script runs; never framed; no sniffing.
    const csp = String(page.headers['content-security-policy']);
    const inlineScript = /<script type="module">([\s\S]*?)<\/script>/.exec(page.body)?.[1] ?? '';
    expect(csp).toContain(`script-src 'self' 'sha256-${createHash('sha256').update(inlineScript).digest('base64')}'`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(client.headers['x-content-type-options']).toBe('nosniff');

    // Whatever asks for /favicon.ico (not the page: it has its icon inline) gets that same icon.
    const icon = await gateway.app.inject('/favicon.ico');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.body).toMatch(/^<svg [^>]*>.*小.*<\/svg>$/s);

    const map = await gateway.app.inject('/client.js.map');
    expect(map.statusCode).toBe(200);
    expect(map.json()).toMatchObject({
      version: 3,
      sources: expect.arrayContaining([expect.stringMatching(/client\.ts$/)]),
    });
  });

  it('accepts a chat: enqueues the turn and its deadline, answers typing', async () => {
    const { connect, queues, prefix } = await startGateway();
    const client = await connect('/ws/chat/ming');
    await client.next('welcome');
    client.send({ action: 'chat', message: '  你好  ', request_id: 'abc' });
    const typing = await client.next('typing');
    // The chat job is an entry of the chat queue's stream (partition 0: one partition).
    const entries = await admin.xrange(redisKeys(prefix).queueStream('chat'), '-', '+');
    const job = entries.map(([, fields]) => ({ id: fields[1], data: JSON.parse(fields[3] ?? '{}') }))[0];
    expect(job?.id).toBe(typing.data.turn_id);
    expect(job?.data).toMatchObject({ user_id: 'ming', message: '你好', user_role: '师兄', request_id: 'abc' });
    expect(job?.data.deadline_at - job?.data.enqueued_at).toBe(30_000);
    // Its deadline waits for the agents' sweep, TURN_TIMEOUT_MS from now.
    const [member, dueAt] = await admin.zrange(redisKeys(prefix).turnDeadlines(), '0', '-1', 'WITHSCORES');
    expect(JSON.parse(member ?? '{}')).toMatchObject({
      turn_id: typing.data.turn_id,
      user_id: 'ming',
      user_message: '你好',
    });
    expect(Number(dueAt) - job?.data.enqueued_at).toBe(30_000);
  });

  it('lets one turn per learner run at a time, across gateways', async () => {
    const prefix = uniquePrefix('gw');
    const [a, b] = [await startGateway(prefix), await startGateway(prefix)];
    const first = await a.connect('/ws/chat/lan');
    const second = await b.connect('/ws/chat/lan');
    await Promise.all([first.next('welcome'), second.next('welcome')]);
    first.send({ action: 'chat', message: '一' });
    await first.next('typing');
    second.send({ action: 'chat', message: '二' });
    expect((await second.next('error')).data.code).toBe('busy');
    // The turn's reply releases the lock.
    const typing = first.frames.find((f) => f.type === 'typing');
    await a.outbox.append('lan', { type: 'reply', data: replyData(typing?.data.turn_id) });
    second.send({ action: 'chat', message: '二' });
    expect((await second.next((f) => f.type === 'typing' || f.type === 'error')).type).toBe('typing');
  });

  it('streaming: a chat during her reply interrupts it and is sent once that turn ends; one it replaces is busy', async () => {
    const { connect, outbox, gateway, prefix } = await startGateway();
    const client = await connect('/ws/chat/talker?stream=1');
    await client.next('welcome');
    const first = await client.request({ action: 'chat', message: '一', request_id: 'a' }, 'typing');
    const turnId = first.data.turn_id;
    client.send({ action: 'chat', message: '二', request_id: 'b' });
    client.send({ action: 'chat', message: '三', request_id: 'c' });
    expect(await client.next('error')).toMatchObject({ request_id: 'b', data: { code: 'busy' } });
    expect(await admin.get(redisKeys(prefix).turnCancel('talker', turnId))).toBe('1');
    const audio = { turn_id: turnId, index: 0, audio_base64: 'UklGRg==', word_boundaries: [] };
    await outbox.append('talker', { type: 'reply_audio', data: audio });
    await outbox.append('talker', {
      type: 'reply_done',
      data: { ...replyData(turnId), sentences: 1, interrupted: true },
    });
    const next = await client.next((f) => f.type === 'typing' || f.type === 'error');
    expect(next).toMatchObject({ type: 'typing', request_id: 'c' });
    expect(next.data.turn_id).not.toBe(turnId);
    const metrics = await gateway.metrics.metrics();
    expect(metrics).toMatch(/xiaoyue_turn_first_audio_seconds_count\{[^}]*mode="stream"[^}]*\} 1/);
    expect(metrics).toMatch(/xiaoyue_turn_done_seconds_count\{[^}]*mode="stream"[^}]*\} 1/);
  });

  it('delivers outbox events to every socket of the learner, on any gateway, in seq order', async () => {
    const prefix = uniquePrefix('gw');
    const [a, b] = [await startGateway(prefix), await startGateway(prefix)];
    const phone = await a.connect('/ws/chat/hoa');
    const laptop = await b.connect('/ws/chat/hoa');
    const stranger = await b.connect('/ws/chat/other');
    await Promise.all([phone.next('welcome'), laptop.next('welcome'), stranger.next('welcome')]);
    for (let n = 1; n <= 5; n++) await a.outbox.append('hoa', sentence(n));
    for (const client of [phone, laptop]) {
      const seqs = [];
      for (let n = 1; n <= 5; n++) seqs.push((await client.next('reply_text')).seq);
      expect(seqs).toEqual([1, 2, 3, 4, 5]);
    }
    await expect(stranger.next('reply_text', 300)).rejects.toThrow();
  });

  it('fills a gap in the live stream from the outbox', async () => {
    const { connect, outbox, prefix } = await startGateway();
    const keys = redisKeys(prefix);
    const client = await connect('/ws/chat/gap');
    await client.next('welcome');
    await outbox.append('gap', sentence(1));
    // Event 2 reaches the outbox but its PUBLISH is lost (as during a subscriber reconnect).
    await admin.hincrby(keys.outboxMeta('gap'), 'seq', 1);
    await admin.xadd(
      keys.outboxStream('gap'),
      '2-0',
      'e',
      JSON.stringify({ seq: 2, ...sentence(2), status: 'success' }),
    );
    await outbox.append('gap', sentence(3));
    const got = [await client.next('reply_text'), await client.next('reply_text'), await client.next('reply_text')];
    expect(got.map((f) => [f.seq, f.data.index])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it('replays what a reconnecting client missed, then goes live; resyncs when it is gone', async () => {
    const { connect, outbox } = await startGateway(undefined, { OUTBOX_MAX_EVENTS: '10' });
    for (let n = 1; n <= 3; n++) await outbox.append('back', sentence(n));
    const client = await connect('/ws/chat/back?last_seq=1');
    expect((await client.next('welcome')).data.last_seq).toBe(3);
    expect([(await client.next('reply_text')).seq, (await client.next('reply_text')).seq]).toEqual([2, 3]);
    await outbox.append('back', sentence(4));
    expect((await client.next('reply_text')).seq).toBe(4);

    for (let n = 5; n <= 300; n++) await outbox.append('back', sentence(n));
    const late = await connect('/ws/chat/back?last_seq=2');
    await late.next('welcome');
    const resync = await late.next('resync');
    expect(resync.data).toMatchObject({ last_seq: 300, sulking_level: 0 });
    await outbox.append('back', sentence(301));
    expect((await late.next('reply_text')).seq).toBe(301);
  });

  it('handles reset, get_state and set_sulking, and keeps the socket open after bad frames', async () => {
    const { connect } = await startGateway();
    const client = await connect('/ws/chat/state-user/');
    expect((await client.next('welcome')).data).toMatchObject({
      user_id: 'state-user',
      sulking_level: 0,
      history_length: 0,
    });
    expect((await client.request({ action: 'set_sulking', level: 3, request_id: 'x' }, 'sulking_set')).request_id).toBe(
      'x',
    );
    expect((await client.request({ action: 'get_state' }, 'state')).data).toMatchObject({
      sulking_level: 3,
      history: [],
    });
    client.send('not json');
    expect((await client.next('error')).data.code).toBe('invalid_json');
    expect((await client.request({ action: 'reset' }, 'reset')).data).toEqual({
      sulking_level: 0,
      sulking_reason: null,
      history_length: 0,
    });
  });

  it('tells the learner in the welcome whether the agents run offline', async () => {
    const { connect, prefix } = await startGateway();
    expect((await (await connect('/ws/chat/a')).next('welcome')).data.mode).toBeUndefined();
    await admin.set(redisKeys(prefix).agentMode(), 'offline');
    expect((await (await connect('/ws/chat/a')).next('welcome')).data.mode).toBe('offline');
  });

  it('answers a bad user id with 400 and, draining, upgrades with 503, over HTTP; closes open sockets with 1012', async () => {
    const { connect, answer, gateway, url } = await startGateway();
    expect(await answer('/ws/chat/no%20spaces')).toEqual({
      status: 400,
      body: { error: 'invalid_user_id', message: 'user_id must be 1-64 of A-Z a-z 0-9 _ -' },
    });
    expect(await gateway.metrics.metrics()).toMatch(
      /^xiaoyue_upgrade_refusals_total\{[^}]*error="invalid_user_id"[^}]*\} 1$/m,
    );
    // A plain GET is not an upgrade: nothing to admit.
    expect((await fetch(url('/ws/chat/ok').replace('ws:', 'http:'))).status).toBe(404);
    const good = await connect('/ws/chat/ok');
    await good.next('welcome');
    gateway.drain();
    expect((await good.closed).code).toBe(1012);
    expect(await answer('/ws/chat/ok')).toMatchObject({
      status: 503,
      retryAfter: '5',
      body: { error: 'draining', message: expect.any(String) },
    });
  });

  it('serves /metrics on the chat port only for the METRICS_TOKEN bearer, and not at all without one', async () => {
    const metricsToken = 'k7Qp2vXr9LmT4sWy8ZbN3cHd6FgJ1aEu';
    const { gateway } = await startGateway(undefined, { METRICS_TOKEN: metricsToken });
    expect((await gateway.app.inject('/metrics')).statusCode).toBe(401);
    const wrong = await gateway.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${'x'.repeat(32)}` } });
    expect(wrong.statusCode).toBe(401);
    const scrape = await gateway.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${metricsToken}` } });
    expect(scrape.statusCode).toBe(200);
    expect(scrape.body).toMatch(/^xiaoyue_gateway_sockets\b/m);
    const { gateway: closed } = await startGateway();
    expect((await closed.app.inject('/metrics')).statusCode).toBe(404);
  });

  describe('who may connect, and how much', () => {
    const secret = 'a-test-secret-that-is-long-enough-1234';
    const key = new TextEncoder().encode(secret);
    const token = (sub: string, expiresIn: string | number = '5m', signWith = key) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(signWith);
    const jwtEnv = { AUTH_MODE: 'jwt', JWT_SECRET: secret };

    it('refuses to start in jwt mode without a secret, naming the variable', () => {
      expect(() => loadGatewayEnv({ REDIS_URL: server.url })).toThrow(/JWT_SECRET: required when AUTH_MODE=jwt/);
    });

    it('refuses placeholder and guessable secrets at start, saying how to make one', () => {
      for (const weak of ['a'.repeat(32), 'replace-me-with-at-least-32-random-characters', '12345678'.repeat(4)]) {
        expect(() => loadGatewayEnv({ REDIS_URL: server.url, ...jwtEnv, JWT_SECRET: weak })).toThrow(
          /JWT_SECRET: a placeholder or guessable value; make one with `openssl rand -base64 48`/,
        );
      }
      expect(() => loadGatewayEnv({ REDIS_URL: server.url, AUTH_MODE: 'dev', METRICS_TOKEN: 'x'.repeat(40) })).toThrow(
        /METRICS_TOKEN: a placeholder/,
      );
      expect(loadGatewayEnv({ REDIS_URL: server.url, ...jwtEnv }).JWT_SECRET).toBe(secret);
    });

    it('needs a valid, expiring token whose subject is the path user: 401 or 403 over HTTP otherwise', async () => {
      const { connect, answer } = await startGateway(undefined, { ...jwtEnv, JWT_MAX_AGE_SECONDS: '3600' });
      const now = Math.floor(Date.now() / 1000);
      const refusals: [string, number, string, string][] = [
        [
          '/ws/chat/ana',
          401,
          'token_required',
          'a token is required (?token= or Sec-WebSocket-Protocol: bearer, <token>)',
        ],
        ['/ws/chat/ana?token=garbage', 401, 'token_invalid', 'the token is not valid'],
        [
          `/ws/chat/ana?token=${await token('ana', '5m', new TextEncoder().encode('another-secret-that-is-long-enough-99'))}`,
          401,
          'token_invalid',
          'the token is not valid',
        ],
        [`/ws/chat/ana?token=${await token('ana', '-1m')}`, 401, 'token_expired', 'the token has expired'],
        [
          `/ws/chat/ana?token=${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('ana').sign(key)}`,
          401,
          'token_invalid',
          'the token has no expiry (exp)',
        ],
        // Longer than JWT_MAX_AGE_SECONDS: from its iat, or from now without one.
        [
          `/ws/chat/ana?token=${await token('ana', '2h')}`,
          401,
          'token_invalid',
          expect.stringMatching(/longer than 3600 s/),
        ],
        [
          `/ws/chat/ana?token=${await new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('ana')
            .setExpirationTime(now + 7_200)
            .sign(key)}`,
          401,
          'token_invalid',
          expect.stringMatching(/longer than 3600 s/),
        ],
        [`/ws/chat/ana?token=${await token('bob')}`, 403, 'wrong_user', 'the token is for another user'],
      ] as never;
      for (const [path, status, error, message] of refusals) {
        expect(await answer(path), path).toEqual({ status, body: { error, message } });
      }
      const viaQuery = await connect(`/ws/chat/ana?token=${await token('ana')}`);
      expect((await viaQuery.next('welcome')).data.user_id).toBe('ana');
      const viaProtocol = await connect('/ws/chat/ana', { protocols: ['bearer', await token('ana')] });
      expect((await viaProtocol.next('welcome')).data.user_id).toBe('ana');
      expect(viaProtocol.socket.protocol).toBe('bearer');
    });

    it('closes a socket whose token expires with 4001, and frees its slot', async () => {
      const { connect, slotsHeld } = await startGateway(undefined, { ...jwtEnv, HEARTBEAT_MS: '100' });
      const client = await connect(`/ws/chat/brief?token=${await token('brief', '2s')}`);
      await client.next('welcome');
      const opened = Date.now();
      expect(await client.closed).toEqual({
        code: 4001,
        reason: 'token expired; reconnect with a fresh token and last_seq',
      });
      // exp has a one-second resolution: up to 2 s, then at most one sweep.
      expect(Date.now() - opened).toBeLessThan(2_500);
      await expect.poll(() => slotsHeld('brief')).toBe(0);
    });

    it('lets only allowed browser origins in (403 over HTTP otherwise)', async () => {
      const { connect, answer } = await startGateway(undefined, {
        ALLOWED_ORIGINS: 'https://xiaoyue.example, http://localhost:8000',
      });
      expect(await answer('/ws/chat/o', { headers: { origin: 'https://evil.example' } })).toEqual({
        status: 403,
        body: { error: 'origin_not_allowed', message: 'origin not allowed' },
      });
      await (await connect('/ws/chat/o', { headers: { origin: 'https://xiaoyue.example' } })).next('welcome');
      await (await connect('/ws/chat/o')).next('welcome'); // not a browser
    });

    it('answers debug actions only when they are allowed', async () => {
      const { connect } = await startGateway(undefined, { ALLOW_DEBUG_ACTIONS: 'false' });
      const client = await connect('/ws/chat/debug');
      await client.next('welcome');
      expect((await client.request({ action: 'set_sulking', level: 3 }, 'sulking_set')).data.code).toBe('forbidden');
      expect((await client.request({ action: 'get_state' }, 'state')).data.sulking_level).toBe(0);
    });

    it('rate-limits a learner across gateways', async () => {
      const prefix = uniquePrefix('gw');
      const limits = { RATE_LIMIT_PER_MINUTE: '6', RATE_LIMIT_BURST: '3' };
      const [a, b] = [await startGateway(prefix, limits), await startGateway(prefix, limits)];
      const one = await a.connect('/ws/chat/fast');
      const two = await b.connect('/ws/chat/fast');
      await Promise.all([one.next('welcome'), two.next('welcome')]);
      const answers = [];
      for (const client of [one, two, one, two])
        answers.push((await client.request({ action: 'get_state' }, 'state')).type);
      expect(answers).toEqual(['state', 'state', 'state', 'error']);
      expect(two.frames.at(-1)?.data).toMatchObject({
        code: 'rate_limited',
        message: expect.stringMatching(/try again in \d+ s/),
      });
      // Another learner is not affected.
      const other = await a.connect('/ws/chat/slow');
      await other.next('welcome');
      expect((await other.request({ action: 'get_state' }, 'state')).type).toBe('state');
    });

    it("refuses a socket's flood without Redis, counting invalid frames, and closes it after MAX_CONSECUTIVE_REFUSALS", async () => {
      const { prefix, connect } = await startGateway(undefined, {
        RATE_LIMIT_PER_MINUTE: '6',
        RATE_LIMIT_BURST: '3',
        MAX_CONSECUTIVE_REFUSALS: '4',
      });
      const client = await connect('/ws/chat/flood');
      await client.next('welcome');
      client.send('{nope');
      for (let i = 0; i < 20; i++) client.send({ action: 'get_state', request_id: `s-${i}` });
      expect(await client.closed).toEqual({ code: 1008, reason: 'too many refused frames; slow down' });
      const answers = client.frames.slice(1).map((f) => f.data.code ?? `${f.type} ${f.request_id}`);
      expect(answers).toEqual(['invalid_json', 'state s-0', 'state s-1', ...Array(4).fill('rate_limited')]);
      expect(client.frames.at(-1)?.request_id).toBe('s-5');
      // Only the two frames let through took a token from the learner's bucket (3, refilling slowly).
      const tokens = Number(await admin.hget(redisKeys(prefix).rateBucket('flood'), 'tokens'));
      expect(tokens).toBeGreaterThanOrEqual(1);
      expect(tokens).toBeLessThan(1.1);
    });

    it('throttles connection attempts per learner and per address with 429 and Retry-After', async () => {
      const { connect, answer } = await startGateway(undefined, {
        ...jwtEnv,
        USER_CONNECTS_PER_MINUTE: '1',
        USER_CONNECT_BURST: '2',
        ADDRESS_CONNECTS_PER_MINUTE: '60',
        ADDRESS_CONNECT_BURST: '8',
      });
      // Attempts with bad tokens count for the address only: nobody can use up a learner's budget.
      for (let i = 0; i < 3; i++) expect((await answer('/ws/chat/lin?token=forged')).status).toBe(401);
      for (let i = 0; i < 2; i++) await (await connect(`/ws/chat/lin?token=${await token('lin')}`)).next('welcome');
      expect(await answer(`/ws/chat/lin?token=${await token('lin')}`)).toEqual({
        status: 429,
        retryAfter: expect.stringMatching(/^(59|60)$/),
        body: { error: 'too_many_connects', message: expect.stringMatching(/for this learner; try again in \d+ s/) },
      });
      await (await connect(`/ws/chat/mei?token=${await token('mei')}`)).next('welcome');
      // The address has used its eight: 3 forged, 2 + 1 for lin, 1 for mei, and this one.
      await (await connect(`/ws/chat/tao?token=${await token('tao')}`)).next('welcome');
      expect(await answer(`/ws/chat/tao?token=${await token('tao')}`)).toEqual({
        status: 429,
        retryAfter: '1',
        body: { error: 'too_many_connects', message: expect.stringMatching(/from this address/) },
      });
    });

    it('accepts tokens signed with a key from a JWKS URL; a JWKS it cannot reach is a 503, not a bad token', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      const jwks = createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
      );
      await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => jwks.close(resolve)));
      const { port } = jwks.address() as AddressInfo;
      const jwksEnv = {
        AUTH_MODE: 'jwt',
        JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
        JWT_ISSUER: 'https://login.example',
      };
      const { connect, answer } = await startGateway(undefined, jwksEnv);
      const sign = (issuer: string) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .setSubject('kim')
          .setIssuer(issuer)
          .setExpirationTime('5m')
          .sign(privateKey);
      await (await connect(`/ws/chat/kim?token=${await sign('https://login.example')}`)).next('welcome');
      expect(await answer(`/ws/chat/kim?token=${await sign('https://other.example')}`)).toMatchObject({
        status: 401,
        body: { error: 'token_invalid' },
      });
      const unreachable = await startGateway(undefined, { ...jwksEnv, JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json' });
      expect(await unreachable.answer(`/ws/chat/kim?token=${await sign('https://login.example')}`)).toEqual({
        status: 503,
        retryAfter: '5',
        body: { error: 'unavailable', message: 'tokens cannot be checked right now' },
      });
    });

    it('caps the open sockets of a learner across gateways: 429 before the upgrade', async () => {
      const prefix = uniquePrefix('gw');
      const [a, b] = [
        await startGateway(prefix, { MAX_SOCKETS_PER_USER: '2' }),
        await startGateway(prefix, { MAX_SOCKETS_PER_USER: '2' }),
      ];
      const first = await a.connect('/ws/chat/many');
      await first.next('welcome');
      await (await b.connect('/ws/chat/many')).next('welcome');
      expect(await b.answer('/ws/chat/many')).toEqual({
        status: 429,
        retryAfter: '30',
        body: { error: 'too_many_sockets', message: 'too many open connections (at most 2)' },
      });
      first.close();
      await first.closed;
      await expect.poll(() => a.slotsHeld('many')).toBe(1);
      await (await a.connect('/ws/chat/many')).next('welcome');
    });

    it('gives the last slot to one of many sockets racing for it; the others are refused and hold nothing', async () => {
      const { connect, slotsHeld } = await startGateway(undefined, { MAX_SOCKETS_PER_USER: '1' });
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const client = await connect('/ws/chat/racer').catch((error: Error) => error.message);
          if (typeof client === 'string') return client;
          const first = await client.next(() => true, 2_000).catch(() => undefined);
          return first?.type ?? `closed ${(await client.closed).code}`;
        }),
      );
      expect(outcomes.filter((outcome) => outcome === 'welcome')).toHaveLength(1);
      for (const outcome of outcomes.filter((o) => o !== 'welcome')) {
        expect(outcome).toMatch(/^(Unexpected server response: 429|closed 1008)$/);
      }
      expect(await slotsHeld('racer')).toBe(1);
    });

    it('holds no slot for upgrades that failed or were dropped before the 101', async () => {
      const { connect, url, slotsHeld } = await startGateway(undefined, { MAX_SOCKETS_PER_USER: '1' });
      const statuses = await Promise.all([
        ...Array.from({ length: 10 }, () => rawUpgrade(url('/ws/chat/flaky'), { badKey: true })),
        ...Array.from({ length: 10 }, () => rawUpgrade(url('/ws/chat/flaky'), { hangUp: 'before-answer' })),
        ...Array.from({ length: 10 }, () => rawUpgrade(url('/ws/chat/flaky'), { hangUp: 'midway' })),
      ]);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(400));
      await expect.poll(() => slotsHeld('flaky')).toBe(0);
      await (await connect('/ws/chat/flaky')).next('welcome');
    });

    it('answers 503 before the upgrade when Redis is unreachable', async () => {
      const { answer, redis } = await startGateway();
      redis.disconnect();
      expect(await answer('/ws/chat/lost')).toEqual({
        status: 503,
        retryAfter: '5',
        body: { error: 'unavailable', message: 'XiaoYue cannot reach her memory right now' },
      });
    });
  });

  it('terminates a socket that stops answering pings and frees its slot; one that answers stays', async () => {
    const { connect, gateway, slotsHeld } = await startGateway(undefined, { HEARTBEAT_MS: '100' });
    const alive = await connect('/ws/chat/awake');
    const silent = await connect('/ws/chat/asleep');
    await Promise.all([alive.next('welcome'), silent.next('welcome')]);
    expect(await slotsHeld('asleep')).toBe(1);
    // Not reading: pings go unanswered.
    (silent.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const paused = Date.now();
    await expect.poll(() => slotsHeld('asleep'), { interval: 20 }).toBe(0);
    // Two pings missed, then terminated at the next sweep: 2-3 intervals.
    expect(Date.now() - paused).toBeLessThan(600);
    expect(gateway.socketCount()).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(alive.socket.readyState).toBe(alive.socket.OPEN);
    expect(await slotsHeld('awake')).toBe(1);
  });

  it('closes a socket that does not read with 1013, and the learner resumes without losing anything', async () => {
    const { connect, prefix } = await startGateway(undefined, { MAX_SOCKET_BUFFER_BYTES: '65536' });
    // 12 MB of events: more than an outbox keeps by default, which is not what this is about.
    const outbox = new Outbox(admin, redisKeys(prefix), { maxEvents: 1000, maxBytes: 64 * 1_048_576, ttlSeconds: 600 });
    const slow = await connect('/ws/chat/slowpoke');
    await slow.next('welcome');
    // Stop reading: the kernel buffers fill up, then the gateway's own send buffer grows.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'x'.repeat(100_000);
    for (let n = 1; n <= 120; n++) await outbox.append('slowpoke', sentence(n, big));
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    expect((await slow.closed).code).toBe(1013);
    const received = slow.frames.filter((f) => f.type === 'reply_text').length;
    expect(received).toBeLessThan(120);
    const back = await connect(`/ws/chat/slowpoke?last_seq=${received}`);
    await back.next('welcome');
    const seqs = [];
    for (let n = received + 1; n <= 120; n++) seqs.push((await back.next('reply_text')).seq);
    expect(seqs).toEqual(Array.from({ length: 120 - received }, (_, i) => received + 1 + i));
  });
});
