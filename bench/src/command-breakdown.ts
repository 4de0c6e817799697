import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * Who sends which Redis commands, and why: every command Redis runs during a window (MONITOR,
 * scripts' inner commands included, as INFO commandstats counts them), attributed to the
 * connection that sent it (its CLIENT SETNAME: 'gateway', 'gateway-queues', 'agent-worker'…) and
 * to a purpose read from the command and its keys (a BullMQ script and its queue, the outbox
 * script, history, persona…). MONITOR slows Redis down: P7 counts with INFO and runs this on a
 * separate, shorter window.
 */
export interface CommandBreakdown {
  total: number;
  byConnection: Map<string, number>;
  byPurpose: Map<string, number>;
  /** Purpose within connection: `connection | purpose`. */
  byConnectionAndPurpose: Map<string, number>;
  /** The commands each purpose ran (a script's inner ones included): `purpose > command`. */
  byPurposeAndCommand: Map<string, number>;
}

/** Connections named so are the benchmark's own (readings, MONITOR): not counted. */
export const BENCH_CONNECTION = 'bench';

/**
 * BullMQ's scripts by the SHA-1 that EVALSHA names them with, as BullMQ registers them on a client
 * (ioredis `defineCommand` keeps each script, hashed, in `scriptsSet`, under `<name>:<version>`).
 */
async function bullmqScriptsBySha(redisUrl: string): Promise<Map<string, string>> {
  const client = new Redis(redisUrl, { connectionName: BENCH_CONNECTION, maxRetriesPerRequest: null });
  const probe = new Queue('script-probe', { connection: client });
  try {
    await probe.waitUntilReady();
    const scripts = (client as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet;
    return new Map(Object.entries(scripts).map(([name, script]) => [script.sha, name.split(':')[0] as string]));
  } finally {
    await probe.close();
    client.disconnect();
  }
}

/** Our own keys' families (`<prefix>:{u:<id>}:<family>[:<id>]`) mapped to what the code uses them for. */
const LEARNER_FAMILIES: Record<string, string> = {
  history: 'history',
  persona: 'persona',
  'active-turn': 'active-turn lock',
  'pending-reply': 'pending reply (watchdog)',
  'outbox-meta': 'outbox',
  outbox: 'outbox',
  'outbox-dedupe': 'outbox',
  'turn-gate': 'outbox gate (streamed)',
  'turn-cancel': 'turn cancel',
  rate: 'rate limit',
  sockets: 'socket lease',
  learner: 'learner progress',
  cards: 'learner progress',
  'cards-due': 'learner progress',
  'cards-mistakes': 'learner progress',
  'cards-learned': 'learner progress',
  'cards-created': 'learner progress',
  words: 'learner progress',
  'words-beyond-cap': 'learner progress',
  quiz: 'quizzes',
  quizzes: 'quizzes',
  'open-review': 'quizzes',
};

/**
 * What a top-level command is for, from its name and arguments: `bullmq <queue>: <script>` for
 * BullMQ, the key family for ours. `prefix` is the system's key prefix (QUEUE_PREFIX).
 */
export function purposeOf(
  prefix: string,
  command: string,
  args: string[],
  bullmqScriptBySha: Map<string, string> = new Map(),
): string {
  const name = command.toLowerCase();
  if (name === 'evalsha' || name === 'eval') {
    // ioredis sends a script's body (EVAL) the first time, its SHA-1 (EVALSHA) afterwards.
    const sha =
      name === 'evalsha'
        ? (args[0] ?? '')
        : createHash('sha1')
            .update(args[0] ?? '')
            .digest('hex');
    const script = bullmqScriptBySha.get(sha);
    const keyCount = Number(args[1] ?? 0);
    const keys = args.slice(2, 2 + keyCount);
    if (script) return `bullmq ${queueOf(prefix, keys) ?? '?'}: ${script}`;
    return `script: ${keys.map((key) => familyOf(prefix, key)).find((f) => f !== undefined) ?? 'other'}`;
  }
  if (['multi', 'exec', 'ping', 'client', 'info', 'select', 'quit'].includes(name)) return `connection: ${name}`;
  if (['publish', 'subscribe', 'unsubscribe', 'psubscribe', 'ssubscribe', 'spublish'].includes(name)) {
    return `pub/sub: ${name}`;
  }
  // A stream read names its keys after STREAMS (queue streams: `{<prefix>:<partition>}:stream`).
  const streamsAt = args.findIndex((arg) => arg.toUpperCase() === 'STREAMS');
  const key = name.startsWith('xread') && streamsAt >= 0 ? args[streamsAt + 1] : args[0];
  if (key === undefined) return name;
  const queue = queueOf(prefix, [key]);
  if (queue) return `bullmq ${queue}: ${name}`;
  return `${familyOf(prefix, key) ?? 'other'}: ${name}`;
}

/**
 * The BullMQ queue a command's keys belong to, if any: `<prefix>:<queue>:<type or id>`, or with a
 * hash-tagged queue prefix (Redis Cluster) `{<prefix>:<queue>}:<queue>:<type or id>`.
 */
function queueOf(prefix: string, keys: string[]): string | undefined {
  for (const key of keys) {
    const tagged = /^\{([^}]*)\}:([^:]+):/.exec(key);
    if (tagged) {
      if (tagged[1] === `${prefix}:${tagged[2]}`) return tagged[2];
      continue;
    }
    if (!key.startsWith(`${prefix}:`) || key.includes('{')) continue;
    const queue = key.slice(prefix.length + 1).split(':')[0];
    // Our own global keys that are not hash-tagged: pub/sub channels and flags.
    if (queue && !['events', 'turn-cancel', 'agent-mode'].includes(queue)) return queue;
  }
  return undefined;
}

/** What one of our keys is for: a learner key's family, else the global key's name after the prefix. */
function familyOf(prefix: string, key: string): string | undefined {
  const learner = /\{u:[^}]*\}:([a-z-]+)/.exec(key);
  if (learner) return LEARNER_FAMILIES[learner[1] as string] ?? learner[1];
  const global = key.replace(/[{}]/g, '');
  if (global.startsWith(`${prefix}:`)) return global.slice(prefix.length + 1).split(':')[0];
  return undefined;
}

/** Runs `work` while recording every command Redis runs; returns the commands, attributed. */
export async function recordCommands(
  redisUrl: string,
  prefix: string,
  work: () => Promise<void>,
): Promise<CommandBreakdown> {
  const bullmqScriptBySha = await bullmqScriptsBySha(redisUrl);
  const admin = new Redis(redisUrl, { connectionName: BENCH_CONNECTION });
  const monitor = await admin.monitor();
  const names = new Map<string, string>();
  const learnNames = async () => {
    for (const line of ((await admin.client('LIST')) as string).split('\n')) {
      const addr = /addr=(\S+)/.exec(line)?.[1];
      const name = /name=(\S*)/.exec(line)?.[1];
      if (addr && name) names.set(addr, name);
    }
  };
  const lines: { source: string; command: string; args: string[] }[] = [];
  monitor.on('monitor', (_time: string, [command, ...args]: string[], source: string) => {
    lines.push({ source, command: command ?? '', args });
  });
  try {
    await learnNames();
    await work();
    await learnNames();
  } finally {
    monitor.disconnect();
  }
  admin.disconnect();

  const breakdown: CommandBreakdown = {
    total: 0,
    byConnection: new Map(),
    byPurpose: new Map(),
    byConnectionAndPurpose: new Map(),
    byPurposeAndCommand: new Map(),
  };
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  // A script's inner commands follow its EVALSHA (scripts are atomic): they count for it.
  let current = { connection: 'unknown', purpose: 'unknown' };
  for (const { source, command, args } of lines) {
    if (source !== 'lua') {
      const connection = names.get(source) || `unnamed ${source}`;
      current = { connection, purpose: purposeOf(prefix, command, args, bullmqScriptBySha) };
    }
    if (current.connection.startsWith(BENCH_CONNECTION)) continue;
    breakdown.total++;
    count(breakdown.byConnection, current.connection);
    count(breakdown.byPurpose, current.purpose);
    count(breakdown.byConnectionAndPurpose, `${current.connection} | ${current.purpose}`);
    count(breakdown.byPurposeAndCommand, `${current.purpose} > ${command.toLowerCase()}`);
  }
  return breakdown;
}

/** The `n` largest entries of a count map, each divided by `per` (e.g. per turn). */
export function topEntries(map: Map<string, number>, per: number, n = 12): [string, number][] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, calls]) => [key, calls / per]);
}
