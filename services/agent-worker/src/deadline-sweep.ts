import type { ClaimedDeadline, Logger, TurnDeadlineJob, TurnDeadlines } from '@xiaoyue/shared';

export interface DeadlineSweepOptions {
  deadlines: TurnDeadlines;
  /** Answers one turn whose deadline passed (the watchdog: `enforceTurnDeadline`). */
  enforce: (job: TurnDeadlineJob) => Promise<unknown>;
  logger: Logger;
  /**
   * The longest sleep when no deadline is scheduled sooner. A deadline is scheduled
   * TURN_TIMEOUT_MS ahead, so with this below TURN_TIMEOUT_MS a new one is never slept past.
   */
  idleMs: number;
  /** How long a claimed deadline stays with its sweeper before another may take it (it died). */
  leaseMs: number;
  /** Deadlines claimed (and answered in parallel) at a time, per partition. */
  batch?: number;
}

/** How long the sweep waits after Redis failed it before trying again. */
const RETRY_AFTER_ERROR_MS = 1_000;

/**
 * The agent's turn-deadline sweeper: claims the deadlines that fell due (any agent may: a dead one
 * is not needed), answers those turns through the watchdog, and removes them. It sleeps until the
 * next deadline is due, or `idleMs` when none is near: with nobody chatting it costs one script
 * call (three commands) per partition (QUEUE_PARTITIONS) per `idleMs`; a turn's deadline costs one call (four) when it falls due,
 * and a ZREM. A deadline whose watchdog failed stays leased and is tried again when the lease runs
 * out; one whose payload does not parse is dropped.
 */
export class TurnDeadlineSweep {
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly running: Promise<void>;

  constructor(private readonly options: DeadlineSweepOptions) {
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    const { deadlines, idleMs, leaseMs, batch = 32, logger } = this.options;
    while (!this.stopped) {
      let sleepMs = idleMs;
      try {
        const now = Date.now();
        const { claimed, nextDueAt, full } = await deadlines.claimDue(now, batch, leaseMs);
        if (claimed.length > 0) await deadlines.remove(await this.answer(claimed));
        // A full batch: more may be due at once.
        if (full) continue;
        if (nextDueAt !== undefined) sleepMs = Math.max(0, Math.min(idleMs, nextDueAt - Date.now()));
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'turn-deadline sweep failed; trying again');
        sleepMs = RETRY_AFTER_ERROR_MS;
      }
      await this.sleep(sleepMs);
    }
  }

  /** Runs the watchdog of each claimed turn; returns those that are done with. */
  private async answer(claimed: ClaimedDeadline[]): Promise<ClaimedDeadline[]> {
    const { enforce, logger } = this.options;
    const outcomes = await Promise.all(
      claimed.map(async (deadline) => {
        const { job, member } = deadline;
        if (!job) {
          logger.error({ member }, 'dropping a turn deadline that does not parse');
          return deadline;
        }
        try {
          await enforce(job);
          return deadline;
        } catch (error) {
          logger.error(
            { turnId: job.turn_id, userId: job.user_id, err: (error as Error).message },
            'turn deadline watchdog failed; it is tried again when its lease runs out',
          );
          return undefined;
        }
      }),
    );
    return outcomes.filter((deadline): deadline is ClaimedDeadline => deadline !== undefined);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Stops sweeping; resolves once the deadlines being answered are done. */
  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }
}
