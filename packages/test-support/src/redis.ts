import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  url: string;
  /** Where it came from, for test logs. */
  source: 'REDIS_URL' | 'testcontainers' | 'redis-server';
  stop(): Promise<void>;
}

/**
 * A Redis for integration tests: `REDIS_URL` if set; else a testcontainers Redis if a container
 * runtime answers; else a `redis-server` child on a free port with nothing persisted.
 * Tests isolate themselves with `uniquePrefix()`, so one server serves a whole test file.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) return { url: fromEnv, source: 'REDIS_URL', stop: async () => {} };
  const container = await tryTestcontainers();
  if (container) return container;
  return spawnRedisServer();
}

/** A queue/key prefix of its own for one test. */
export function uniquePrefix(name = 't'): string {
  return `${name.replace(/[^A-Za-z0-9_-]/g, '-')}-${randomUUID().slice(0, 8)}`;
}

async function tryTestcontainers(): Promise<TestRedis | undefined> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch {
    return undefined; // no container runtime: fall through to redis-server
  }
  try {
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine').start();
    return {
      url: container.getConnectionUrl(),
      source: 'testcontainers',
      stop: async () => void (await container.stop()),
    };
  } catch {
    return undefined; // a runtime that cannot pull or start images
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface RedisServerOptions {
  port?: number;
  /** Keep an append-only file in `dir` (for restart tests); default: nothing on disk. */
  appendOnly?: boolean;
  dir?: string;
  /** requirepass: the URL then carries it (redis://:password@…). */
  password?: string;
}

/** Starts `redis-server` as a child process and resolves once it accepts connections. */
export async function spawnRedisServer(
  options: RedisServerOptions = {},
): Promise<TestRedis & { port: number; process: ChildProcess }> {
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'xiaoyue-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  args.push('--appendonly', options.appendOnly ? 'yes' : 'no');
  if (options.password) args.push('--requirepass', options.password);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/ready to accept connections/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run redis-server (install it with apt-get install redis-server): ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', () => child.kill('SIGKILL'));
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return { url: `redis://${auth}127.0.0.1:${port}`, source: 'redis-server', port, process: child, stop };
}
