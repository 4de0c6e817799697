import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  closeRedis,
  connectRedis,
  createProducerRedis,
  type EventData,
  eventData,
  type HistoryTurn,
  redisKeys,
  type ServerEventType,
  type ServerFrame,
} from '@xiaoyue/shared';
import {
  freePort,
  type RunningSystem,
  rejectionOf,
  repoRoot,
  type ServiceProcess,
  startService,
  startSystem,
  startTcpProxy,
  startTestRedis,
  TestClient,
  type TestRedis,
} from '@xiaoyue/test-support';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import WebSocket from 'ws';
import {
  type AnyServerFrame,
  backoffDelay,
  type ClientEvents,
  type ClientOptions,
  DEFAULT_RECONNECT,
  type ResumePosition,
  type TurnEndFrame,
  XiaoYueClient,
  XiaoYueError,
} from './index.js';

let redis: TestRedis;
let system: RunningSystem;
/** Gateways this file started beside the system's own (a replacement, a JWT one). */
const extraGateways: ServiceProcess[] = [];
const clients: XiaoYueClient[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  // No Gemini fake: the offline tutor answers and espeak speaks.
  system = await startSystem({ redisUrl: redis.url });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});
afterAll(async () => {
  await Promise.all(extraGateways.map((gateway) => gateway.stop()));
  await system?.stop();
  await redis?.stop();
});

const FAST_RECONNECT = { initialDelayMs: 50, maxDelayMs: 300 };
let learners = 0;

function newClient(options: Partial<ClientOptions> = {}): XiaoYueClient {
  const client = new XiaoYueClient({
    url: system.baseUrl,
    userId: `client-${Date.now().toString(36)}-${++learners}`,
    WebSocket,
    reconnect: FAST_RECONNECT,
    ...options,
  });
  clients.push(client);
  return client;
}

interface Recording {
  /** Every frame as received (the `frame` hook). */
  raw: AnyServerFrame[];
  /** Every event emitted, in order, connection events as `@open`, `@close`, `@reconnecting`. */
  events: { name: string; frame?: AnyServerFrame }[];
  /** The emitted events of one type (after de-duplication). */
  of<T extends ServerEventType>(type: T): ServerFrame<T>[];
}

/** Listens to every event of the catalog and of the connection. */
function record(client: XiaoYueClient): Recording {
  const recording: Recording = {
    raw: [],
    events: [],
    of: <T extends ServerEventType>(type: T) =>
      recording.events.filter((e) => e.frame?.type === type).map((e) => e.frame as ServerFrame<T>),
  };
  client.on('frame', (frame) => recording.raw.push(frame));
  for (const name of ['open', 'close', 'reconnecting'] as const) {
    client.on(name, () => recording.events.push({ name: `@${name}` }));
  }
  // Listening to each type in a loop: the union of names is not one listener type.
  const listen = client.on.bind(client) as (
    type: string,
    listener: (data: unknown, frame: AnyServerFrame) => void,
  ) => void;
  for (const type of Object.keys(eventData) as ServerEventType[]) {
    listen(type, (data, frame) => {
      // The data is the catalog's shape, exactly.
      expect(eventData[type].strict().safeParse(data).error?.issues ?? []).toEqual([]);
      recording.events.push({ name: type, frame });
    });
  }
  return recording;
}

/** The next emission of a client event, as its listener's arguments. */
function nextEvent<E extends keyof ClientEvents>(
  client: XiaoYueClient,
  event: E,
  timeoutMs = 15_000,
): Promise<Parameters<ClientEvents[E]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    const off = client.on(event, ((...args: Parameters<ClientEvents[E]>) => {
      clearTimeout(timer);
      off();
      resolve(args);
    }) as ClientEvents[E]);
  });
}

const gatewayPort = () => Number(new URL(system.baseUrl).port);

/** Starts a turn with the agent worker frozen, so that its reply cannot go out before `meanwhile` ran. */
async function chatWhileAgentFrozen(client: XiaoYueClient, meanwhile: () => Promise<void> | void) {
  system.agent.process.kill('SIGSTOP');
  try {
    const turn = await client.chat('你好');
    await meanwhile();
    return turn;
  } finally {
    system.agent.process.kill('SIGCONT');
  }
}
const repliesTo = (recording: Recording, turnId: string) =>
  recording.of('reply').filter((frame) => frame.data.turn_id === turnId);

describe('XiaoYueClient against the real services', () => {
  it('chats with typed events, answers requests by request_id and rejects error answers with their code', async () => {
    const client = newClient();
    const recording = record(client);
    const replies: EventData<'reply'>[] = [];
    client.on('reply', (data, frame) => {
      expectTypeOf(data).toEqualTypeOf<EventData<'reply'>>();
      expectTypeOf(frame).toEqualTypeOf<ServerFrame<'reply'>>();
      replies.push(data);
    });

    const welcome = await client.connect();
    expect(welcome.data).toMatchObject({ user_id: client.userId, mode: 'offline', last_seq: 0 });
    expect(client.connected).toBe(true);

    const { typing, reply } = await client.chat('你好');
    expect(typing).toMatchObject({ type: 'typing', request_id: expect.any(String), data: { is_typing: true } });
    const end = await reply;
    expectTypeOf(end).toEqualTypeOf<TurnEndFrame>();
    expect(end).toMatchObject({ type: 'reply', seq: 1, request_id: typing.request_id });
    expect(end.data).toMatchObject({ turn_id: typing.data.turn_id, chinese_content: '师兄好！今天也来练功吗？' });
    expect(replies).toEqual([end.data]);
    expect(client.lastSeq).toBe(1);

    const state = await client.request({ action: 'get_state' });
    expectTypeOf(state).toEqualTypeOf<ServerFrame<'state'>>();
    expectTypeOf(state.data.history).toEqualTypeOf<HistoryTurn[]>();
    expect(state.data.history.map((turn) => turn.user_message)).toEqual(['你好']);
    expect(state.request_id).toEqual(expect.any(String));
    expect(state.request_id).not.toBe(typing.request_id);
    const progress = await client.request({ action: 'get_progress', request_id: 'mine' });
    expect(progress).toMatchObject({ type: 'progress', request_id: 'mine' });

    // Answered through the outbox (with a seq): still the request's answer.
    const replay = await client.request({ action: 'replay', turn_id: typing.data.turn_id });
    expect(replay).toMatchObject({ type: 'replay_audio', seq: 2, data: { rate: 'slow' } });

    const unknown = await rejectionOf(
      client.request({ action: 'answer', quiz_id: 'q-none-1', answer: '本' }),
      XiaoYueError,
    );
    expect(unknown.code).toBe('unknown_quiz');
    expect(unknown.frame).toMatchObject({ type: 'error', request_id: expect.any(String) });

    const first = await client.chat('我是很好');
    const busy = await rejectionOf(client.chat('再说一遍'), XiaoYueError);
    expect(busy.code).toBe('busy');
    expect((await first.reply).data.action).toBe('correction');
    // Every frame was shown once, in the order received.
    expect(recording.events.filter((e) => e.frame).map((e) => e.frame)).toEqual(recording.raw);
  });

  it('streams a turn (stream: true): reply_start, the sentences and their audio, reply_done, in seq order', async () => {
    const client = newClient({ stream: true });
    const recording = record(client);
    await client.connect();
    const { typing, reply } = await client.chat('你好');
    const end = await reply;
    expect(end.type).toBe('reply_done');
    const turn = recording.events.map((e) => e.frame).filter((f) => f?.type.startsWith('reply_')) as AnyServerFrame[];
    expect(turn.at(-1)).toBe(end);
    expect(turn[0]?.type).toBe('reply_start');
    const seqs = turn.map((frame) => frame.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    for (const frame of turn) expect(frame).toMatchObject({ request_id: typing.request_id });
    const texts = recording.of('reply_text').map((frame) => frame.data.index);
    const audio = recording.of('reply_audio').map((frame) => frame.data.index);
    expect(texts).toEqual(texts.map((_, i) => i));
    expect(audio).toEqual(texts);
    if (end.type === 'reply_done') expect(end.data.sentences).toBe(texts.length);
  });

  it('survives a network cut mid-turn: a pending request is rejected, the reply arrives after the reconnect, once', async () => {
    const proxy = await startTcpProxy(gatewayPort());
    try {
      const client = newClient({ url: `ws://127.0.0.1:${proxy.port}` });
      const recording = record(client);
      await client.connect();
      // A second socket of the same learner, straight to the gateway, sees the reply go out.
      const witness = await TestClient.connect(`${system.baseUrl}/ws/chat/${client.userId}`);
      const closed = nextEvent(client, 'close');
      const reconnecting = nextEvent(client, 'reconnecting');
      let unanswered: Promise<unknown> = Promise.resolve();
      const { typing, reply } = await chatWhileAgentFrozen(client, () => {
        unanswered = client.request({ action: 'get_state' });
        proxy.refuse(true);
        proxy.cut();
      });
      const disconnected = await rejectionOf(unanswered, XiaoYueError);
      expect(disconnected.code).toBe('disconnected');
      expect(disconnected.message).toMatch(/may or may not have happened/);
      expect((await closed)[0]).toMatchObject({ code: 1006, willReconnect: true });
      expect((await reconnecting)[0]).toMatchObject({ attempt: 1 });
      expect(client.connected).toBe(false);

      await witness.next((f) => f.type === 'reply' && f.data.turn_id === typing.data.turn_id, 15_000);
      witness.close();
      proxy.refuse(false);
      const end = await reply;
      expect(end.data.turn_id).toBe(typing.data.turn_id);
      // Replayed on the new connection (after its welcome), and shown once.
      const names = recording.events.map((e) => e.name);
      expect(names.lastIndexOf('welcome')).toBeLessThan(names.indexOf('reply'));
      expect(names.filter((name) => name === 'welcome')).toHaveLength(2);
      expect(repliesTo(recording, typing.data.turn_id)).toHaveLength(1);
      expect((await client.request({ action: 'get_state' })).data.history_length).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('resumes where an earlier session stopped (resume option): what came meanwhile arrives, nothing twice', async () => {
    const first = newClient();
    // What an app keeps (in localStorage, say) to pass back after a reload.
    let stoppedAt: ResumePosition | undefined;
    first.on('position', (position) => (stoppedAt = position));
    const welcome = await first.connect();
    expect(stoppedAt).toEqual({ lastSeq: 0, epoch: welcome.data.epoch });
    const { reply } = await first.chat('你好');
    const shown = await reply;
    expect(stoppedAt).toEqual({ lastSeq: shown.seq, epoch: first.epoch });
    first.close();
    // While the learner is away (a reloaded page), another device of theirs has a turn.
    const other = newClient({ userId: first.userId });
    await other.connect();
    const missed = await (await other.chat('谢谢')).reply;

    const back = newClient({ userId: first.userId, resume: stoppedAt });
    expect(shown.seq).toBeLessThan(missed.seq ?? 0);
    const recording = record(back);
    await back.connect();
    await expect.poll(() => recording.of('reply').map((frame) => frame.seq)).toEqual([missed.seq]);
    expect(back.lastSeq).toBe(missed.seq);
    expect(recording.of('resync')).toEqual([]);
  });

  it('asks a url function before every connection, so that a reconnect can go to another gateway', async () => {
    const nobody = `ws://127.0.0.1:${await freePort()}`;
    // The second is the gateway's http:// address: a function's URL becomes ws:// like a string's.
    const gateways = [nobody, system.probes.gateway];
    const asked: string[] = [];
    const client = newClient({
      url: async () => {
        const next = gateways[asked.length % gateways.length] as string;
        asked.push(next);
        return next;
      },
    });
    const closes: Parameters<ClientEvents['close']>[0][] = [];
    client.on('close', (info) => closes.push(info));
    expect((await client.connect()).data.user_id).toBe(client.userId);
    expect(asked).toEqual(gateways);
    expect(closes).toEqual([{ code: 1006, reason: expect.any(String), willReconnect: true }]);
  });

  it('drops an outbox event it has already shown; the raw frame hook still sees it', async () => {
    // A socket that hands every outbox event to the client twice, like a duplicating server would.
    class RepeatingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        this.addEventListener('message', (event) => {
          if (String(event.data).includes('"seq":')) this.onmessage?.(event);
        });
      }
    }
    const client = newClient({ WebSocket: RepeatingWebSocket });
    const recording = record(client);
    await client.connect();
    const { typing, reply } = await client.chat('你好');
    await reply;
    expect(recording.raw.filter((f) => f.type === 'reply')).toHaveLength(2);
    expect(repliesTo(recording, typing.data.turn_id)).toHaveLength(1);
  });

  it('resyncs when the outbox was recreated while it was away, then carries on in the new epoch', async () => {
    const proxy = await startTcpProxy(gatewayPort());
    const redisClient = await connectRedis(createProducerRedis(redis.url, 'client-test'));
    try {
      const client = newClient({ url: `ws://127.0.0.1:${proxy.port}` });
      const recording = record(client);
      // An earlier session made the learner's outbox, so the welcome names its epoch. (A learner's
      // first welcome has none, and events do not carry it: see the README's limits.)
      const earlier = newClient({ userId: client.userId });
      await earlier.connect();
      await (await earlier.chat('你好')).reply;
      earlier.close();
      await client.connect();
      await (await client.chat('我是很好')).reply;
      const epochBefore = client.epoch;
      expect(epochBefore).toEqual(expect.any(String));
      expect(client.lastSeq).toBe(2);

      proxy.refuse(true);
      proxy.cut();
      await nextEvent(client, 'close');
      // The learner's outbox is gone (expired, say), and another tab's turn starts a new epoch.
      const keys = redisKeys(system.prefix);
      await redisClient.del(keys.outboxMeta(client.userId), keys.outboxStream(client.userId));
      const otherTab = newClient({ userId: client.userId });
      await otherTab.connect();
      await (await otherTab.chat('谢谢')).reply;
      otherTab.close();

      const resync = nextEvent(client, 'resync');
      proxy.refuse(false);
      const [data, frame] = await resync;
      expectTypeOf(frame).toEqualTypeOf<ServerFrame<'resync'>>();
      expect(data).toMatchObject({ last_seq: 1, history_length: 3, reason: expect.stringMatching(/recreated/) });
      expect(data.epoch).not.toBe(epochBefore);
      expect([client.lastSeq, client.epoch]).toEqual([1, data.epoch]);

      const { reply } = await client.chat('再见');
      expect(await reply).toMatchObject({ seq: 2, data: { chinese_content: expect.any(String) } });
      // The new epoch counts from 1 again: its seq 2 is not mistaken for the one already shown.
      expect(recording.of('reply').map((f) => f.seq)).toEqual([2, 2]);
    } finally {
      await closeRedis(redisClient);
      await proxy.close();
    }
  });

  it('authenticates with a token as subprotocol or query, and does not retry a refused upgrade (HTTP 400, 403)', async () => {
    const secret = 'a-secret-of-at-least-thirty-two-characters';
    const url = await startJwtGateway(secret);
    let tokensAsked = 0;
    const bySubprotocol = newClient({
      url,
      userId: 'ming',
      token: () => {
        tokensAsked++;
        return signedToken('ming', secret);
      },
    });
    expect((await bySubprotocol.connect()).data.user_id).toBe('ming');
    expect(tokensAsked).toBe(1);
    const byQuery = newClient({ url, userId: 'hua', token: signedToken('hua', secret), tokenIn: 'query' });
    expect((await byQuery.connect()).data.user_id).toBe('hua');

    for (const [refused, status] of [
      [newClient({ url, userId: 'ming', token: signedToken('hua', secret) }), 403],
      [newClient({ userId: 'not a user id!' }), 400],
    ] as const) {
      const recording = record(refused);
      const closes: Parameters<ClientEvents['close']>[0][] = [];
      refused.on('close', (info) => closes.push(info));
      const error = await rejectionOf(refused.connect(), XiaoYueError);
      expect(error).toMatchObject({ code: 'closed', message: `refused by the server (HTTP ${status})` });
      await new Promise((resolve) => setTimeout(resolve, FAST_RECONNECT.maxDelayMs * 2));
      expect(closes).toEqual([{ code: 1006, reason: '', status, willReconnect: false }]);
      expect(recording.events.map((e) => e.name)).not.toContain('@reconnecting');
    }
  });

  it('reconnects when its token expires (4001), asking the token function for a fresh one, and misses nothing', async () => {
    const secret = 'another-secret-of-at-least-thirty-two-chars';
    const url = await startJwtGateway(secret, { HEARTBEAT_MS: '200' });
    let tokensAsked = 0;
    const client = newClient({
      url,
      token: () => {
        tokensAsked++;
        return signedToken(client.userId, secret, 2);
      },
    });
    const recording = record(client);
    await client.connect();
    const expired = nextEvent(client, 'close', 5_000);
    // Her reply is held back until the socket it was asked on has expired.
    const { typing, reply } = await chatWhileAgentFrozen(client, async () => {
      expect((await expired)[0]).toEqual({
        code: 4001,
        reason: 'token expired; reconnect with a fresh token and last_seq',
        willReconnect: true,
      });
    });
    expect((await reply).data.turn_id).toBe(typing.data.turn_id);
    expect(tokensAsked).toBeGreaterThanOrEqual(2);
    expect(repliesTo(recording, typing.data.turn_id)).toHaveLength(1);
    const names = recording.events.map((e) => e.name);
    expect(names.lastIndexOf('welcome')).toBeLessThan(names.indexOf('reply'));
  });

  it('reconnects to a gateway started in place of a killed one and sees the reply once', async () => {
    const client = newClient();
    const recording = record(client);
    await client.connect();
    const closing = nextEvent(client, 'close');
    const { typing, reply } = await chatWhileAgentFrozen(client, () => system.gateway.kill());
    const [closed] = await closing;
    expect(closed.willReconnect).toBe(true);
    // Nothing listens on the port for a while: the attempts fail and back off.
    await nextEvent(client, 'reconnecting');
    await nextEvent(client, 'reconnecting');
    extraGateways.push(await startService('gateway', system.gatewayEnv, { label: 'gateway-2' }));

    const end = await reply;
    expect(end.data.turn_id).toBe(typing.data.turn_id);
    expect(repliesTo(recording, typing.data.turn_id)).toHaveLength(1);
    const names = recording.events.map((e) => e.name);
    expect(names.lastIndexOf('welcome')).toBeLessThan(names.indexOf('reply'));
    const attempts = recording.events.filter((e) => e.name === '@reconnecting').length;
    expect(attempts).toBeGreaterThanOrEqual(2);
    const { reply: next } = await client.chat('谢谢');
    expect((await next).seq).toBe((end.seq as number) + 1);
  });
});

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('in a browser (headless Chromium, apt package chromium)', () => {
  it("loads dist/index.js as an ES module as it is, and chats with the browser's own WebSocket", async () => {
    const dist = join(repoRoot, 'packages', 'client', 'dist');
    // The page imports the module by a relative URL: any bare import left in dist/ would fail here.
    const page = `<script type="module">import { XiaoYueClient } from './index.js'; window.XiaoYueClient = XiaoYueClient;</script>`;
    const files = createServer((request, response) => {
      const name = (request.url ?? '/').slice(1);
      if (!name) return void response.writeHead(200, { 'content-type': 'text/html' }).end(page);
      if (!/^[a-z-]+\.js$/.test(name) || !existsSync(join(dist, name))) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(dist, name)));
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
    try {
      const tab = await browser.newPage();
      const pageErrors: string[] = [];
      tab.on('pageerror', (error) => void pageErrors.push(String(error)));
      await tab.goto(`http://127.0.0.1:${(files.address() as AddressInfo).port}/`);
      await tab.waitForFunction(() => 'XiaoYueClient' in window);
      const turn = await tab.evaluate(
        async ({ url, userId }) => {
          const { XiaoYueClient: Client } = window as unknown as { XiaoYueClient: typeof XiaoYueClient };
          const client = new Client({ url, userId });
          const welcome = await client.connect();
          const { typing, reply } = await client.chat('你好');
          const end = await reply;
          client.close();
          return { welcome: welcome.data.user_id, typing: typing.data.turn_id, end: end.data };
        },
        { url: system.probes.gateway, userId: 'browser-learner' },
      );
      expect(turn.welcome).toBe('browser-learner');
      expect(turn.end).toMatchObject({ turn_id: turn.typing, chinese_content: '师兄好！今天也来练功吗？' });
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
      files.close();
    }
  });
});

describe('refused upgrades (a server answering every upgrade with one HTTP status)', () => {
  /** Answers every upgrade with `status`; counts the attempts. */
  async function refusingServer(status: number) {
    const server = createServer();
    let attempts = 0;
    server.on('upgrade', (_request, socket) => {
      attempts++;
      // The client may reset the connection as it gives up: not an error of this test.
      socket.on('error', () => {});
      socket.end(`HTTP/1.1 ${status} Refused\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
      attempts: () => attempts,
      close: () => new Promise((resolve) => server.close(resolve)),
    };
  }

  it.each([400, 401, 403])('stops at once on %i: retrying the same way cannot help', async (status) => {
    const server = await refusingServer(status);
    try {
      const client = newClient({ url: server.url });
      const error = await rejectionOf(client.connect(), XiaoYueError);
      expect(error).toMatchObject({ code: 'closed', message: `refused by the server (HTTP ${status})` });
      await new Promise((resolve) => setTimeout(resolve, FAST_RECONNECT.maxDelayMs * 2));
      expect(server.attempts()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('waits the longest delay after a 429, the usual backoff after a 503, and keeps trying', async () => {
    for (const [status, min, max] of [
      [429, FAST_RECONNECT.maxDelayMs / 2, FAST_RECONNECT.maxDelayMs],
      [503, 0, FAST_RECONNECT.initialDelayMs],
    ]) {
      const server = await refusingServer(status as number);
      try {
        const client = newClient({ url: server.url });
        const [closing, reconnecting] = [nextEvent(client, 'close'), nextEvent(client, 'reconnecting')];
        void client.connect().catch(() => {});
        expect((await closing)[0]).toEqual({ code: 1006, reason: '', status, willReconnect: true });
        const [{ attempt, delayMs }] = await reconnecting;
        expect(attempt).toBe(1);
        expect(delayMs).toBeGreaterThanOrEqual(min as number);
        expect(delayMs).toBeLessThanOrEqual(max as number);
        await expect.poll(() => server.attempts()).toBeGreaterThanOrEqual(2);
        client.close();
      } finally {
        await server.close();
      }
    }
  });
});

describe('backoffDelay', () => {
  it('doubles from the first delay up to the cap, less up to the jitter fraction', () => {
    const options = { ...DEFAULT_RECONNECT, initialDelayMs: 100, maxDelayMs: 1_000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, options, () => 0))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(backoffDelay(3, options, () => 1)).toBe(200);
    expect(backoffDelay(3, { ...options, jitter: 0 }, () => 1)).toBe(400);
  });
});

/** Starts a gateway like the system's, but with JWT auth; returns its URL. */
async function startJwtGateway(secret: string, env: Record<string, string> = {}): Promise<string> {
  const port = await freePort();
  extraGateways.push(
    await startService(
      'gateway',
      // No METRICS_PORT: the system's gateway has that one.
      { ...system.gatewayEnv, PORT: String(port), METRICS_PORT: '', AUTH_MODE: 'jwt', JWT_SECRET: secret, ...env },
      { label: 'jwt-gateway' },
    ),
  );
  return `ws://127.0.0.1:${port}`;
}

/** An HS256 JWT for `sub`, valid for `seconds` (ten minutes by default). */
function signedToken(sub: string, secret: string, seconds = 600): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub, exp: Math.floor(Date.now() / 1000) + seconds })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
