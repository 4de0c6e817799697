import { type ConversationState, HistoryTurn } from './events.js';
import type { RedisKeys } from './keys.js';
import type { RedisClient } from './redis.js';
import type { SulkingLevel } from './reply.js';
import { clampSulkingLevel, decaySulking, QUIET_PERIOD_REASON } from './sulking.js';

export interface ConversationContext {
  sulkingLevel: SulkingLevel;
  sulkingReason: string | null;
  /** Time alone softened her since the level was stored (the next write should record it). */
  sulkingDecayed: boolean;
  /** Oldest first. */
  history: HistoryTurn[];
}

export interface ConversationStoreOptions {
  historyTurns: number;
  ttlSeconds: number;
  /** A sulk fades by one level per this many ms without a change; 0 never. */
  sulkDecayMs?: number;
}

const PERSONA_FIELDS = ['sulking_level', 'sulking_reason', 'sulking_changed_at'] as const;

/**
 * A learner's conversation with XiaoYue: the last N turns and her persona state (sulking level).
 * Both keys expire after `ttlSeconds` without activity.
 */
export class ConversationStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: ConversationStoreOptions,
  ) {}

  async getState(userId: string): Promise<ConversationState> {
    const [[, persona], [, length]] = (await this.redis
      .multi()
      .hmget(this.keys.persona(userId), ...PERSONA_FIELDS)
      .llen(this.keys.history(userId))
      .exec()) as [[null, (string | null)[]], [null, number]];
    const sulk = this.sulkOf(persona);
    return { sulking_level: sulk.level, sulking_reason: sulk.reason, history_length: length };
  }

  async loadContext(userId: string, turns = this.options.historyTurns): Promise<ConversationContext> {
    // Read in one round trip without MULTI (two commands more): one turn at a time per learner.
    const [persona, raw] = await Promise.all([
      this.redis.hmget(this.keys.persona(userId), ...PERSONA_FIELDS),
      this.redis.lrange(this.keys.history(userId), -turns, -1),
    ]);
    const sulk = this.sulkOf(persona);
    return {
      sulkingLevel: sulk.level,
      sulkingReason: sulk.reason,
      sulkingDecayed: sulk.decayed,
      history: raw.flatMap(parseTurn),
    };
  }

  /**
   * Stores a finished turn and the sulking level together, keeping only the last N turns. A
   * `reason` marks a change of level (and restarts the sulk's quiet-period clock).
   */
  async commitTurn(userId: string, turn: HistoryTurn, sulkingLevel: SulkingLevel, reason?: string): Promise<void> {
    const { history, persona } = this.names(userId);
    await this.redis
      .multi()
      .rpush(history, JSON.stringify(turn))
      .ltrim(history, -this.options.historyTurns, -1)
      .hset(persona, this.sulkFields(sulkingLevel, reason))
      .expire(history, this.options.ttlSeconds)
      .expire(persona, this.options.ttlSeconds)
      .exec();
  }

  async setSulkingLevel(
    userId: string,
    level: SulkingLevel,
    reason = 'set with set_sulking',
  ): Promise<ConversationState> {
    const { persona } = this.names(userId);
    await this.redis
      .multi()
      .hset(persona, this.sulkFields(level, reason))
      .expire(persona, this.options.ttlSeconds)
      .exec();
    return this.getState(userId);
  }

  /** The stored level after the quiet-period decay, with its reason. */
  private sulkOf([level, reason, changedAt]: (string | null)[]): {
    level: SulkingLevel;
    reason: string | null;
    decayed: boolean;
  } {
    const stored = clampSulkingLevel(Number(level ?? 0));
    const decay = decaySulking(stored, Number(changedAt ?? Number.NaN), Date.now(), this.options.sulkDecayMs ?? 0);
    return {
      level: decay.level,
      reason: decay.decayed ? QUIET_PERIOD_REASON : (reason ?? null),
      decayed: decay.decayed,
    };
  }

  private sulkFields(level: SulkingLevel, reason: string | undefined): Record<string, string | number> {
    const fields: Record<string, string | number> = { sulking_level: level, updated_at: new Date().toISOString() };
    if (reason !== undefined) Object.assign(fields, { sulking_reason: reason, sulking_changed_at: Date.now() });
    return fields;
  }

  /** Clears history and persona state (the outbox and its seq carry on). */
  async reset(userId: string): Promise<ConversationState> {
    const { history, persona } = this.names(userId);
    await this.redis.del(history, persona);
    return { sulking_level: 0, sulking_reason: null, history_length: 0 };
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
