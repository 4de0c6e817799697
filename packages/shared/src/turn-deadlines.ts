import type { RedisKeys } from './keys.js';
import { partitionOf } from './partitions.js';
import { TurnDeadlineJob } from './queues.js';
import type { RedisClient } from './redis.js';

/**
 * Claims due deadlines: the due members (oldest first, at most `limit`) are leased, i.e. re-scored
 * to `now + leaseMs`, so that a sweeper killed while answering them leaves them due again for
 * another one once the lease runs out. Returns {members..., nextDueAt or ''}: when fewer than
 * `limit` were due, the score of the earliest one not due yet (read before leasing, so not one of
 * these), so that the sweeper sleeps until then; '' when there is none, or more may be due now.
 * KEYS: the deadline set. ARGV: now, limit, leaseMs.
 */
const CLAIM_DUE_SCRIPT = `
local now, limit, leaseMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)
local nextDueAt = ''
if #due < limit then
  local upcoming = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  nextDueAt = upcoming[2] or ''
end
if #due > 0 then
  local leased = {}
  for i, member in ipairs(due) do
    leased[2 * i - 1] = now + leaseMs
    leased[2 * i] = member
  end
  redis.call('ZADD', KEYS[1], unpack(leased))
end
due[#due + 1] = nextDueAt
return due
`;

type DeadlineRedis = RedisClient & {
  claimDueTurnDeadlines(key: string, now: string, limit: string, leaseMs: string): Promise<string[]>;
};

/** A deadline the sweeper claimed: the turn (or `undefined` if its member does not parse), its member and partition. */
export interface ClaimedDeadline {
  job: TurnDeadlineJob | undefined;
  member: string;
  partition: number;
}

/**
 * The turns' deadlines: a sorted set per queue partition (`keys.turnDeadlines(i)`, each hash-tagged
 * on its own: no script mixes it with a learner's keys) of turn-deadline payloads scored by when
 * the turn must be over; a learner's deadlines go to the learner's partition (`partitionOf`). The
 * gateway adds one per turn (one ZADD); the agents' sweepers claim those that fall due in every
 * partition, answer the turns nobody answered (the turn-deadline watchdog), and remove them. It
 * replaces a delayed BullMQ job per turn, which cost about 50 Redis commands (add, promote, lock,
 * complete, remove); a deadline costs about 5.
 */
export class TurnDeadlines {
  private readonly redis: DeadlineRedis;
  private readonly partitionIds: number[];

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    /** QUEUE_PARTITIONS. */
    private readonly partitions = 1,
  ) {
    if (!('claimDueTurnDeadlines' in redis)) {
      redis.defineCommand('claimDueTurnDeadlines', { numberOfKeys: 1, lua: CLAIM_DUE_SCRIPT });
    }
    this.redis = redis as DeadlineRedis;
    this.partitionIds = Array.from({ length: Math.max(1, partitions) }, (_, i) => i);
  }

  /** The set's member for a turn: its payload, parsed (and validated) again by the sweeper. */
  static memberOf(job: TurnDeadlineJob): string {
    return JSON.stringify(TurnDeadlineJob.parse(job));
  }

  private keyOf(job: TurnDeadlineJob): string {
    return this.keys.turnDeadlines(partitionOf(job.user_id, this.partitions));
  }

  /** Schedules the watchdog of a turn at `dueAt` (epoch ms). */
  async schedule(job: TurnDeadlineJob, dueAt: number): Promise<void> {
    await this.redis.zadd(this.keyOf(job), dueAt, TurnDeadlines.memberOf(job));
  }

  /** Forgets a turn's deadline (the turn never started: its chat job could not be queued). */
  async cancel(job: TurnDeadlineJob): Promise<void> {
    await this.redis.zrem(this.keyOf(job), TurnDeadlines.memberOf(job));
  }

  /**
   * Leases up to `limit` deadlines per partition due at `now` for `leaseMs` (one script call per
   * partition, in parallel), and tells when the next one not yet due is (`undefined`: none is
   * scheduled) and whether a partition gave a full batch (`full`: more may be due at once).
   */
  async claimDue(
    now: number,
    limit: number,
    leaseMs: number,
  ): Promise<{ claimed: ClaimedDeadline[]; nextDueAt: number | undefined; full: boolean }> {
    const replies = await Promise.all(
      this.partitionIds.map((partition) =>
        this.redis.claimDueTurnDeadlines(
          this.keys.turnDeadlines(partition),
          String(now),
          String(limit),
          String(leaseMs),
        ),
      ),
    );
    const claimed: ClaimedDeadline[] = [];
    let nextDueAt: number | undefined;
    let full = false;
    replies.forEach((reply, partition) => {
      const members = reply.slice(0, -1);
      if (members.length >= limit) full = true;
      for (const member of members) claimed.push({ member, job: parseMember(member), partition });
      const next = reply[reply.length - 1] ?? '';
      if (next !== '' && (nextDueAt === undefined || Number(next) < nextDueAt)) nextDueAt = Number(next);
    });
    return { claimed, nextDueAt, full };
  }

  /** Removes handled deadlines (answered, or found answered already): a ZREM per partition concerned. */
  async remove(done: ClaimedDeadline[]): Promise<void> {
    const byPartition = new Map<number, string[]>();
    for (const { partition, member } of done)
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), member]);
    await Promise.all(
      [...byPartition].map(([partition, members]) => this.redis.zrem(this.keys.turnDeadlines(partition), ...members)),
    );
  }

  /** How many deadlines are scheduled, over all partitions (a gauge, and tests). */
  async count(): Promise<number> {
    const counts = await Promise.all(this.partitionIds.map((p) => this.redis.zcard(this.keys.turnDeadlines(p))));
    return counts.reduce((sum, n) => sum + n, 0);
  }
}

function parseMember(member: string): TurnDeadlineJob | undefined {
  try {
    const parsed = TurnDeadlineJob.safeParse(JSON.parse(member));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
