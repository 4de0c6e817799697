#!/usr/bin/env node
// One command runs the whole system: builds what is stale, finds or starts a Redis, then runs the
// gateway, one agent worker and one TTS worker as child processes with prefixed logs.
// Ctrl-C stops everything cleanly (services first, then the Redis this script started).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOCAL_REDIS_PORT = Number(process.env.LOCAL_REDIS_PORT ?? 6390);
const services = ['gateway', 'agent-worker', 'tts-worker'];
const colour = { gateway: 36, 'agent-worker': 35, 'tts-worker': 33, redis: 31, start: 32 };
const children = [];
const ready = new Set();
let stopping = false;

function say(name, line) {
  process.stdout.write(`\x1b[${colour[name] ?? 37}m${name.padEnd(12)}\x1b[0m | ${line}\n`);
}

/** Resolves true if something at `url` answers a Redis PING (an auth error also counts as an answer). */
function redisAnswers(url, timeoutMs = 1_000) {
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
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    say('start', 'No Redis answers and `redis-server` is not installed. Get one of:');
    say('start', '  Debian/Ubuntu: sudo apt-get install redis-server');
    say('start', '  macOS:         brew install redis');
    say('start', '  Docker:        docker compose up   (runs the whole system in containers)');
    say('start', 'or point REDIS_URL at a running Redis.');
    process.exit(1);
  }
  const url = `redis://127.0.0.1:${LOCAL_REDIS_PORT}`;
  if (await redisAnswers(url)) {
    say('start', `reusing the local Redis already running on ${url}`);
    return url;
  }
  const dir = join(root, '.data', 'redis');
  mkdirSync(dir, { recursive: true });
  say('start', `starting a local redis-server on ${url} (data in .data/redis, AOF on)`);
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(LOCAL_REDIS_PORT),
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
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  children.push({ name: 'redis', child, last: true });
  pipeLogs('redis', child);
  for (let i = 0; i < 100; i++) {
    if (await redisAnswers(url)) return url;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  say('start', 'redis-server did not start; see its log above');
  process.exit(1);
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  say('start', 'stopping…');
  for (const { child, last } of children) if (!last && child.exitCode === null) child.kill('SIGTERM');
}

// 1. Build what is stale (turbo caches the rest).
say('start', 'building (cached when nothing changed)…');
const build = spawnSync('pnpm', ['build'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (build.status !== 0) {
  process.stdout.write(build.stdout + build.stderr);
  say('start', 'build failed');
  process.exit(1);
}

// 2. Redis.
let redisUrl = process.env.REDIS_URL;
if (redisUrl && (await redisAnswers(redisUrl))) {
  say('start', `using REDIS_URL (${redisUrl.replace(/\/\/[^@]*@/, '//***@')})`);
} else {
  if (redisUrl) say('start', `REDIS_URL does not answer; starting a local Redis instead`);
  redisUrl = await startLocalRedis();
}

// 3. The services.
// A local run: anonymous learners and the testing actions are allowed unless configured otherwise,
// so it listens on this machine only (HOST=0.0.0.0 to open it to the network, with AUTH_MODE=jwt).
const env = { AUTH_MODE: 'dev', ALLOW_DEBUG_ACTIONS: 'true', HOST: '127.0.0.1', ...process.env, REDIS_URL: redisUrl };
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
for (const name of services) {
  const child = spawn(process.execPath, [join(root, 'services', name, 'dist', 'main.js')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: Ctrl-C reaches only this script, which stops the services before Redis.
    detached: true,
  });
  children.push({ name, child, last: false });
  pipeLogs(name, child);
  child.on('exit', (code, signal) => {
    say(name, `exited (${signal ?? code})`);
    if (!stopping) stop(1);
    const servicesLeft = children.filter((c) => !c.last && c.child.exitCode === null && c.child.signalCode === null);
    if (servicesLeft.length === 0) for (const { child: c, last } of children) if (last) c.kill('SIGTERM');
  });
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
// If this script dies anyway, take the children with it.
process.on('exit', () => {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const port = env.PORT ?? '8000';
const host = env.HOST && env.HOST !== '0.0.0.0' ? env.HOST : 'localhost';
// Announce the URL once every service has logged that it is ready.
const announce = setInterval(() => {
  if (stopping) return clearInterval(announce);
  if (services.every((name) => ready.has(name))) {
    clearInterval(announce);
    say('start', `XiaoYue is up: open http://${host}:${port}/  (Ctrl-C stops everything)`);
  }
}, 100);
