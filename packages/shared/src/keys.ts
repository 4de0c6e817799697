/**
 * Every Redis key of XiaoYue, in one place. Per-user keys share a `{u:<id>}` hash tag so that one
 * Lua script may touch several of them on Redis Cluster too.
 */
export function redisKeys(prefix: string) {
  const user = (userId: string) => `${prefix}:{u:${userId}}`;
  return {
    prefix,
    history: (userId: string) => `${user(userId)}:history`,
    persona: (userId: string) => `${user(userId)}:persona`,
    activeTurn: (userId: string) => `${user(userId)}:active-turn`,
    pendingReply: (userId: string, turnId: string) => `${user(userId)}:pending-reply:${turnId}`,
    outboxMeta: (userId: string) => `${user(userId)}:outbox-meta`,
    outboxStream: (userId: string) => `${user(userId)}:outbox`,
    outboxDedupe: (userId: string, idempotencyKey: string) => `${user(userId)}:outbox-dedupe:${idempotencyKey}`,
    /** Orders a streamed turn's events (sentence audio, then the end) whatever order workers finish in. */
    turnGate: (userId: string, gate: string) => `${user(userId)}:turn-gate:${gate}`,
    /** Set when the learner interrupted the turn; checked by an agent that has not started it yet. */
    turnCancel: (userId: string, turnId: string) => `${user(userId)}:turn-cancel:${turnId}`,
    /** Pub/sub channel telling agents to stop a streaming turn (message: `<userId> <turnId>`). */
    turnCancelChannel: () => `${prefix}:turn-cancel`,
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
    /** Distinct Chinese words she has used with the learner (set). */
    words: (userId: string) => `${user(userId)}:words`,
    /** One quiz's answer key and whether it was answered (expires with the conversation). */
    quiz: (userId: string, quizId: string) => `${user(userId)}:quiz:${quizId}`,
    /** Pub/sub channel on which a user's outbox events are announced to gateways. */
    userChannel: (userId: string) => `${prefix}:events:${userId}`,
    userChannelPattern: () => `${prefix}:events:*`,
    /** Which LLM the agent pool runs (`online` Gemini or `offline` practice tutor), for `welcome`. */
    agentMode: () => `${prefix}:agent-mode`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;
