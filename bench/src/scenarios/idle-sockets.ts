import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, GENEROUS_CONNECT_LIMITS, repoRoot, startService, uniquePrefix } from '@xiaoyue/test-support';
import type { BenchContext, Row, Scenario } from '../report.js';
import { round } from '../stats.js';

export const idleSockets: Scenario = { ids: ['P4'], run };

/** Opens `count` idle sockets to `url` from a separate process; resolves once all are open. */
async function holdSockets(url: string, count: number): Promise<ChildProcess> {
  const script = `
    const WebSocket = require(${JSON.stringify(join(repoRoot, 'node_modules', 'ws'))});
    const [url, count] = process.argv.slice(1);
    let open = 0, failed = 0;
    const sockets = [];
    (async () => {
      for (let i = 0; i < Number(count); i += 200) {
        await Promise.all(Array.from({ length: Math.min(200, Number(count) - i) }, (_, j) => new Promise((resolve) => {
          const ws = new WebSocket(url.replace('{i}', String(i + j)));
          ws.once('open', () => { open++; resolve(); });
          ws.once('error', () => { failed++; resolve(); });
          sockets.push(ws);
        })));
      }
      process.stdout.write(JSON.stringify({ open, failed }) + '\\n');
    })();
  `;
  const child = spawn(process.execPath, ['-e', script, url, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  return child;
}

/** P4 memory per idle socket in one gateway, beside a bare `ws` server holding as many. */
async function run({ redisUrl, quick }: BenchContext): Promise<Row[]> {
  const count = quick ? 2_000 : 20_000;
  // Bare ws server.
  const barePort = await freePort();
  const bare = spawn(
    process.execPath,
    [
      '-e',
      `const { WebSocketServer } = require(${JSON.stringify(join(repoRoot, 'node_modules', 'ws'))}); new WebSocketServer({ port: ${barePort}, host: '127.0.0.1' }); console.log('up');`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => bare.stdout?.once('data', () => resolve()));
  await new Promise((r) => setTimeout(r, 500));
  const bareBefore = rssMb(bare.pid);
  const bareClients = await holdSockets(`ws://127.0.0.1:${barePort}/`, count);
  await new Promise((r) => setTimeout(r, 1_000));
  const bareAfter = rssMb(bare.pid);
  bareClients.kill();
  bare.kill();

  const port = await freePort();
  const gateway = await startService('gateway', {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: uniquePrefix('p4'),
    PORT: String(port),
    HOST: '127.0.0.1',
    AUTH_MODE: 'dev',
    ...GENEROUS_CONNECT_LIMITS,
  });
  await new Promise((r) => setTimeout(r, 500));
  const before = rssMb(gateway.process.pid);
  const clients = await holdSockets(`ws://127.0.0.1:${port}/ws/chat/idle-{i}`, count);
  await new Promise((r) => setTimeout(r, 2_000));
  const after = rssMb(gateway.process.pid);
  clients.kill();
  await gateway.stop();

  const perSocketKb = ((after - before) * 1024) / count;
  const barePerSocketKb = ((bareAfter - bareBefore) * 1024) / count;
  return [
    {
      id: 'P4',
      what: `idle sockets held by one gateway process (${count})`,
      result: `RSS ${round(after, 0)} MB (+${round(after - before, 0)} MB, ${round(perSocketKb, 1)} KB/socket)`,
      baseline: `bare ws server: +${round(bareAfter - bareBefore, 0)} MB, ${round(barePerSocketKb, 1)} KB/socket`,
      target: '20,000 sockets ≤ 600 MB; ≤ 2× bare memory/socket',
      met: after <= 600 * (count / 20_000) + before && perSocketKb <= 2 * barePerSocketKb,
      data: { count, before, after, bareBefore, bareAfter, perSocketKb, barePerSocketKb },
    },
  ];
}

function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}
