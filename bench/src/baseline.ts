import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { percentile } from './stats.js';

/**
 * The floor a XiaoYue turn is compared with: a bare script doing the same hops with no logic —
 * enqueue, a worker that enqueues a second job, a second worker that PUBLISHes, a subscriber.
 */
export async function bareTwoHops(redisUrl: string, prefix: string) {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const subscriber = new Redis(redisUrl);
  const first = new Queue('hop-1', { connection, prefix });
  const second = new Queue('hop-2', { connection, prefix });
  const options = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };
  const w1 = new Worker('hop-1', async (job) => void (await second.add('x', job.data, options)), {
    connection,
    prefix,
    concurrency: 50,
  });
  const w2 = new Worker('hop-2', async (job) => void (await connection.publish(`${prefix}:done`, job.data.id)), {
    connection,
    prefix,
    concurrency: 50,
  });
  const waiting = new Map<string, () => void>();
  await subscriber.subscribe(`${prefix}:done`);
  subscriber.on('message', (_channel, id: string) => waiting.get(id)?.());
  let counter = 0;
  const turn = () =>
    new Promise<number>((resolve) => {
      const id = String(counter++);
      const started = performance.now();
      waiting.set(id, () => {
        waiting.delete(id);
        resolve(performance.now() - started);
      });
      void first.add('x', { id }, options);
    });

  return {
    /** Sequential round trips, in ms. */
    async latency(turns: number): Promise<number[]> {
      const times: number[] = [];
      for (let i = 0; i < turns; i++) times.push(await turn());
      return times;
    },
    /** Round trips per second with `clients` running back to back for `seconds`. */
    async throughput(clients: number, seconds: number): Promise<{ perSecond: number; p99: number }> {
      const until = performance.now() + seconds * 1000;
      const times: number[] = [];
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (performance.now() < until) times.push(await turn());
        }),
      );
      return { perSecond: times.length / seconds, p99: percentile(times, 99) };
    },
    async close() {
      await Promise.all([w1.close(), w2.close()]);
      await Promise.all([first.obliterate({ force: true }), second.obliterate({ force: true })]).catch(() => {});
      await Promise.all([first.close(), second.close()]);
      connection.disconnect();
      subscriber.disconnect();
    },
  };
}
