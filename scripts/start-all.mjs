#!/usr/bin/env node
// Runs the gateway, one agent worker and one TTS worker in the foreground with prefixed logs.
// Ctrl-C (or SIGTERM) stops all three gracefully. Configuration comes from the environment.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = ['gateway', 'agent-worker', 'tts-worker'];
const colours = { gateway: 36, 'agent-worker': 35, 'tts-worker': 33 };

for (const name of services) {
  if (!existsSync(join(root, 'services', name, 'dist', 'main.js'))) {
    console.error(`services/${name} is not built: run "pnpm build" first`);
    process.exit(1);
  }
}

const children = services.map((name) => {
  const child = spawn(process.execPath, [join(root, 'services', name, 'dist', 'main.js')], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `\x1b[${colours[name]}m${name.padEnd(12)}\x1b[0m | `;
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${prefix + line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${prefix}exited (${signal ?? code})\n`);
    if (!stopping) stop(1);
  });
  return child;
});

let stopping = false;
let exitCode = 0;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
await Promise.all(
  children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)))),
);
process.exit(exitCode);
