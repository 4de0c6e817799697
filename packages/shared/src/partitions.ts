/**
 * Queue partitions (QUEUE_PARTITIONS): the chat and tts queues and the turn-deadline set are each
 * split into P partitions with their own hash tags, so that on a Redis Cluster their load spreads
 * over the shards. A learner's jobs all go to one partition (`partitionOf`), so they keep their order.
 */

/** The partition of a learner: FNV-1a (32 bit) of the user id, mod `partitions`. Stable across processes and releases. */
export function partitionOf(userId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

/** Partition 0 keeps the plain name (`chat`), so that one partition is the unpartitioned layout; then `chat-1` … */
export function partitionName(name: string, partition: number): string {
  return partition === 0 ? name : `${name}-${partition}`;
}

/** Every partition's name, partition 0 first: `chat`, `chat-1`, …, `chat-(P-1)`. */
export function partitionNames(name: string, partitions: number): string[] {
  return Array.from({ length: Math.max(1, partitions) }, (_, i) => partitionName(name, i));
}
