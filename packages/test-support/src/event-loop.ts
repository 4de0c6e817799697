import { readFileSync } from 'node:fs';

/** Linux's clock ticks per second for /proc CPU times (USER_HZ: 100 on every mainstream build). */
const TICK_MS = 10;

/**
 * CPU time of this process's main thread (the one running the event loop) so far, from
 * /proc/self/task/<pid>/stat; undefined where there is no /proc. Unlike process.cpuUsage() it
 * leaves out worker threads, so it shows whether work moved off the event loop.
 */
export function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": utime and stime are the 14th and 15th fields; comm may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

export interface EventLoopDuring<T> {
  result: T;
  tookMs: number;
  /** CPU the main thread used meanwhile (10 ms resolution); undefined without /proc. */
  mainThreadCpuMs: number | undefined;
  /** Worst delay of a 10 ms timer: a blocked loop, or on a shared machine a process waiting for a core. */
  lagMs: number;
}

/** What `work` cost this thread's event loop: its CPU time and the worst lag of a 10 ms timer. */
export async function eventLoopDuring<T>(work: () => Promise<T>): Promise<EventLoopDuring<T>> {
  let lagMs = 0;
  let expected = performance.now() + 10;
  const timer = setInterval(() => {
    lagMs = Math.max(lagMs, performance.now() - expected);
    expected = performance.now() + 10;
  }, 10);
  const cpuBefore = mainThreadCpuMs();
  const startedAt = performance.now();
  try {
    const result = await work();
    const cpuAfter = mainThreadCpuMs();
    return {
      result,
      tookMs: performance.now() - startedAt,
      mainThreadCpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
      lagMs,
    };
  } finally {
    clearInterval(timer);
  }
}
