type Listener = (...args: never[]) => void;

/** A small typed event emitter (no Node `events` module: this runs in browsers too). */
export class Listeners<Events extends { [E in keyof Events]: Listener }> {
  private readonly byEvent = new Map<keyof Events, Set<Listener>>();

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    let set = this.byEvent.get(event);
    if (!set) this.byEvent.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: Events[E]): void {
    this.byEvent.get(event)?.delete(listener);
  }

  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    for (const listener of [...(this.byEvent.get(event) ?? [])]) {
      try {
        (listener as (...args: Parameters<Events[E]>) => void)(...args);
      } catch (error) {
        // A failing listener must not break the connection or the other listeners; the error
        // still surfaces as an uncaught exception, like one thrown from any event handler.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
