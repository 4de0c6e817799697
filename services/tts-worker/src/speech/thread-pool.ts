import { Worker } from 'node:worker_threads';

interface Job<Task, Reply> {
  task: Task;
  signal: AbortSignal;
  resolve(reply: Reply): void;
  reject(error: unknown): void;
  onAbort(): void;
}

/**
 * A few worker threads, each running one task at a time from a FIFO queue; a thread answers a
 * task with exactly one message. Threads start on demand and are kept (their start-up, e.g.
 * compiling WebAssembly, is paid once). Aborting a queued task removes it; aborting a running
 * one terminates its thread, since synchronous work cannot be interrupted any other way, and a
 * new thread takes its place. Idle threads do not keep the process alive.
 */
export class WorkerThreadPool<Task, Reply> {
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job<Task, Reply> | undefined>();
  private readonly queue: Job<Task, Reply>[] = [];
  private closed = false;

  constructor(
    private readonly script: URL,
    private readonly size: number,
  ) {}

  /** Threads started and not yet exited. */
  get threads(): number {
    return this.running.size;
  }

  run(task: Task, signal: AbortSignal): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('the thread pool is closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Reply>((resolve, reject) => {
      const job: Job<Task, Reply> = { task, signal, resolve, reject, onAbort: () => this.abort(job) };
      signal.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Rejects queued tasks, stops every thread (running tasks are rejected) and waits for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, () => job.reject(new Error('the thread pool closed')));
    await Promise.all([...this.running.keys()].map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const worker = this.idle.pop() ?? (this.running.size < this.size ? this.start() : undefined);
      if (!worker) return;
      const job = this.queue.shift() as Job<Task, Reply>;
      this.running.set(worker, job);
      worker.ref();
      worker.postMessage(job.task);
    }
  }

  private start(): Worker {
    const worker = new Worker(this.script);
    this.running.set(worker, undefined);
    worker.on('message', (reply: Reply) => {
      if (!this.running.has(worker)) return; // a thread being terminated
      const job = this.running.get(worker);
      this.running.set(worker, undefined);
      worker.unref();
      this.idle.push(worker);
      if (job) this.settle(job, () => job.resolve(reply));
      this.dispatch();
    });
    // An uncaught error ends the thread; 'exit' follows and fails its task.
    let failure: Error | undefined;
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', (code) => {
      const job = this.running.get(worker);
      this.running.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      if (job)
        this.settle(job, () => job.reject(failure ?? new Error(`a worker thread exited (${code}) during its task`)));
      this.dispatch();
    });
    return worker;
  }

  private abort(job: Job<Task, Reply>): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    for (const [worker, current] of this.running) {
      if (current !== job) continue;
      this.running.delete(worker);
      void worker.terminate();
    }
    this.settle(job, () => job.reject(job.signal.reason));
  }

  private settle(job: Job<Task, Reply>, how: () => void): void {
    job.signal.removeEventListener('abort', job.onAbort);
    how();
  }
}
