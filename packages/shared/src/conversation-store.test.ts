import { startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationStore } from './conversation-store.js';
import type { HistoryTurn } from './events.js';
import { redisKeys } from './keys.js';
import { QUIET_PERIOD_REASON } from './sulking.js';

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const turn = (n: number): HistoryTurn => ({
  turn_id: `t${n}`,
  timestamp: new Date().toISOString(),
  user_role: '师兄',
  user_message: `第${n}句`,
  chinese_content: '好。',
  pinyin: 'Hǎo.',
  vietnamese_display: 'Được.',
  emotion: 'neutral',
  action: 'none',
  quiz_list: [],
  sulking_level: 0,
});

function store(options: { historyTurns?: number; sulkDecayMs?: number } = {}) {
  const keys = redisKeys(uniquePrefix('store'));
  return {
    keys,
    store: new ConversationStore(redis, keys, {
      historyTurns: options.historyTurns ?? 3,
      ttlSeconds: 60,
      sulkDecayMs: options.sulkDecayMs,
    }),
  };
}

describe('ConversationStore', () => {
  it('keeps the last N turns, oldest first, and expires them', async () => {
    const { store: s, keys } = store();
    for (let n = 1; n <= 5; n++) await s.commitTurn('u', turn(n), 0);
    expect((await s.history('u')).map((t) => t.user_message)).toEqual(['第3句', '第4句', '第5句']);
    expect(await redis.ttl(keys.history('u'))).toBeGreaterThan(0);
    expect(await redis.ttl(keys.persona('u'))).toBeGreaterThan(0);
  });

  it('remembers why she sulks, and lets a quiet while soften her', async () => {
    const { store: s, keys } = store({ sulkDecayMs: 60_000 });
    await s.commitTurn('u', turn(1), 3, 'the learner was rude');
    expect(await s.getState('u')).toMatchObject({ sulking_level: 3, sulking_reason: 'the learner was rude' });
    // Two quiet periods later…
    await redis.hset(keys.persona('u'), 'sulking_changed_at', Date.now() - 2.5 * 60_000);
    expect(await s.getState('u')).toMatchObject({ sulking_level: 1, sulking_reason: QUIET_PERIOD_REASON });
    expect(await s.loadContext('u')).toMatchObject({ sulkingLevel: 1, sulkingDecayed: true });
    // Turns without a change keep the clock running; a reset forgets everything.
    await s.commitTurn('u', turn(2), 1);
    expect((await s.reset('u')).sulking_reason).toBeNull();
    expect(await s.getState('u')).toEqual({ sulking_level: 0, sulking_reason: null, history_length: 0 });
  });
});
