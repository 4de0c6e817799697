// `pnpm start` and `pnpm check` as a user runs them: real processes, a real redis-server, signals
// to one pid. Each run gets its own data directory (LOCAL_REDIS_DIR) and `.env` (XIAOYUE_ENV_FILE)
// so that a developer's own `pnpm start` in this checkout is not touched.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killOnExit, repoRoot, spawnRedisServer, type TestRedis } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

interface StartRun {
  child: ChildProcess;
  output: () => string;
  dir: string;
  /** Resolves with the exit code (or signal) once the process exited. */
  exited: Promise<number | string | null>;
}

interface StartState {
  ownerPid: number;
  redisPid: number;
  port: number;
}

const runs: StartRun[] = [];
let foreign: TestRedis & { port: number };

beforeAll(async () => {
  // "Another checkout's" Redis, on the port this checkout would like to use.
  foreign = await spawnRedisServer();
});
afterAll(async () => {
  await foreign?.stop();
});
afterEach(async () => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      // The pids first: once start.mjs is gone its children are no longer its children.
      const state = readState(run.dir);
      const pids = state ? [...childPids(state.ownerPid), state.redisPid, state.ownerPid] : [];
      run.child.kill('SIGTERM');
      await Promise.race([run.exited, new Promise((r) => setTimeout(r, 8_000))]);
      for (const pid of [...pids, run.child.pid as number]) killQuietly(pid);
    }
    rmSync(run.dir, { recursive: true, force: true });
  }
});

function killQuietly(pid: number) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The direct children of a process (pgrep -P). */
function childPids(pid: number): number[] {
  const result = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

function readState(dir: string): StartState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'start.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The environment of a run: only PATH, its own data dir and `.env`, and what the test adds. */
function runEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', LOCAL_REDIS_DIR: dir, XIAOYUE_ENV_FILE: join(dir, '.env'), ...extra };
}

/** Starts `node scripts/start.mjs --no-build` (or `pnpm start --no-build`) with `dotEnv` as its `.env`. */
function start(
  dotEnv: Record<string, string>,
  { viaPnpm = false, dir = mkdtempSync(join(tmpdir(), 'xiaoyue-start-')) } = {},
): StartRun {
  writeFileSync(
    join(dir, '.env'),
    Object.entries(dotEnv)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  const [command, args] = viaPnpm
    ? ['pnpm', ['start', '--no-build']]
    : [process.execPath, [join(repoRoot, 'scripts', 'start.mjs'), '--no-build']];
  const child = spawn(command as string, args as string[], {
    cwd: repoRoot,
    env: runEnv(dir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const run = { child, output: () => output, dir, exited };
  runs.push(run);
  return run;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitUntilUp(run: StartRun): Promise<StartState> {
  await waitFor(`XiaoYue is up in:\n${run.output()}`, () => run.output().includes('XiaoYue is up'));
  const state = readState(run.dir);
  if (!state) throw new Error('no start.json');
  return state;
}

/** Lines of `output` after `from` (a character offset), by service, without ANSI colours. */
function linesBy(output: string, from: number): Record<string, string[]> {
  const by: Record<string, string[]> = {};
  for (const line of output
    .slice(from)
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')) {
    const match = /^(\S+)\s*\| (.*)$/.exec(line);
    if (match) (by[match[1] as string] ??= []).push(match[2] as string);
  }
  return by;
}

function runCheck(dir: string, args: string[], extra: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(repoRoot, 'scripts', 'check.mjs'), ...args], {
    env: runEnv(dir, extra),
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const portAnswers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => {});
    redis.connect().then(
      () => {
        redis.disconnect();
        resolve(true);
      },
      () => resolve(false),
    );
  });

describe('pnpm start', () => {
  it('starts its own Redis (another port when its own is taken), reads .env, and pnpm check checks that Redis', async () => {
    const port = await freePort();
    const run = start({ PORT: String(port), LOCAL_REDIS_PORT: String(foreign.port), TTS_PROVIDER: 'espeak' });
    const state = await waitUntilUp(run);
    expect(run.output()).toContain(
      `port ${foreign.port} is taken by a Redis this checkout did not start; using port ${state.port}`,
    );
    expect(state.port).not.toBe(foreign.port);
    expect(state.ownerPid).toBe(run.child.pid);
    // PORT came from the .env file.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // Nothing of this checkout's system reached the other Redis.
    const other = new Redis(foreign.url);
    expect(await other.dbsize()).toBe(0);
    expect(await other.client('LIST')).not.toMatch(/name=(gateway|agent-worker|tts-worker)/);
    other.disconnect();

    // pnpm check: the same .env, the Redis pnpm start runs; no LLM is information, not a failure.
    const check = runCheck(run.dir, []);
    expect(check.stdout).toContain(`PASS redis: redis://127.0.0.1:${state.port}`);
    expect(check.stdout).toMatch(/^INFO llm: no LLM configured: the agents run the offline practice tutor/m);
    expect(check.stdout).toMatch(/PASS tts: espeak spoke/);
    expect(check.stdout).toContain('3 of 3 checks passed');
    expect(check.status).toBe(0);

    // A second pnpm start for the same checkout refuses instead of sharing.
    const second = start({ PORT: String(await freePort()) }, { dir: run.dir });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`pnpm start already runs for this checkout (pid ${run.child.pid}`);
  }, 60_000);

  it('stops everything it started within seconds of a SIGINT to its pid alone', async () => {
    const port = await freePort();
    const run = start({ PORT: String(port), LOCAL_REDIS_PORT: String(await freePort()) });
    const state = await waitUntilUp(run);
    const services = childPids(state.ownerPid).filter((pid) => pid !== state.redisPid);
    expect(services).toHaveLength(3);
    const started = Date.now();
    process.kill(state.ownerPid, 'SIGINT');
    expect(await run.exited).toBe(0);
    await waitFor('every child to exit', () => ![state.redisPid, ...services].some(isAlive), 5_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await portAnswers(state.port)).toBe(false);
    expect(readState(run.dir)).toBeUndefined();
  }, 60_000);

  // pnpm itself ignores a SIGINT sent to it alone (Ctrl-C in a terminal reaches the whole group);
  // a SIGTERM kills pnpm without passing it on: start.mjs then notices that its parent is gone.
  it('stops everything when `pnpm start` itself gets a SIGTERM', async () => {
    const run = start(
      { PORT: String(await freePort()), LOCAL_REDIS_PORT: String(await freePort()) },
      { viaPnpm: true },
    );
    const state = await waitUntilUp(run);
    const services = childPids(state.ownerPid).filter((pid) => pid !== state.redisPid);
    expect(services).toHaveLength(3);
    const started = Date.now();
    process.kill(run.child.pid as number, 'SIGTERM');
    await waitFor(
      'start.mjs, the services and Redis to exit',
      () => ![state.ownerPid, state.redisPid, ...services].some(isAlive),
      6_000,
    );
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(await portAnswers(state.port)).toBe(false);
  }, 60_000);

  it('logs a lost Redis once per service, without stack traces, and still stops within seconds', async () => {
    const run = start({ PORT: String(await freePort()), LOCAL_REDIS_PORT: String(await freePort()) });
    const state = await waitUntilUp(run);
    const before = run.output().length;
    process.kill(state.redisPid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 5_000));
    const by = linesBy(run.output(), before);
    for (const service of ['gateway', 'agent-worker', 'tts-worker']) {
      const complaints = (by[service] ?? []).filter((line) => / (warn|error|fatal) |Error|^\s+at /.test(line));
      expect(complaints.length, `${service}:\n${complaints.join('\n')}`).toBeGreaterThanOrEqual(1);
      expect(complaints.length, `${service}:\n${complaints.join('\n')}`).toBeLessThanOrEqual(5);
      expect(complaints[0]).toMatch(/redis connection lost; retrying/);
    }
    expect(run.output()).not.toContain('Unhandled error event');
    expect(run.output().slice(before)).not.toMatch(/^\S+\s*\|\s+at /m);
    expect(run.output()).toContain('redis-server exited (SIGKILL)');

    const started = Date.now();
    process.kill(state.ownerPid, 'SIGINT');
    await run.exited;
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(childPids(state.ownerPid)).toEqual([]);
  }, 60_000);
});

describe('pnpm start after one was killed outright (SIGKILL)', () => {
  it('stops the services and the Redis the killed one left running, then starts its own', async () => {
    const env = { PORT: String(await freePort()), LOCAL_REDIS_PORT: String(await freePort()) };
    const first = start(env);
    const left = await waitUntilUp(first);
    const services = childPids(left.ownerPid).filter((pid) => pid !== left.redisPid);
    expect(services).toHaveLength(3);
    process.kill(left.ownerPid, 'SIGKILL');
    await first.exited;
    expect([left.redisPid, ...services].every(isAlive)).toBe(true);

    const second = start(env, { dir: first.dir });
    const state = await waitUntilUp(second);
    expect(second.output()).toContain(
      `stopping the redis-server (pid ${left.redisPid}) a previous pnpm start left running`,
    );
    expect(second.output().match(/stopping a service \(pid \d+\) a previous pnpm start left running/g)).toHaveLength(3);
    expect([left.redisPid, ...services].some(isAlive)).toBe(false);
    // Its port again: the killed one's Redis is gone, the port is this checkout's.
    expect(state.port).toBe(left.port);
  }, 60_000);
});

describe('pnpm check without pnpm start running', () => {
  it('says which Redis pnpm start would start, and offline mode is not a failure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xiaoyue-check-'));
    try {
      const check = runCheck(dir, ['redis', 'llm']);
      expect(check.stdout).toMatch(/^PASS redis: not running yet; pnpm start will start redis-server 7\.\d+\.\d+ on /m);
      expect(check.stdout).toMatch(/^INFO llm: no LLM configured/m);
      expect(check.status).toBe(0);
      // A configured Redis is the one checked.
      const configured = runCheck(dir, ['redis'], { REDIS_URL: foreign.url });
      expect(configured.stdout).toMatch(new RegExp(`^PASS redis: redis://127\\.0\\.0\\.1:${foreign.port}`, 'm'));
      expect(configured.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails for a configured Redis that does not answer, read from .env', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xiaoyue-check-'));
    try {
      writeFileSync(join(dir, '.env'), `# copied and edited\nREDIS_URL=redis://127.0.0.1:${await freePort()}\n`);
      const check = runCheck(dir, ['redis']);
      expect(check.stdout).toContain('configuration: the environment over');
      expect(check.stdout).toMatch(/FAIL redis: .*ECONNREFUSED/);
      expect(check.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
