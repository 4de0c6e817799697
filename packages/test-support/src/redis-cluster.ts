import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { killOnExit } from './processes.js';
import { freePort, spawnRedisServer, type TestRedis } from './redis-server.js';

const run = promisify(execFile);

/**
 * Failure detection in the test topologies: a dead master is replaced within a few seconds, and a
 * node busy on a loaded 2-core machine is not taken for a dead one.
 */
const NODE_TIMEOUT_MS = 3_000;

interface Node {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface LocalRedisCluster extends TestRedis {
  /** Every node (masters and replicas) by port. */
  nodes: Map<number, Node>;
  /** The ports of the nodes that serve slots now. */
  masters(): Promise<number[]>;
  /** kill -9 one node (a master, say): the cluster promotes its replica after the node timeout. */
  kill(port: number): void;
  /** `CLUSTER INFO` and `CLUSTER NODES` as a live node sees them, for a failing test's log. */
  describe(): Promise<string>;
}

/**
 * A local Redis Cluster: 3 masters and 3 replicas on 127.0.0.1, nothing on disk, node timeout 2 s
 * (field notes §8). Resolves once every slot is served and every master has its replica.
 */
export async function startRedisCluster(): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'xiaoyue-cluster-'));
  const nodes = new Map<number, Node>();
  const spawned = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const busPort = await freePort();
      return spawnRedisServer({
        dir: mkdtempSync(join(dir, `node-${i}-`)),
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(NODE_TIMEOUT_MS),
          '--cluster-port',
          String(busPort),
          // A replica may serve while its master is away; a test then sees the promotion.
          '--cluster-replica-validity-factor',
          '0',
        ],
      });
    }),
  );
  for (const node of spawned) nodes.set(node.port, node);
  const ports = spawned.map((n) => n.port);
  const stop = async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop().catch(() => {})));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'],
      { timeout: 30_000 },
    );
    await waitFor('the cluster to form with a replica per master', async () => {
      const states = await Promise.all(ports.map((port) => command(port, ['CLUSTER', 'INFO'])));
      if (!states.every((s) => s.includes('cluster_state:ok'))) return false;
      const view = await command(ports[0] as number, ['CLUSTER', 'NODES']);
      return view.split('\n').filter((line) => / slave /.test(line) && line.includes('connected')).length === 3;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const nodeList = ports.map((p) => `127.0.0.1:${p}`).join(',');
  return {
    url: `redis://127.0.0.1:${ports[0]}`,
    source: 'redis-cluster',
    env: { REDIS_CLUSTER_NODES: nodeList },
    nodes,
    masters: async () => {
      for (const port of ports) {
        if (nodes.get(port)?.process.exitCode !== null || nodes.get(port)?.process.signalCode !== null) continue;
        const view = await command(port, ['CLUSTER', 'NODES']).catch(() => '');
        if (!view) continue;
        // A master is a node that serves slots (a line with slot ranges after the link state).
        return view
          .split('\n')
          .filter((line) => /\bmaster\b/.test(line) && !/\bfail\b/.test(line) && /connected \d/.test(line))
          .map((line) => Number(/:(\d+)@/.exec(line)?.[1]));
      }
      return [];
    },
    kill: (port) => nodes.get(port)?.process.kill('SIGKILL'),
    describe: async () => {
      for (const port of ports) {
        const info = await command(port, ['CLUSTER', 'INFO']).catch(() => '');
        if (info) return `node ${port}:\n${info}\n${await command(port, ['CLUSTER', 'NODES']).catch(() => '')}`;
      }
      return 'no node answers';
    },
    stop,
  };
}

export interface LocalRedisSentinel extends TestRedis {
  primaryName: string;
  /** The primary's port now (as the sentinels see it). */
  primaryPort(): Promise<number>;
  /** kill -9 the current primary: the sentinels promote the replica after ~2 s. */
  killPrimary(): Promise<number>;
}

/**
 * A local Sentinel setup: a primary, one replica and three sentinels (quorum 2) on 127.0.0.1,
 * down-after 2 s. Resolves once the sentinels know the replica and each other.
 */
export async function startRedisSentinel(primaryName = 'xiaoyue'): Promise<LocalRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'xiaoyue-sentinel-'));
  const primary = await spawnRedisServer({ dir: mkdtempSync(join(dir, 'primary-')) });
  const replica = await spawnRedisServer({
    dir: mkdtempSync(join(dir, 'replica-')),
    args: ['--replicaof', '127.0.0.1', String(primary.port)],
  });
  const servers = new Map([
    [primary.port, primary],
    [replica.port, replica],
  ]);
  const sentinels = await Promise.all(
    [0, 1, 2].map(async (i) => {
      const port = await freePort();
      const config = join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        config,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${primaryName} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${primaryName} ${NODE_TIMEOUT_MS}`,
          `sentinel failover-timeout ${primaryName} 10000`,
          `sentinel parallel-syncs ${primaryName} 1`,
          '',
        ].join('\n'),
      );
      const child = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
      killOnExit(child);
      return { port, child };
    }),
  );
  const stop = async () => {
    for (const { child } of sentinels) child.kill('SIGKILL');
    await Promise.all([...servers.values()].map((s) => s.stop().catch(() => {})));
    rmSync(dir, { recursive: true, force: true });
  };
  const sentinelCommand = (args: string[]) => command(sentinels[0]?.port as number, args);
  try {
    await waitFor('the sentinels to see the replica and each other', async () => {
      const views = await Promise.all(
        sentinels.map(({ port }) => command(port, ['SENTINEL', 'MASTER', primaryName]).catch(() => '')),
      );
      return views.every((view) => /num-slaves\s+1/.test(view) && /num-other-sentinels\s+2/.test(view));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const primaryPort = async () =>
    Number((await sentinelCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', primaryName])).split('\n')[1]);
  return {
    url: primary.url,
    source: 'redis-sentinel',
    env: {
      REDIS_SENTINELS: sentinels.map(({ port }) => `127.0.0.1:${port}`).join(','),
      REDIS_SENTINEL_MASTER: primaryName,
    },
    primaryName,
    primaryPort,
    killPrimary: async () => {
      const port = await primaryPort();
      servers.get(port)?.process.kill('SIGKILL');
      return port;
    },
    stop,
  };
}

/** One command through redis-cli (plain text out), so helpers need no client of their own. */
async function command(port: number, args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5_000 });
  return stdout;
}

async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
