import type { Logger, Redis, RedisKeys } from '@xiaoyue/shared';

export interface FeedListener {
  /** A live outbox event (JSON text with `seq`). */
  onEvent(payload: string): void;
  /** Pub/sub was interrupted: events may have been missed and must be read from the outbox. */
  onFeedInterrupted(): void;
}

/**
 * One gateway's view of the per-user event channels: a single subscriber connection, one Redis
 * subscription per user with sockets here, fanned out to those sockets' listeners.
 */
export class EventFeed {
  private readonly listeners = new Map<string, Set<FeedListener>>();
  private readonly channelToUser = new Map<string, string>();
  private readonly subscribed = new Map<string, Promise<void>>();
  private wasReady = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {
    subscriber.on('message', (channel: string, message: string) => this.route(channel, message));
    subscriber.on('ready', () => {
      // ioredis re-subscribes by itself after a reconnect; whatever was published meanwhile is
      // gone from pub/sub, so every socket catches up from its outbox.
      if (this.wasReady) {
        this.logger.warn({ users: this.listeners.size }, 'event feed reconnected; gap-filling every socket');
        for (const set of this.listeners.values()) for (const listener of set) listener.onFeedInterrupted();
      }
      this.wasReady = true;
    });
  }

  get userCount(): number {
    return this.listeners.size;
  }

  /** Resolves once the subscription is active, so nothing published afterwards is missed. */
  async subscribe(userId: string, listener: FeedListener): Promise<() => Promise<void>> {
    let set = this.listeners.get(userId);
    if (!set) {
      set = new Set();
      this.listeners.set(userId, set);
      const channel = this.keys.userChannel(userId);
      this.channelToUser.set(channel, userId);
      this.subscribed.set(
        userId,
        this.subscriber.subscribe(channel).then(() => undefined),
      );
    }
    set.add(listener);
    try {
      // A second socket of the same user waits for the same subscription to be active.
      await this.subscribed.get(userId);
    } catch (error) {
      this.remove(userId, listener);
      throw error;
    }
    return () => this.unsubscribe(userId, listener);
  }

  private async unsubscribe(userId: string, listener: FeedListener): Promise<void> {
    if (this.remove(userId, listener)) {
      await this.subscriber.unsubscribe(this.keys.userChannel(userId)).catch(() => {});
    }
  }

  /** Returns true when the user has no listeners left. */
  private remove(userId: string, listener: FeedListener): boolean {
    const set = this.listeners.get(userId);
    if (!set) return false;
    set.delete(listener);
    if (set.size > 0) return false;
    this.listeners.delete(userId);
    this.subscribed.delete(userId);
    this.channelToUser.delete(this.keys.userChannel(userId));
    return true;
  }

  private route(channel: string, message: string): void {
    const userId = this.channelToUser.get(channel);
    const set = userId === undefined ? undefined : this.listeners.get(userId);
    if (!set) return;
    for (const listener of set) listener.onEvent(message);
  }
}
