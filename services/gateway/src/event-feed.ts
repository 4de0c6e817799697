import type { Logger, Redis, RedisKeys } from '@xiaoyue/shared';

export interface FeedListener {
  /** A live outbox event (JSON text with `seq`). */
  onEvent(payload: string): void;
  /** Pub/sub was interrupted: events may have been missed and must be read from the outbox. */
  onFeedInterrupted(): void;
}

interface Subscription {
  /** Most learners have one socket: a Set only when a second one joins. */
  listeners: FeedListener | Set<FeedListener>;
  /** Resolves once Redis confirmed the SUBSCRIBE. */
  ready: Promise<void>;
}

/**
 * One gateway's view of the per-user event channels: a single subscriber connection, one Redis
 * subscription per user with sockets here, fanned out to those sockets' listeners.
 */
export class EventFeed {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly channelPrefix: string;
  private wasReady = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {
    this.channelPrefix = keys.userChannel('');
    subscriber.on('message', (channel: string, message: string) => this.route(channel, message));
    subscriber.on('ready', () => {
      // ioredis re-subscribes by itself after a reconnect; whatever was published meanwhile is
      // gone from pub/sub, so every socket catches up from its outbox.
      if (this.wasReady) {
        this.logger.warn({ users: this.subscriptions.size }, 'event feed reconnected; gap-filling every socket');
        // The PING answers after the re-SUBSCRIBEs ioredis sent on this connection: from then on
        // nothing is missed, so what a read of the outbox does not see, pub/sub will.
        void this.subscriber
          .ping()
          .catch(() => undefined)
          .then(() => {
            for (const { listeners } of this.subscriptions.values()) {
              for (const listener of each(listeners)) listener.onFeedInterrupted();
            }
          });
      }
      this.wasReady = true;
    });
  }

  get userCount(): number {
    return this.subscriptions.size;
  }

  /** Resolves once the subscription is active, so nothing published afterwards is missed. */
  async subscribe(userId: string, listener: FeedListener): Promise<() => Promise<void>> {
    let subscription = this.subscriptions.get(userId);
    if (!subscription) {
      subscription = {
        listeners: listener,
        ready: this.subscriber.subscribe(this.keys.userChannel(userId)).then(() => undefined),
      };
      this.subscriptions.set(userId, subscription);
    } else if (subscription.listeners instanceof Set) {
      subscription.listeners.add(listener);
    } else if (subscription.listeners !== listener) {
      subscription.listeners = new Set([subscription.listeners, listener]);
    }
    try {
      // A second socket of the same user waits for the same subscription to be active.
      await subscription.ready;
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
    const subscription = this.subscriptions.get(userId);
    if (!subscription) return false;
    const { listeners } = subscription;
    if (listeners instanceof Set) {
      listeners.delete(listener);
      if (listeners.size > 0) return false;
    } else if (listeners !== listener) {
      return false;
    }
    this.subscriptions.delete(userId);
    return true;
  }

  private route(channel: string, message: string): void {
    if (!channel.startsWith(this.channelPrefix)) return;
    const subscription = this.subscriptions.get(channel.slice(this.channelPrefix.length));
    if (subscription) for (const listener of each(subscription.listeners)) listener.onEvent(message);
  }
}

function each(listeners: FeedListener | Set<FeedListener>): Iterable<FeedListener> {
  return listeners instanceof Set ? listeners : [listeners];
}
