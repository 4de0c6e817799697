/** Timeouts a fake server schedules, all cancelled at once when it closes. */
export function scheduledTimers() {
  const timers = new Set<NodeJS.Timeout>();
  return {
    later(ms: number, fn: () => void): void {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    },
    cancelAll(): void {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
