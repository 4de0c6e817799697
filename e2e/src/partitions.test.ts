import { randomUUID } from 'node:crypto';
import { partitionNames, partitionOf, redisKeys } from '@xiaoyue/shared';
import { fakeAudioFor, testRedisClient } from '@xiaoyue/test-support';
import { describe, expect, it } from 'vitest';
import { useSystemWithFakes } from './system.js';

const PARTITIONS = 3;
const env = useSystemWithFakes({ env: { QUEUE_PARTITIONS: String(PARTITIONS) } });

function tutorReply(chinese: string) {
  return {
    emotion: 'happy',
    chinese_content: chinese,
    pinyin: '',
    vietnamese_display: 'bản dịch',
    action: 'none',
    quiz_list: [],
    user_tone: 'polite',
    thought: 'thinking',
  };
}

describe(`queue partitions (QUEUE_PARTITIONS=${PARTITIONS})`, () => {
  it("answers learners whose turns go through different partitions, each learner's in its own", async () => {
    const users = Array.from({ length: 9 }, (_, i) => `part-${i}-${randomUUID().slice(0, 6)}`);
    const learners = await Promise.all(users.map((user) => env.connect(user)));
    await Promise.all(learners.map((learner) => learner.next('welcome')));
    for (const _ of users) env.gemini.enqueue({ kind: 'reply', body: tutorReply('你好！') });
    for (const learner of learners) learner.send({ action: 'chat', message: '你好' });
    const replies = await Promise.all(learners.map((learner) => learner.next('reply', 15_000)));
    for (const reply of replies) {
      expect(reply.data.chinese_content).toBe('你好！');
      expect(Buffer.from(reply.data.audio_base64, 'base64').equals(fakeAudioFor('你好！'))).toBe(true);
    }

    // Each learner's chat and tts jobs went through the learner's partition's streams.
    const redis = testRedisClient(env.redis);
    try {
      const keys = redisKeys(env.system.prefix);
      const added = async (partition: string) => {
        const info = (await redis.xinfo('STREAM', keys.queueStream(partition))) as unknown[];
        return Number(info[info.indexOf('entries-added') + 1]);
      };
      const turnsBy = new Map<number, number>();
      for (const user of users) {
        const partition = partitionOf(user, PARTITIONS);
        turnsBy.set(partition, (turnsBy.get(partition) ?? 0) + 1);
      }
      expect(turnsBy.size).toBeGreaterThan(1);
      for (const [partition, turns] of turnsBy) {
        expect(await added(partitionNames('chat', PARTITIONS)[partition] as string)).toBe(turns);
        expect(await added(partitionNames('tts', PARTITIONS)[partition] as string)).toBe(turns);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('streams a reply sentence by sentence through a partition', async () => {
    const learner = await env.connect(`part-stream-${randomUUID().slice(0, 6)}`, '?stream=1');
    await learner.next('welcome');
    env.gemini.enqueue({ kind: 'reply', body: tutorReply('第一句。第二句。') });
    learner.send({ action: 'chat', message: '你好' });
    const done = await learner.next('reply_done', 15_000);
    expect(done.data).toMatchObject({ chinese_content: '第一句。第二句。' });
    const count = (type: string) => learner.frames.filter((frame) => frame.type === type).length;
    expect(count('reply_text')).toBeGreaterThan(0);
    expect(count('reply_audio')).toBe(count('reply_text'));
  });
});
