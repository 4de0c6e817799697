// What one BullMQ job costs in Redis commands when jobs come one at a time (as a learner's turns
// do), on a bare queue with XiaoYue's worker settings: the floor under P7's per-turn figure.
//   pnpm --dir bench exec tsx src/bullmq-job-cost.ts [concurrency]
import { spawnRedisServer } from '@xiaoyue/test-support';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { recordCommands, topEntries } from './command-breakdown.js';

const JOBS = 20;

async function main() {
  const concurrency = Number(process.argv[2] ?? 200);
  const server = await spawnRedisServer();
  const connection = new Redis(server.url, { maxRetriesPerRequest: null, connectionName: 'jobs' });
  const queue = new Queue('q', { connection, prefix: 'cost' });
  let finish = () => {};
  const worker = new Worker('q', async () => finish(), {
    connection,
    prefix: 'cost',
    concurrency,
    lockDuration: 10_000,
    stalledInterval: 5_000,
    drainDelay: 10,
  });
  await worker.waitUntilReady();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const recorded = await recordCommands(server.url, 'cost', async () => {
    for (let i = 0; i < JOBS; i++) {
      const done = new Promise<void>((resolve) => (finish = resolve));
      await queue.add('job', { i }, { jobId: `job-${i}`, removeOnComplete: true });
      await done;
      await new Promise((resolve) => setTimeout(resolve, 100)); // the worker goes back to waiting
    }
  });
  console.log(`concurrency ${concurrency}: ${recorded.total / JOBS} commands per job`);
  console.log(Object.fromEntries(topEntries(recorded.byPurpose, JOBS, 20)));
  await worker.close();
  await queue.close();
  connection.disconnect();
  await server.stop();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
