import { isCluster, type Logger, type RedisClient, type RedisKeys } from '@xiaoyue/shared';

export interface FeedListener {
  /** A live outbox event (JSON text with `seq`). */
  onEvent(payload: string): void;
  /** Pub/sub was interrupted: events may have been missed and must be read from the outbox. */
  onFeedInterrupted(): void;
}

interface Subscription {
  /** Most learners have one socket: a Set only when a second one joins. */
  listeners: FeedListener | Set<FeedListener>;
  /** Resolves once Redis confirmed the SSUBSCRIBE. */
  ready: Promise<void>;
}

/**
 * One gateway's view of the per-user event channels: a single subscriber client, one sharded
 * subscription (SSUBSCRIBE) per user with sockets here, fanned out to those sockets' listeners. On a
 * Redis Cluster each subscription lives on the learner's shard (ioredis keeps one subscriber
 * connection per shard), so a learner's events cross one node, not the whole cluster bus.
 */
/** How long after a cluster's shards changed the re-subscriptions surely are active. */
const RESUBSCRIBE_SETTLE_MS = 1_000;

export class EventFeed {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly channels = new Map<string, string>();
  private wasReady = false;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {
    subscriber.on('smessage', (channel: string, message: string) => this.route(channel, message));
    // ioredis re-subscribes by itself after a reconnect (a single Redis, a Sentinel failover) or
    // a change of the cluster's shards (a failover: `subscribersReady`); whatever was published
    // meanwhile is gone from pub/sub, so every socket catches up from its outbox.
    subscriber.on(isCluster(subscriber) ? 'subscribersReady' : 'ready', () => {
      if (this.wasReady) this.gapFillEverySocket();
      this.wasReady = true;
    });
  }

  private gapFillEverySocket(): void {
    this.logger.warn({ users: this.subscriptions.size }, 'event feed reconnected; gap-filling every socket');
    const interruptEvery = () => {
      for (const { listeners } of this.subscriptions.values()) {
        for (const listener of each(listeners)) listener.onFeedInterrupted();
      }
    };
    if (isCluster(this.subscriber)) {
      // The shards' new subscriber connections re-subscribe on their own, unawaited: read the
      // outboxes now and once more after they surely have (sockets awaiting a turn also poll).
      interruptEvery();
      setTimeout(interruptEvery, RESUBSCRIBE_SETTLE_MS).unref();
      return;
    }
    // The PING answers after the re-SSUBSCRIBEs ioredis sent on this connection: from then on
    // nothing is missed, so what a read of the outbox does not see, pub/sub will.
    void this.subscriber
      .ping()
      .catch(() => undefined)
      .then(interruptEvery);
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
        ready: this.subscriber.ssubscribe(this.channelOf(userId)).then(() => undefined),
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
      await this.subscriber.sunsubscribe(this.channelOf(userId)).catch(() => {});
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
    this.channels.delete(this.keys.userChannel(userId));
    return true;
  }

  /** The user's channel, remembered so that a message finds its user without parsing the name. */
  private channelOf(userId: string): string {
    const channel = this.keys.userChannel(userId);
    this.channels.set(channel, userId);
    return channel;
  }

  private route(channel: string, message: string): void {
    const userId = this.channels.get(channel);
    const subscription = userId === undefined ? undefined : this.subscriptions.get(userId);
    if (subscription) for (const listener of each(subscription.listeners)) listener.onEvent(message);
  }
}

function each(listeners: FeedListener | Set<FeedListener>): Iterable<FeedListener> {
  return listeners instanceof Set ? listeners : [listeners];
}
