// What `pnpm start` and `pnpm check` share: the configuration (the environment over `.env`), which
// Redis the system uses, and the record of the redis-server `pnpm start` started for this checkout.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_LOCAL_REDIS_PORT = 6390;

/**
 * `KEY=value` lines of a dotenv file (`#` comments, optional `export `, single or double quotes).
 * Variables already in the environment win, as with docker compose.
 */
export function parseDotEnv(text) {
  const values = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2];
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? quoted[2].replace(/\\n/g, '\n') : quoted[2];
    else value = value.replace(/\s+#.*$/, '');
    values[match[1]] = value;
  }
  return values;
}

/**
 * The configuration `pnpm start` runs with and `pnpm check` checks: the checkout's `.env` (or the
 * file XIAOYUE_ENV_FILE names), overridden by the environment.
 */
export function loadConfig(environment = process.env) {
  const file = environment.XIAOYUE_ENV_FILE || join(root, '.env');
  const fromFile = existsSync(file) ? parseDotEnv(readFileSync(file, 'utf8')) : {};
  return { env: { ...fromFile, ...environment }, envFile: existsSync(file) ? file : undefined };
}

/** The Redis the configuration names (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS), if any. */
export function configuredRedis(env) {
  const named = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'].filter((name) => env[name]);
  return named.length === 0 ? undefined : { names: named, value: env[named[0]] };
}

/** Where `pnpm start` keeps its Redis's data and its record of it. */
export function localRedisDir(env) {
  return env.LOCAL_REDIS_DIR ? resolve(root, env.LOCAL_REDIS_DIR) : join(root, '.data', 'redis');
}

export function shortPath(path) {
  const rel = relative(root, path);
  return rel.startsWith('..') ? path : rel;
}

/** The port `pnpm start` tries first: LOCAL_REDIS_PORT, else the one it used last time, else 6390. */
export function preferredRedisPort(env, state) {
  if (env.LOCAL_REDIS_PORT) {
    const port = Number(env.LOCAL_REDIS_PORT);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new Error(`LOCAL_REDIS_PORT=${env.LOCAL_REDIS_PORT} is not a port (1-65535)`);
    }
    return port;
  }
  return state?.port ?? DEFAULT_LOCAL_REDIS_PORT;
}

const stateFile = (dir) => join(dir, 'start.json');

/** What `pnpm start` recorded: `{ ownerPid, redisPid, port, startedAt }`, or undefined. */
export function readRedisState(dir) {
  try {
    const state = JSON.parse(readFileSync(stateFile(dir), 'utf8'));
    return Number.isInteger(state.port) && Number.isInteger(state.redisPid) ? state : undefined;
  } catch {
    return undefined;
  }
}

export function writeRedisState(dir, state) {
  writeFileSync(stateFile(dir), `${JSON.stringify(state, null, 2)}\n`);
}

export function removeRedisState(dir) {
  rmSync(stateFile(dir), { force: true });
}

export function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** The command line of a process (Linux /proc, else ps), or '' when it is gone. */
export function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    const ps = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return ps.status === 0 ? ps.stdout.trim() : '';
  }
}

/**
 * The Redis `pnpm start` started for this checkout and that still runs, with whether the
 * `pnpm start` that started it still runs; undefined when there is none.
 */
export function runningLocalRedis(dir) {
  const state = readRedisState(dir);
  if (!state || !isAlive(state.redisPid) || !commandOf(state.redisPid).includes('redis-server')) return undefined;
  const ownerRunning = isAlive(state.ownerPid) && commandOf(state.ownerPid).includes('start.mjs');
  return { ...state, ownerRunning };
}

/** Resolves true if something at `url` answers a Redis PING (an auth error also counts as an answer). */
export function redisAnswers(url, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      return resolve(false);
    }
    const socket = connect({ host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 6379) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH|-ERR)/.test(data.toString())));
  });
}

/** Whether nothing listens on 127.0.0.1:`port` (a listen attempt succeeds). */
export function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `preferred` if it is free, else the next free port above it (up to 100 tries), else undefined. */
export async function freePortFrom(preferred) {
  for (let port = preferred; port < Math.min(preferred + 100, 65_536); port++) {
    if (await portIsFree(port)) return port;
  }
  return undefined;
}

/** `redis-server --version`'s version, or undefined when it is not installed. */
export function redisServerVersion() {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  return /v=(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1] ?? 'unknown';
}
