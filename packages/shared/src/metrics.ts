import type { Queue } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** Seconds, from a fast Redis hop to a slow LLM. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A service's Prometheus registry: process metrics plus a `service` label on everything. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Rows of `xiaoyue_queue_depth`: a queue (a stream queue's partition), a state, a count. */
export interface QueueDepth {
  queue: string;
  state: string;
  count: number;
}

/** A queue whose depth is reported: a BullMQ queue, or a stream queue (a row per partition and state). */
export type QueueWithDepth = Queue | { depth(): Promise<QueueDepth[]> };

/**
 * `xiaoyue_queue_depth{queue,state}`, read on scrape: a BullMQ queue's waiting, active and delayed
 * jobs; a stream queue's per partition (`queue` is the partition's name: `chat`, `chat-1`…),
 * `wait` (XLEN minus pending) and `active` (XPENDING), two commands per partition.
 */
export function registerQueueDepth(registry: Registry, queues: QueueWithDepth[]): void {
  new Gauge({
    name: 'xiaoyue_queue_depth',
    help: 'Jobs in each queue (stream queues: each partition) by state, read when scraped',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      for (const queue of queues) {
        try {
          if ('depth' in queue) {
            for (const { queue: name, state, count } of await queue.depth()) this.set({ queue: name, state }, count);
            continue;
          }
          const counts = await queue.getJobCounts('wait', 'active', 'delayed');
          for (const [state, count] of Object.entries(counts)) this.set({ queue: queue.name, state }, count);
        } catch {
          // Redis unreachable during a scrape: report nothing rather than fail the scrape
        }
      }
    },
  });
}

export interface WorkerMetrics {
  /** `xiaoyue_queue_wait_seconds{queue}`: from enqueue to a worker starting the job's first attempt. */
  queueWait: Histogram<'queue'>;
  /** `xiaoyue_job_duration_seconds{queue,outcome}`: one attempt at a job, by how it ended. */
  jobDuration: Histogram<'queue' | 'outcome'>;
}

const workerMetricsByRegistry = new WeakMap<Registry, WorkerMetrics>();

/**
 * The metrics every queue worker records, created once per registry: a service starts several
 * workers, and prom-client refuses a second metric of the same name in one registry.
 */
export function workerMetrics(registry: Registry): WorkerMetrics {
  let metrics = workerMetricsByRegistry.get(registry);
  if (!metrics) {
    metrics = {
      queueWait: new Histogram({
        name: 'xiaoyue_queue_wait_seconds',
        help: 'Time a job waited in its queue before a worker started it',
        labelNames: ['queue'],
        buckets: LATENCY_BUCKETS,
        registers: [registry],
      }),
      jobDuration: new Histogram({
        name: 'xiaoyue_job_duration_seconds',
        help: 'Time a worker spent on one attempt at a job, by outcome (completed, failed, rate_limited)',
        labelNames: ['queue', 'outcome'],
        buckets: LATENCY_BUCKETS,
        registers: [registry],
      }),
    };
    workerMetricsByRegistry.set(registry, metrics);
  }
  return metrics;
}
