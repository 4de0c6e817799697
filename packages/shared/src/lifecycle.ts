import { EnvError } from './env.js';
import type { Logger } from './logger.js';
import { RedisTopologyError } from './redis.js';

export interface ShutdownStep {
  /** Logged as the step runs, e.g. "fail readiness and close sockets". */
  name: string;
  run: () => Promise<void> | void;
}

/**
 * Runs `steps` in their written order on SIGTERM/SIGINT, then exits 0. A shutdown that takes
 * longer than `timeoutMs` exits 1; unfinished BullMQ jobs are then picked up by another worker.
 */
export function shutdownOnSignals(logger: Logger, timeoutMs: number, steps: ShutdownStep[]): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    force.unref();
    for (const step of steps) {
      logger.info(`shutdown: ${step.name}`);
      try {
        await step.run();
      } catch (error) {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          `shutdown step failed: ${step.name}`,
        );
      }
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The catch of a service's `main()`: a readable line for configuration errors, then exit 1. */
export function exitOnStartupError(service: string): (error: unknown) => never {
  return (error) => {
    // A configuration mistake is told in one line that says what to set, without a stack trace.
    if (error instanceof EnvError || error instanceof RedisTopologyError) console.error(`${service}: ${error.message}`);
    else console.error(`${service} failed to start:`, error);
    process.exit(1);
  };
}
