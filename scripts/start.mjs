#!/usr/bin/env node
// One command runs the whole system: builds what is stale, starts its own Redis (unless the
// configuration names one), then runs the gateway, one agent worker and one TTS worker as child
// processes with prefixed logs. Configuration: the environment over the checkout's `.env`.
// SIGINT or SIGTERM (Ctrl-C), or its parent going away (e.g. `pnpm` killed), stops everything it
// started within seconds: the services first, then the Redis. `--no-build` skips the build.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  commandOf,
  configuredRedis,
  freePortFrom,
  isAlive,
  loadConfig,
  localRedisDir,
  portIsFree,
  preferredRedisPort,
  readRedisState,
  redisAnswers,
  redisServerVersion,
  removeRedisState,
  root,
  runningLocalRedis,
  shortPath,
  writeRedisState,
} from './local-config.mjs';

const { env: config, envFile } = loadConfig();
const services = ['gateway', 'agent-worker', 'tts-worker'];
const colour = { gateway: 36, 'agent-worker': 35, 'tts-worker': 33, redis: 31, start: 32 };
/** Every process this script started: the services, then (last) its redis-server. */
const children = [];
const ready = new Set();
let stopping = false;
/** The Redis data directory whose record (start.json) this script owns, once it started one. */
let ownedRedisDir;
/** What this script recorded there (start.json): its pid, its Redis's, the port, the services' pids. */
let ownedState;

function say(name, line) {
  process.stdout.write(`\x1b[${colour[name] ?? 37}m${name.padEnd(12)}\x1b[0m | ${line}\n`);
}

const OLLAMA_URL = 'http://127.0.0.1:11434';

/** The models of an Ollama answering on this machine (GET /api/tags, else /v1/models), or undefined. */
async function localOllamaModels(timeoutMs = 400) {
  for (const [path, names] of [
    ['/api/tags', (body) => body.models?.map((m) => m.name)],
    ['/v1/models', (body) => body.data?.map((m) => m.id)],
  ]) {
    try {
      const response = await fetch(`${OLLAMA_URL}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) continue;
      const found = names(await response.json());
      return Array.isArray(found) ? found.filter((n) => typeof n === 'string') : [];
    } catch {
      // nothing there, or not an Ollama
    }
  }
  return undefined;
}

const LEVELS = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: '\x1b[33mwarn\x1b[0m',
  50: '\x1b[31merror\x1b[0m',
  60: '\x1b[31mfatal\x1b[0m',
};
const QUIET_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'service', 'name', 'msg']);

/** A pino JSON line as "12:00:01 info message key=value …"; other lines as they are. */
function readable(line) {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line);
    const time = new Date(entry.time).toTimeString().slice(0, 8);
    const extras = Object.entries(entry)
      .filter(([key]) => !QUIET_FIELDS.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    return `${time} ${LEVELS[entry.level] ?? entry.level} ${entry.msg ?? ''}${extras ? `  \x1b[2m${extras}\x1b[0m` : ''}`;
  } catch {
    return line;
  }
}

function pipeLogs(name, child) {
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream?.on('data', (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes(`"msg":"${name} ready"`)) ready.add(name);
        say(name, readable(line));
      }
    });
  }
}

async function startLocalRedis() {
  if (!redisServerVersion()) {
    say('start', 'No Redis is configured (REDIS_URL) and `redis-server` is not installed. Get one of:');
    say('start', '  Debian/Ubuntu: sudo apt-get install redis-server');
    say('start', '  macOS:         brew install redis');
    say('start', '  Docker:        docker compose up   (runs the whole system in containers)');
    say('start', 'or point REDIS_URL at a running Redis 7+.');
    process.exit(1);
  }
  const dir = localRedisDir(config);
  mkdirSync(dir, { recursive: true });
  // What a previous `pnpm start` of this checkout recorded: its Redis may still run.
  const running = runningLocalRedis(dir);
  if (running?.ownerRunning) {
    say(
      'start',
      `pnpm start already runs for this checkout (pid ${running.ownerPid}, its Redis on port ${running.port}); stop it first`,
    );
    process.exit(1);
  }
  // A pnpm start killed outright (SIGKILL) leaves its services and Redis running: stop them.
  const previous = readRedisState(dir);
  for (const pid of previous?.servicePids ?? []) {
    if (!isAlive(pid) || !commandOf(pid).includes(join(root, 'services'))) continue;
    say('start', `stopping a service (pid ${pid}) a previous pnpm start left running`);
    await stopPid(pid, 5_000);
  }
  if (running) {
    say('start', `stopping the redis-server (pid ${running.redisPid}) a previous pnpm start left running`);
    await stopPid(running.redisPid, 5_000);
  }
  let preferred;
  try {
    preferred = preferredRedisPort(config, readRedisState(dir));
  } catch (error) {
    say('start', error.message);
    process.exit(1);
  }
  let port = preferred;
  if (!(await portIsFree(preferred))) {
    port = await freePortFrom(preferred + 1);
    if (port === undefined) {
      say('start', `port ${preferred} and the 99 above it are taken; set LOCAL_REDIS_PORT to a free port`);
      process.exit(1);
    }
    const what = (await redisAnswers(`redis://127.0.0.1:${preferred}`)) ? 'a Redis' : 'another program';
    say(
      'start',
      `port ${preferred} is taken by ${what} this checkout did not start; using port ${port} for its own Redis (set LOCAL_REDIS_PORT to choose)`,
    );
  }
  const url = `redis://127.0.0.1:${port}`;
  say('start', `starting redis-server on ${url} (data in ${shortPath(dir)}, AOF on)`);
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
    ],
    // Its own process group: Ctrl-C in the terminal reaches only this script, which stops the
    // services before Redis.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  children.push({ name: 'redis', child, last: true });
  ownedRedisDir = dir;
  ownedState = { ownerPid: process.pid, redisPid: child.pid, port, startedAt: new Date().toISOString() };
  writeRedisState(dir, ownedState);
  pipeLogs('redis', child);
  child.on('exit', (code, signal) => {
    if (!stopping)
      say('start', `redis-server exited (${signal ?? code}); the services retry until a Redis answers on ${url}`);
  });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await redisAnswers(url)) return url;
    await sleep(100);
  }
  say('start', 'redis-server did not start; see its log above');
  stop(1);
  return undefined;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
async function stopPid(pid, graceMs) {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

const running = ({ child }) => child.exitCode === null && child.signalCode === null;

/** Signals a child's whole process group (the TTS worker's espeak-ng and lame included). */
function signalGroup({ child }, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

/** How long the services get to stop cleanly before they are killed (an idle one takes < 1 s). */
const SERVICE_GRACE_MS = 4_000;
const REDIS_GRACE_MS = 3_000;

/**
 * Stops everything this script started: SIGTERM to the services, SIGKILL to any still running
 * after SERVICE_GRACE_MS; then SIGTERM to its Redis (which writes its AOF), SIGKILL after
 * REDIS_GRACE_MS; removes the record of the Redis and exits. A second signal kills at once.
 */
function stop(code = 0, why = 'stopping…') {
  if (stopping) {
    for (const c of children) if (running(c)) signalGroup(c, 'SIGKILL');
    return;
  }
  stopping = true;
  process.exitCode = code;
  say('start', why);
  const serviceChildren = children.filter((c) => !c.last);
  const redisChildren = children.filter((c) => c.last);
  for (const c of serviceChildren) if (running(c)) signalGroup(c, 'SIGTERM');
  const killServices = setTimeout(() => {
    for (const c of serviceChildren) {
      if (!running(c)) continue;
      say('start', `${c.name} did not stop within ${SERVICE_GRACE_MS} ms; killing it`);
      signalGroup(c, 'SIGKILL');
    }
  }, SERVICE_GRACE_MS);
  const exited = (c) => (running(c) ? new Promise((resolve) => c.child.once('exit', resolve)) : Promise.resolve());
  void Promise.all(serviceChildren.map(exited)).then(async () => {
    clearTimeout(killServices);
    for (const c of redisChildren) if (running(c)) signalGroup(c, 'SIGTERM');
    const killRedis = setTimeout(() => {
      for (const c of redisChildren) if (running(c)) signalGroup(c, 'SIGKILL');
    }, REDIS_GRACE_MS);
    await Promise.all(redisChildren.map(exited));
    clearTimeout(killRedis);
    if (ownedRedisDir) removeRedisState(ownedRedisDir);
    say('start', 'stopped');
    process.exit(process.exitCode ?? code);
  });
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGHUP', () => stop(0));
// If this script dies anyway, take the children with it.
process.on('exit', () => {
  for (const c of children) if (running(c)) signalGroup(c, 'SIGKILL');
});
// `pnpm start` killed with a signal of its own does not pass it on: this script would be left
// running (adopted by init). Stop when the parent is gone.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid && !stopping) stop(0, `its parent (pid ${parentPid}) is gone; stopping…`);
}, 500).unref();

// 1. Build what is stale (turbo caches the rest).
if (!process.argv.includes('--no-build')) {
  say('start', 'building (cached when nothing changed)…');
  const build = spawnSync('pnpm', ['build'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (build.status !== 0) {
    process.stdout.write(build.stdout + build.stderr);
    say('start', 'build failed');
    process.exit(1);
  }
}
if (envFile) say('start', `configuration: the environment over ${shortPath(envFile)}`);

// 2. Redis: the one the configuration names, else its own.
const named = configuredRedis(config);
let redisUrl;
if (named?.names.length > 1) {
  say('start', `${named.names.join(' and ')} are set: set only one`);
  process.exit(1);
} else if (named?.names[0] === 'REDIS_URL') {
  redisUrl = config.REDIS_URL;
  const shown = redisUrl.replace(/\/\/[^@]*@/, '//***@');
  if (!(await redisAnswers(redisUrl))) {
    say(
      'start',
      `REDIS_URL (${shown}) does not answer: start that Redis, or unset REDIS_URL to let pnpm start run its own`,
    );
    process.exit(1);
  }
  say('start', `using REDIS_URL (${shown})`);
} else if (named) {
  say('start', `using ${named.names[0]} (${named.value})`);
} else {
  redisUrl = await startLocalRedis();
}

// 3. The services.
// A local run: anonymous learners and the testing actions are allowed unless configured otherwise,
// so it listens on this machine only (HOST=0.0.0.0 to open it to the network, with AUTH_MODE=jwt).
const env = {
  AUTH_MODE: 'dev',
  ALLOW_DEBUG_ACTIONS: 'true',
  HOST: '127.0.0.1',
  ...config,
  ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
};
if (!stopping) {
  if (env.LLM_PROVIDER === 'openai') {
    say(
      'start',
      `her mind: ${env.OPENAI_MODEL ?? '(OPENAI_MODEL unset)'} at ${env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'}`,
    );
  } else if (!env.GEMINI_API_KEY && env.LLM_PROVIDER !== 'gemini') {
    say('start', 'no LLM configured (GEMINI_API_KEY, or LLM_PROVIDER=openai): XiaoYue runs in offline practice mode');
    const ollama = await localOllamaModels();
    if (ollama) {
      const model = ollama[0] ?? 'MODEL';
      say(
        'start',
        `an Ollama answers on ${OLLAMA_URL}${ollama.length ? ` (models: ${ollama.slice(0, 5).join(', ')})` : ''}; to use it:`,
      );
      say('start', `  LLM_PROVIDER=openai OPENAI_BASE_URL=${OLLAMA_URL}/v1 OPENAI_MODEL=${model} pnpm start`);
    }
  }
}
for (const name of stopping ? [] : services) {
  const child = spawn(process.execPath, [join(root, 'services', name, 'dist', 'main.js')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: Ctrl-C reaches only this script, which stops the services before Redis.
    detached: true,
  });
  // Before any other service: the Redis child stays last.
  children.splice(children.length - children.filter((c) => c.last).length, 0, { name, child, last: false });
  pipeLogs(name, child);
  child.on('exit', (code, signal) => {
    say(name, `exited (${signal ?? code})`);
    if (!stopping) stop(1, `${name} exited; stopping the rest…`);
  });
}

// The services' pids too, so that the next pnpm start can stop them if this script is killed outright.
if (ownedRedisDir && !stopping) {
  ownedState.servicePids = children.filter((c) => !c.last).map((c) => c.child.pid);
  writeRedisState(ownedRedisDir, ownedState);
}

const port = env.PORT || '8000';
const host = env.HOST && env.HOST !== '0.0.0.0' ? env.HOST : 'localhost';
// Announce the URL once every service has logged that it is ready.
const announce = setInterval(() => {
  if (stopping) return clearInterval(announce);
  if (services.every((name) => ready.has(name))) {
    clearInterval(announce);
    const redisNote = ownedRedisDir ? `; its Redis: ${redisUrl}` : '';
    say('start', `XiaoYue is up: open http://${host}:${port}/  (Ctrl-C stops everything${redisNote})`);
  }
}, 100);
