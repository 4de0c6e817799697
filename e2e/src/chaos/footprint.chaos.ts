import { progressKeys, type RedisKeys, redisKeys } from '@xiaoyue/shared';
import { startFakeEdgeTts, startTestRedis } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import type { Learner } from '../learner.js';
import { startSystem } from '../system.js';

/**
 * A week at the default rate limit (60 actions a minute) is 604,800 actions. R11 drives the same
 * mix as fast as the services take it (the rate limit raised), for as many rounds as it takes to
 * pass every per-learner cap at least once (500 cards, 2,500 exact words, 50 quizzes, 2,000
 * outbox keys); past its caps a learner's data only replaces itself. Nothing expires during the
 * run, as it would in a real week, and keys that live for as long as a turn or a lease pile up
 * faster than at 60 actions a minute: both only overstate the footprint.
 */
const ROUNDS = Number(process.env.CHAOS_R11_ROUNDS ?? 700);
const FOOTPRINT_TARGET_BYTES = 5 * 1024 * 1024;
/** The last rounds, all past the caps in a full run: the footprint must not grow over them. */
const SETTLED_ROUNDS = 200;
const USER = 'r11-learner';

/** Characters the offline tutor reads as a tone (rude, sorry, fond, polite) or a request: not used as new words. */
const LOADED = new Set(
  '笨蠢傻滚闭嘴讨厌你烦死废物白痴没用对不起抱歉好意思我错了原谅喜欢爱可想请谢您麻考测验试小出题叫什么名字记得谁是很',
);

/** Eight Chinese characters no earlier round used: the words she repeats in her correction are new. */
function newCharacters(round: number): string {
  const chars: string[] = [];
  for (let code = 0x4e00 + round * 12; chars.length < 8; code++) {
    const char = String.fromCodePoint(code);
    if (!LOADED.has(char)) chars.push(char);
  }
  return chars.join('');
}

interface Footprint {
  bytes: number;
  keys: number;
  /** Keys with no TTL that are not progress keys (each of those has a bound). */
  unbounded: string[];
  /** Bytes by kind of key (`outbox`, `cards`, `quiz`, …). */
  byKind: Map<string, number>;
}

/** MEMORY USAGE of every key under the learner's hash tag, and the keys that would never go. */
async function footprintOf(admin: Redis, keys: RedisKeys, userId: string): Promise<Footprint> {
  const tag = `${keys.prefix}:{u:${userId}}:`;
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', `${tag}*`, 'COUNT', 1000);
    for (const key of batch) found.add(key);
    cursor = next;
  } while (cursor !== '0');
  const bounded = new Set(progressKeys(keys, userId));
  const result: Footprint = { bytes: 0, keys: found.size, unbounded: [], byKind: new Map() };
  for (const key of found) {
    const [bytes, ttl] = await Promise.all([
      admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') as Promise<number | null>,
      admin.ttl(key),
    ]);
    const kind = key.slice(tag.length).split(':')[0] ?? key;
    result.bytes += bytes ?? 0;
    result.byKind.set(kind, (result.byKind.get(kind) ?? 0) + (bytes ?? 0));
    if (ttl === -1 && !bounded.has(key)) result.unbounded.push(key);
  }
  return result;
}

const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;

/** Answers every quiz of a list with the first option (or a guess): some right, some wrong. */
async function answerAll(learner: Learner, quizzes: { id: string }[]): Promise<number> {
  for (const quiz of quizzes) await learner.request({ action: 'answer', quiz_id: quiz.id, answer: 'A' }, 'quiz_result');
  return quizzes.length;
}

it(`R11: one learner at the rate limit for a simulated week (${ROUNDS} rounds of review, chat, answer, replay): Redis footprint ≤ 5 MB, 0 keys without a bound`, async () => {
  const redis = await startTestRedis();
  // Her voice from the Edge fake, with audio as big as Edge's: the footprint is what is measured,
  // not how fast an offline voice speaks 1,400 new sentences.
  const edge = await startFakeEdgeTts({ audio: 'realistic' });
  const system = await startSystem({
    redisUrl: redis.url,
    edge,
    gatewayEnv: { RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_BURST: '10000' },
  });
  const admin = new Redis(redis.url);
  const keys = redisKeys(system.prefix);
  const [plain, streamed] = [await system.connect(USER), await system.connect(USER, '?stream=1')];
  const samples: { round: number; bytes: number }[] = [];
  let actions = 0;
  let reviewsChanged = 0;
  const started = Date.now();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // A mistake to correct (a new card) in words she has not said yet.
      const corrected = await (await plain.client.chat(`我是很好${newCharacters(round)}`)).reply;
      // A streamed quiz turn, answered.
      const quiz = await (await streamed.client.chat('考考我')).reply;
      actions += 2 + (await answerAll(plain, quiz.data.quiz_list));
      // A review, asked twice before it is answered (the same quizzes), then answered.
      const review = await plain.request({ action: 'review' }, 'review');
      const again = await plain.request({ action: 'review' }, 'review');
      // (An empty review opens nothing: a card falling due in between may make the second one.)
      const same = JSON.stringify(again.data.quiz_list) === JSON.stringify(review.data.quiz_list);
      if (review.data.quiz_list.length > 0 && !same) reviewsChanged++;
      actions += 2 + (await answerAll(plain, review.data.quiz_list));
      // Her correction again, slowly.
      await plain.request({ action: 'replay', turn_id: corrected.data.turn_id }, 'replay_audio');
      actions += 1;
      if (round % 50 === 0 || round === ROUNDS) {
        samples.push({ round, bytes: (await footprintOf(admin, keys, USER)).bytes });
      }
    }
    const progress = (await plain.request({ action: 'get_progress' }, 'progress')).data;
    const footprint = await footprintOf(admin, keys, USER);
    const biggest = [...footprint.byKind.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([kind, bytes]) => `${kind} ${kb(bytes)}`);
    // Past the caps (cards fill by round ~500: one correction a round) the footprint stays flat.
    const settled = samples.find((s) => s.round >= ROUNDS - SETTLED_ROUNDS) ?? samples[0];
    const growth = footprint.bytes / (settled?.bytes ?? footprint.bytes) - 1;
    console.log(
      `CHAOS R11 footprint: ${actions} actions in ${Math.round((Date.now() - started) / 1000)} s (past every cap; a week at 60/min is 604,800), ` +
        `Redis ${kb(footprint.bytes)} over ${footprint.keys} keys (≤ ${kb(FOOTPRINT_TARGET_BYTES)}; ` +
        `${(growth * 100).toFixed(1)}% growth over the last ${SETTLED_ROUNDS} rounds), ` +
        `${footprint.unbounded.length} without a bound; biggest: ${biggest.join(', ')}; ` +
        `cards ${progress.cards_total}, words met ${progress.words_met}, review re-asks changed ${reviewsChanged}`,
    );
    console.log(`R11 footprint by round: ${samples.map((s) => `${s.round}: ${kb(s.bytes)}`).join(', ')}`);
    expect(footprint.unbounded).toEqual([]);
    expect(footprint.bytes).toBeLessThanOrEqual(FOOTPRINT_TARGET_BYTES);
    expect(reviewsChanged).toBe(0);
    if (ROUNDS >= 600) expect(growth).toBeLessThan(0.05);
    // The progress numbers come from the bounded keys and agree with them.
    expect(progress.cards_total).toBe(await admin.hlen(keys.cards(USER)));
    expect(progress.cards_learned).toBe(await admin.scard(keys.cardsLearned(USER)));
    for (const index of [keys.cardsDue(USER), keys.cardsByMistakes(USER), keys.cardsCreated(USER)]) {
      expect(await admin.zcard(index), index).toBe(progress.cards_total);
    }
  } finally {
    plain.close();
    streamed.close();
    admin.disconnect();
    await system.stop();
    await edge.close();
    await redis.stop();
  }
}, 900_000);
