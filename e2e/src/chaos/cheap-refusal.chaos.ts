import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { startTestRedis } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Learner } from '../learner.js';
import { type RunningSystem, startSystem } from '../system.js';

const FRAMES = Number(process.env.CHAOS_FLOOD_FRAMES ?? 20_000);
const CONNECTS = Number(process.env.CHAOS_CONNECTS ?? 1_000);
/** The production defaults (the other scenarios run with a larger budget). */
const BUDGET = { RATE_LIMIT_PER_MINUTE: '60', RATE_LIMIT_BURST: '10' };
const BURST = Number(BUDGET.RATE_LIMIT_BURST);
const MAX_CONSECUTIVE_REFUSALS = 50;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Frames no valid client sends, one of each kind the gateway refuses (oversize and binary included). */
const INVALID_FRAMES: (string | Buffer)[] = [
  '{nope',
  JSON.stringify({ action: 'fly', request_id: 'x' }),
  JSON.stringify({ request_id: 'x' }),
  JSON.stringify({ action: 'chat', message: 7 }),
  JSON.stringify({ action: 'set_level', level: 'high' }),
  '[1,2,3]',
  Buffer.from([1, 2, 3]),
];
const OVERSIZE_FRAME = JSON.stringify({ action: 'chat', message: 'x'.repeat(16_400) });

/** Where the costs are read: the test Redis and the gateway process. */
interface Probe {
  admin: Redis;
  gatewayPid: number;
}

interface Cost {
  /** INFO commandstats calls, scripts' inner commands included. */
  redisCommands: number;
  gatewayCpuMs: number;
}

/** What one flood of frames on one socket cost the gateway and Redis, and how the socket ended. */
interface Flood extends Cost {
  sent: number;
  /** Answers by type (errors by code). */
  answers: Record<string, number>;
  /** The close, how long after the first frame it came, and at which frame (the gateway's log); undefined: still open at the end. */
  closed?: { code: number; reason: string; afterMs: number; atFrame?: number };
}

/**
 * R10: refusing is local and cheap. With the default budget, a learner floods one socket with
 * 20,000 frames it is not allowed (get_progress past its budget), another with 20,000 invalid
 * frames; the first reconnects and floods again; a raw client keeps sending after its close; one
 * address opens 1,000 sockets in a second (reported, not asserted: connect throttling is another
 * piece of work). Counts Redis commands (INFO commandstats, scripts' inner commands included) and
 * the gateway's CPU (/proc/<pid>/stat).
 */
it(`R10: ${FRAMES} refused and ${FRAMES} invalid frames on one socket, a reconnect, ${CONNECTS} connects/s: refusals cost no Redis, the socket is closed`, async () => {
  const redis = await startTestRedis();
  const admin = new Redis(redis.url);
  const system = await startSystem({ redisUrl: redis.url, gatewayEnv: BUDGET });
  const probe = { admin, gatewayPid: system.gateway.process.pid as number };
  try {
    const refused = await flood(system, probe, 'flooder', (i) =>
      JSON.stringify({ action: 'get_progress', request_id: `p-${i}` }),
    );
    const invalid = await flood(system, probe, 'fuzzer', (i) =>
      i % 100 === 99 ? OVERSIZE_FRAME : (INVALID_FRAMES[i % INVALID_FRAMES.length] as string | Buffer),
    );
    // The flooder again, on a new socket: its shared budget is spent, so Redis is asked once.
    const again = await flood(system, probe, 'flooder', (i) =>
      JSON.stringify({ action: 'get_progress', request_id: `q-${i}` }),
    );
    const deaf = await measure(probe, () => ignoreTheClose(system, 'deaf'));
    const connects = await measure(probe, () => connectFlood(system, CONNECTS));

    const costOf = (c: Cost) => `${c.redisCommands} Redis commands; gateway CPU ${c.gatewayCpuMs} ms`;
    const floodLine = (name: string, f: Flood) =>
      `${f.sent} ${name}: ${listOf(f.answers)}; ${costOf(f)} (${(f.redisCommands / f.sent).toFixed(4)} commands/frame); ` +
      (f.closed
        ? `closed ${f.closed.code} at frame ${f.closed.atFrame}, ${f.closed.afterMs} ms after the first`
        : 'still open after the last answer');
    console.log(
      [
        `CHAOS R10 cheap refusal: ${floodLine('refused frames', refused)}`,
        floodLine('invalid frames', invalid),
        floodLine('refused frames after a reconnect', again),
        `a client that ignores the close: cut off ${deaf.result.cutOffMs} ms after the close frame (${deaf.result.sent} frames sent); ${costOf(deaf)}`,
        `${CONNECTS} connects from one address in ${connects.result.sendMs} ms: ${listOf(connects.result.outcomes)}, settled after ${connects.result.settledMs} ms; ${costOf(connects)}`,
      ].join(' | '),
    );
    // Within the burst frames are answered as before; then each refusal is answered rate_limited until
    // the one after MAX_CONSECUTIVE_REFUSALS, which closes the socket.
    for (const f of [refused, invalid, again]) {
      expect(f.redisCommands / f.sent).toBeLessThanOrEqual(0.01);
      expect(f.closed).toMatchObject({ code: 1008, reason: 'too many refused frames; slow down' });
      expect(f.answers.rate_limited).toBe(MAX_CONSECUTIVE_REFUSALS);
    }
    expect(refused.answers.progress).toBe(BURST);
    expect(refused.closed?.atFrame).toBe(BURST + MAX_CONSECUTIVE_REFUSALS + 1);
    expect(sumOf(invalid.answers) - MAX_CONSECUTIVE_REFUSALS).toBe(BURST);
    expect(invalid.closed?.atFrame).toBe(BURST + MAX_CONSECUTIVE_REFUSALS + 1);
    // The new socket's own budget lets its burst through towards Redis, which refuses the first
    // frame; its "retry after" refuses the rest here (one script call in all). Every frame was
    // refused, so the close comes at the refusal after the 50th: frame 51 to 61, depending on how
    // many came before Redis answered.
    expect(again.answers.progress ?? 0).toBe(0);
    expect(again.closed?.atFrame).toBeGreaterThanOrEqual(MAX_CONSECUTIVE_REFUSALS + 1);
    expect(again.closed?.atFrame).toBeLessThanOrEqual(BURST + MAX_CONSECUTIVE_REFUSALS + 1);
    // ws would read on for 30 s waiting for the client's close frame; the gateway cuts it off after 1 s.
    expect(deaf.result.cutOffMs).toBeGreaterThanOrEqual(900);
    expect(deaf.result.cutOffMs).toBeLessThan(3_000);
    expect(system.gateway.process.exitCode).toBeNull();
  } finally {
    admin.disconnect();
    await system.stop();
    await redis.stop();
  }
});

async function measure<T>(probe: Probe, work: () => Promise<T>): Promise<Cost & { result: T }> {
  const [commands, cpuMs] = [await redisCommands(probe.admin), gatewayCpuMs(probe.gatewayPid)];
  const result = await work();
  return {
    result,
    redisCommands: (await redisCommands(probe.admin)) - commands,
    gatewayCpuMs: gatewayCpuMs(probe.gatewayPid) - cpuMs,
  };
}

/** Sends `FRAMES` frames on one socket at once, then waits for the close or for every answer. */
async function flood(
  system: RunningSystem,
  probe: Probe,
  userId: string,
  frame: (i: number) => string | Buffer,
): Promise<Flood> {
  const learner = await system.connect(userId);
  await learner.next('welcome');
  const taken = learner.frames.length;
  let closed: Flood['closed'];
  const { redisCommands, gatewayCpuMs } = await measure(probe, async () => {
    const startedAt = performance.now();
    void learner.closed.then(({ code, reason }) => {
      closed = { code, reason, afterMs: Math.round(performance.now() - startedAt) };
    });
    for (let i = 0; i < FRAMES; i++) learner.socket.send(frame(i));
    await settled(learner, taken + FRAMES, () => closed !== undefined);
  });
  const answers: Record<string, number> = {};
  for (const f of learner.frames.slice(taken)) {
    const key = f.type === 'error' ? (f.data.code as string) : f.type;
    answers[key] = (answers[key] ?? 0) + 1;
  }
  learner.close();
  if (closed) closed.atFrame = closedAtFrame(system, userId);
  return { sent: FRAMES, answers, redisCommands, gatewayCpuMs, closed };
}

/** Resolves when `done()` or `frames` frames came, or when nothing came for 3 s. */
async function settled(learner: Learner, frames: number, done: () => boolean): Promise<void> {
  let seen = -1;
  let quietSince = performance.now();
  while (!done() && learner.frames.length < frames && performance.now() - quietSince < 3_000) {
    if (learner.frames.length !== seen) [seen, quietSince] = [learner.frames.length, performance.now()];
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A client on a raw TCP socket that sends get_state frames without pause, before and after the
 * gateway's close frame (a WebSocket library would stop): resolves with how long after the close
 * frame the gateway ended the connection, and how many frames were sent.
 */
async function ignoreTheClose(system: RunningSystem, userId: string): Promise<{ cutOffMs: number; sent: number }> {
  const socket = connect(Number(new URL(system.baseUrl).port), '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET /ws/chat/${userId} HTTP/1.1\r\nHost: gateway\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let received = '';
  let closeFrameAt: number | undefined;
  socket.on('data', (data: Buffer) => {
    received += data.toString('latin1');
    if (closeFrameAt === undefined && received.includes('slow down')) closeFrameAt = performance.now();
  });
  await new Promise((resolve) => setTimeout(resolve, 300)); // the welcome
  const frame = maskedTextFrame(JSON.stringify({ action: 'get_state' }));
  let sent = 0;
  const sender = setInterval(() => {
    for (let i = 0; i < 200; i++, sent++) socket.write(frame);
  }, 5);
  const endedAt = await new Promise<number>((resolve) => {
    socket.once('close', () => resolve(performance.now()));
    setTimeout(() => resolve(Number.POSITIVE_INFINITY), 10_000);
  });
  clearInterval(sender);
  socket.destroy();
  return { cutOffMs: Math.round(endedAt - (closeFrameAt ?? Number.NaN)), sent };
}

/** A client's text frame (clients must mask theirs), payload under 126 bytes. */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = payload.map((byte, i) => byte ^ (mask[i % 4] as number));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** Opens `count` sockets (distinct learners) from this address within a second; counts how each ended. */
async function connectFlood(system: RunningSystem, count: number) {
  const outcomes: Record<string, number> = {};
  const startedAt = performance.now();
  const attempts: Promise<string>[] = [];
  for (let batch = 0; batch < 10; batch++) {
    for (let i = (batch * count) / 10; i < ((batch + 1) * count) / 10; i++) attempts.push(connectOnce(system, i));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const sendMs = Math.round(performance.now() - startedAt);
  const results = await Promise.all(attempts);
  for (const outcome of results) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  return { outcomes, sendMs, settledMs: Math.round(performance.now() - startedAt) };
}

/** One connect: `welcomed`, `closed <code>`, `http <status>` or `error <code>`. */
function connectOnce(system: RunningSystem, i: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${system.baseUrl}/ws/chat/crowd-${i}`);
    const end = (outcome: string) => {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.terminate();
      resolve(outcome);
    };
    socket.once('message', () => end('welcomed'));
    socket.once('close', (code) => end(`closed ${code}`));
    socket.once('unexpected-response', (_request, response) => end(`http ${response.statusCode}`));
    socket.once('error', (error: NodeJS.ErrnoException) => end(`error ${error.code ?? error.message}`));
  });
}

/** The frame count of the gateway's newest "closing a socket that keeps sending refused frames" for this learner. */
function closedAtFrame(system: RunningSystem, userId: string): number | undefined {
  const closes = system.gateway
    .output()
    .split('\n')
    .filter((line) => line.includes('keeps sending refused frames') && line.includes(`"userId":"${userId}"`));
  const last = closes.at(-1);
  return last ? (JSON.parse(last) as { frames: number }).frames : undefined;
}

/** Commands Redis has run (scripts' inner commands included), but INFO itself. */
async function redisCommands(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  let calls = 0;
  for (const [, name, n] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (name !== 'info') calls += Number(n);
  return calls;
}

/** The gateway process's user + system CPU time so far, in ms. */
function gatewayCpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Math.round(((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK);
}

/** `3 welcomed, 2 closed 1008` */
function listOf(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([what, n]) => `${n} ${what}`)
    .join(', ');
}

function sumOf(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
