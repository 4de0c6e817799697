import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';
import { HistoryTurn } from './protocol.js';
import type { SulkingLevel } from './reply.js';
import { clampSulkingLevel } from './sulking.js';

export interface ConversationState {
  sulking_level: SulkingLevel;
  history_length: number;
}

export interface ConversationContext {
  sulkingLevel: SulkingLevel;
  /** Oldest first. */
  history: HistoryTurn[];
}

export interface ConversationStoreOptions {
  historyTurns: number;
  ttlSeconds: number;
}

/**
 * A learner's conversation with XiaoYue: the last N turns and her persona state (sulking level).
 * Both keys expire after `ttlSeconds` without activity.
 */
export class ConversationStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: ConversationStoreOptions,
  ) {}

  async getState(userId: string): Promise<ConversationState> {
    const [[, level], [, length]] = (await this.redis
      .multi()
      .hget(this.keys.persona(userId), 'sulking_level')
      .llen(this.keys.history(userId))
      .exec()) as [[null, string | null], [null, number]];
    return { sulking_level: clampSulkingLevel(Number(level ?? 0)), history_length: length };
  }

  async loadContext(userId: string, turns = this.options.historyTurns): Promise<ConversationContext> {
    const [[, level], [, raw]] = (await this.redis
      .multi()
      .hget(this.keys.persona(userId), 'sulking_level')
      .lrange(this.keys.history(userId), -turns, -1)
      .exec()) as [[null, string | null], [null, string[]]];
    return { sulkingLevel: clampSulkingLevel(Number(level ?? 0)), history: raw.flatMap(parseTurn) };
  }

  /** Stores a finished turn and the new sulking level together, keeping only the last N turns. */
  async commitTurn(userId: string, turn: HistoryTurn, sulkingLevel: SulkingLevel): Promise<void> {
    const { history, persona } = this.names(userId);
    await this.redis
      .multi()
      .rpush(history, JSON.stringify(turn))
      .ltrim(history, -this.options.historyTurns, -1)
      .hset(persona, 'sulking_level', sulkingLevel, 'updated_at', new Date().toISOString())
      .expire(history, this.options.ttlSeconds)
      .expire(persona, this.options.ttlSeconds)
      .exec();
  }

  async setSulkingLevel(userId: string, level: SulkingLevel): Promise<ConversationState> {
    const { persona } = this.names(userId);
    await this.redis
      .multi()
      .hset(persona, 'sulking_level', level, 'updated_at', new Date().toISOString())
      .expire(persona, this.options.ttlSeconds)
      .exec();
    return this.getState(userId);
  }

  /** Clears history and persona state (the outbox and its seq carry on). */
  async reset(userId: string): Promise<ConversationState> {
    const { history, persona } = this.names(userId);
    await this.redis.del(history, persona);
    return { sulking_level: 0, history_length: 0 };
  }

  async history(userId: string): Promise<HistoryTurn[]> {
    return (await this.redis.lrange(this.keys.history(userId), 0, -1)).flatMap(parseTurn);
  }

  private names(userId: string) {
    return { history: this.keys.history(userId), persona: this.keys.persona(userId) };
  }
}

/** A stored turn that no longer parses (e.g. an older format) is skipped rather than fatal. */
function parseTurn(raw: string): HistoryTurn[] {
  try {
    const parsed = HistoryTurn.safeParse(JSON.parse(raw));
    return parsed.success ? [parsed.data] : [];
  } catch {
    return [];
  }
}
