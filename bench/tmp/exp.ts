import { spawnRedisServer } from '@xiaoyue/test-support';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { recordCommands } from '../src/command-breakdown.js';

const conc = Number(process.env.CONC ?? 200);
const wopts = JSON.parse(process.env.WOPTS ?? '{}');
const jopts = JSON.parse(process.env.JOPTS ?? '{"removeOnComplete":true}');
const server = await spawnRedisServer();
const conn = new Redis(server.url, { maxRetriesPerRequest: null, connectionName: 'app' });
const queue = new Queue('q', { connection: conn, prefix: 'xp' });
let done: () => void = () => {};
const worker = new Worker(
  'q',
  async () => {
    setTimeout(() => {}, 0);
    done();
    return 'x';
  },
  {
    connection: conn,
    prefix: 'xp',
    concurrency: conc,
    lockDuration: 10000,
    stalledInterval: 5000,
    drainDelay: 10,
    ...wopts,
  },
);
await worker.waitUntilReady();
await new Promise((r) => setTimeout(r, 500));
const N = 20;
const b = await recordCommands(server.url, 'xp', async () => {
  for (let i = 0; i < N; i++) {
    const p = new Promise<void>((r) => (done = r));
    await queue.add('j', { a: 1 }, { jobId: `j${i}`, ...jopts });
    await p;
    await new Promise((r) => setTimeout(r, 100));
  }
});
const per = (m: Map<string, number>) =>
  Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, +(v / N).toFixed(2)]));
console.log('total per job', b.total / N);
console.log(process.env.DETAIL ? per(b.byPurposeAndCommand) : per(b.byPurpose));
await worker.close();
await queue.close();
conn.disconnect();
await server.stop();
process.exit(0);
