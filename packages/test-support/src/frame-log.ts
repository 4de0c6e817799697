export interface Frame {
  type: string;
  status: 'success' | 'error';
  data: Record<string, any>;
  request_id?: string;
  seq?: number;
}

/**
 * The frames a test connection received, in order, and a reading position: a test waits for the
 * next frame (after those already taken) that matches a condition.
 */
export class FrameLog {
  readonly frames: Frame[] = [];
  private cursor = 0;
  private ended = false;
  private waiters: (() => void)[] = [];

  push(frame: Frame): void {
    this.frames.push(frame);
    this.wake();
  }

  /** No frame will come any more (the connection is over): a `next` that finds nothing fails at once. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** Moves the reading position past `frame`, and past every frame before it. */
  skipPast(frame: Frame): void {
    const index = this.frames.indexOf(frame, this.cursor);
    if (index >= 0) this.cursor = index + 1;
  }

  /** The next frame (after those already taken) that matches, waiting up to `timeoutMs`. */
  async next(match: string | ((frame: Frame) => boolean), timeoutMs = 10_000): Promise<Frame> {
    const predicate = typeof match === 'string' ? (f: Frame) => f.type === match : match;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const frame = this.frames[this.cursor++] as Frame;
        if (predicate(frame)) return frame;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.ended) {
        const seen = this.frames.map((f) => f.type).join(', ');
        throw new Error(`no matching frame within ${timeoutMs} ms (received: ${seen || 'nothing'})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
