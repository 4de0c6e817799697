import { partitionName } from './partitions.js';

/**
 * Every Redis key of XiaoYue, in one place. Per-user keys share a `{u:<id>}` hash tag so that one
 * Lua script may touch several of them on Redis Cluster too, and the learner's event channel (sharded
 * pub/sub) lives on the same shard. Global keys have tags of their own. Every per-user key has a TTL
 * or a bound on its size (docs/architecture.md, "Learner data").
 */
export function redisKeys(prefix: string) {
  const user = (userId: string) => `${prefix}:{u:${userId}}`;
  return {
    prefix,
    history: (userId: string) => `${user(userId)}:history`,
    persona: (userId: string) => `${user(userId)}:persona`,
    activeTurn: (userId: string) => `${user(userId)}:active-turn`,
    /** A turn's reply before speech, for the deadline watchdog; deleted with the turn's end. */
    pendingReply: (userId: string, turnId: string) => `${user(userId)}:pending-reply:${turnId}`,
    outboxMeta: (userId: string) => `${user(userId)}:outbox-meta`,
    outboxStream: (userId: string) => `${user(userId)}:outbox`,
    /** Idempotency keys of the outbox's recent events by seq (sorted set, trimmed with the stream). */
    outboxDedupe: (userId: string) => `${user(userId)}:outbox-dedupe`,
    /**
     * Orders a streamed turn's events (sentence audio, then the end) whatever order workers finish
     * in; deleted with the turn's end.
     */
    turnGate: (userId: string, gate: string) => `${user(userId)}:turn-gate:${gate}`,
    /** Set when the learner interrupted the turn; checked by an agent that has not started it yet. */
    turnCancel: (userId: string, turnId: string) => `${user(userId)}:turn-cancel:${turnId}`,
    /**
     * Pub/sub channel telling agents to stop a streaming turn (message: `<userId> <turnId>`). Classic
     * pub/sub: every agent hears it, whichever shard it is connected to (interruptions are rare).
     */
    turnCancelChannel: () => `{${prefix}:turn-cancel}`,
    /** Token bucket of the learner's actions (shared by every gateway). */
    rateBucket: (userId: string) => `${user(userId)}:rate`,
    /** The learner's open sockets on every gateway (sorted set scored by lease end). */
    sockets: (userId: string) => `${user(userId)}:sockets`,
    // The learner's progress: no TTL, kept across `reset` (only `clear_progress` deletes it).
    /** Level, quiz scores, streak and profile (hash). */
    learner: (userId: string) => `${user(userId)}:learner`,
    /** Review cards by id (hash of JSON). */
    cards: (userId: string) => `${user(userId)}:cards`,
    /** Review card ids scored by when they fall due (epoch ms). */
    cardsDue: (userId: string) => `${user(userId)}:cards-due`,
    /** Review card ids scored by how often the learner made that mistake (the profile's top mistakes). */
    cardsByMistakes: (userId: string) => `${user(userId)}:cards-mistakes`,
    /** Ids of cards graduated to spaced review (set). */
    cardsLearned: (userId: string) => `${user(userId)}:cards-learned`,
    /** Review card ids scored by when the card was made (epoch ms): which to drop when over the cap. */
    cardsCreated: (userId: string) => `${user(userId)}:cards-created`,
    /** Distinct Chinese words she has used with the learner, the first ones up to a cap (set). */
    words: (userId: string) => `${user(userId)}:words`,
    /** Distinct words met beyond the `words` cap, counted approximately (HyperLogLog). */
    wordsBeyondCap: (userId: string) => `${user(userId)}:words-beyond-cap`,
    /** One quiz's answer key and whether it was answered (expires; answered ones soon). */
    quiz: (userId: string, quizId: string) => `${user(userId)}:quiz:${quizId}`,
    /** The learner's quiz ids scored by when they were asked (epoch ms): only the newest are kept. */
    quizzes: (userId: string) => `${user(userId)}:quizzes`,
    /** The quiz ids of the learner's open review, space-separated: asked again until answered. */
    openReview: (userId: string) => `${user(userId)}:open-review`,
    /**
     * Sharded pub/sub channel (SPUBLISH) on which a user's outbox events are announced to the
     * gateways holding the user's sockets: on a cluster, one shard (the learner's) carries it.
     */
    userChannel: (userId: string) => `${user(userId)}:events`,
    /**
     * Open turns' deadlines (sorted set: turn-deadline payload → due, epoch ms), one set per queue
     * partition (`{<prefix>:turn-deadlines}` for partition 0, `{<prefix>:turn-deadlines-<i>}`), the
     * learner's partition chosen by `partitionOf`; every agent sweeps all of them (`TurnDeadlines`).
     * Global, not per learner: own hash tags, never in a script with a learner's keys. Bounded by the
     * turns started in the last TURN_TIMEOUT_MS (each is removed once handled, a few ms after its
     * due time); no TTL (a TTL would drop pending deadlines).
     */
    turnDeadlines: (partition = 0) => `{${prefix}:${partitionName('turn-deadlines', partition)}}`,
    /**
     * A stream-transport queue partition's jobs (`{<prefix>:chat}:stream`, `{<prefix>:chat-1}:stream`
     * …; consumer group `workers`): hash-tagged per partition like a BullMQ prefix, so partitions
     * spread over the shards. Bounded: an entry is XDELed once its job is done (or dropped), and
     * every XADD trims the stream to about `STREAM_MAX_LEN` entries (a backlog that deep is far
     * older than any turn's deadline). The empty stream and its group stay (no TTL): a few hundred
     * bytes per partition.
     */
    queueStream: (partition: string) => `{${prefix}:${partition}}:stream`,
    /**
     * Until when (epoch ms) a stream queue is paused for every worker (a handler threw PauseQueue:
     * the LLM answered 429). Expires when the pause ends.
     */
    queuePausedUntil: (queue: string) => `{${prefix}:${queue}}:paused-until`,
    /** Which LLM the agent pool runs (`online` Gemini or `offline` practice tutor), for `welcome`. */
    agentMode: () => `{${prefix}:agent-mode}`,
    /** What the TTS pool speaks with (JSON `{provider, voice}`), for `voices`; written by each TTS worker at start. */
    ttsVoice: () => `{${prefix}:tts-voice}`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;

/**
 * The learner's progress keys: no TTL (kept across `reset`, deleted only by `clear_progress`), each
 * bounded in size instead. Every other per-user key expires.
 */
export function progressKeys(keys: RedisKeys, userId: string): string[] {
  return [
    keys.learner(userId),
    keys.cards(userId),
    keys.cardsDue(userId),
    keys.cardsByMistakes(userId),
    keys.cardsLearned(userId),
    keys.cardsCreated(userId),
    keys.words(userId),
    keys.wordsBeyondCap(userId),
  ];
}
