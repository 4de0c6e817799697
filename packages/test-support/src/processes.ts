import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (test-support lives at packages/test-support/{src,dist}). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export type ServiceName = 'gateway' | 'agent-worker' | 'tts-worker';

export interface ServiceProcess {
  name: string;
  process: ChildProcess;
  /** Everything the service printed so far (JSON log lines). */
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, like a crashed pod. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Starts a built service (`services/<name>/dist/main.js`) as a real process and resolves once it
 * logs that it is ready. Fails with the service's own output if it exits first.
 */
export async function startService(
  name: ServiceName,
  env: Record<string, string | undefined>,
  options: { readyTimeoutMs?: number; label?: string } = {},
): Promise<ServiceProcess> {
  const entry = join(repoRoot, 'services', name, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "pnpm build" first`);
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  killOnExit(child);

  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = setInterval(() => {
      if (/"msg":"[a-z- ]*ready"/.test(output)) {
        clearTimeout(timer);
        clearInterval(check);
        resolveReady();
      }
    }, 20);
    void exited.then((code) => {
      clearTimeout(timer);
      clearInterval(check);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${output}`));
    });
  });

  return {
    name: options.label ?? name,
    process: child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

const children = new Set<ChildProcess>();
let killingOnExit = false;

/** Kills a child when this process exits (one 'exit' listener for all of them, however many). */
export function killOnExit(child: ChildProcess): void {
  if (!killingOnExit) {
    killingOnExit = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
}
