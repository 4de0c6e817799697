import {
  actionAnswers,
  CLIENT_ACTIONS,
  type ClientFrame,
  ConversationStore,
  connectRedis,
  createProducerRedis,
  createQueue,
  eventData,
  LearnerStore,
  queueCatalog,
  type Redis,
  redisKeys,
  type ServerFrame,
  type TtsVoiceInfo,
  TurnDeadlines,
} from '@xiaoyue/shared';
import { startTestRedis, type TestRedis, uniquePrefix } from '@xiaoyue/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ActionContext,
  type ActionError,
  type ActionHandler,
  type ActionHandlers,
  actionHandlers,
  runAction,
} from './actions.js';
import { startReplay } from './replay.js';
import { TurnStarter } from './turns.js';

let server: TestRedis;
let redis: Redis;
const queues: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  server = await startTestRedis();
  redis = await connectRedis(createProducerRedis(server.url, 'actions-test'));
});
afterAll(async () => {
  await Promise.all(queues.map((queue) => queue.close()));
  redis.disconnect();
  await server.stop();
});

/** A socket's context over real stores and queues; the session's hooks only record their calls. */
function contextFor(userId: string, stream = false, tts?: TtsVoiceInfo) {
  const prefix = uniquePrefix('actions');
  const keys = redisKeys(prefix);
  const store = new ConversationStore(redis, keys, { historyTurns: 10, ttlSeconds: 600, sulkDecayMs: 600_000 });
  const learners = new LearnerStore(redis, keys, { quizTtlSeconds: 600 });
  const chat = createQueue(queueCatalog.chat, redis, prefix);
  const ttsQueue = createQueue(queueCatalog.tts, redis, prefix);
  queues.push(chat, ttsQueue);
  const hooks: string[] = [];
  const judged: string[] = [];
  const context: ActionContext = {
    userId,
    stream,
    store,
    learners,
    turns: new TurnStarter(redis, keys, chat, new TurnDeadlines(redis, keys), 30_000),
    judgeTranslation: async (request) => {
      judged.push(request.answer);
      return true;
    },
    replay: (request) => startReplay({ store, learners, ttsQueue, timeoutMs: 30_000 }, request),
    ttsVoice: async () => tts,
    turnStarted: () => hooks.push('turnStarted'),
    interruptWith: async (frame, activeTurnId) => void hooks.push(`interruptWith ${frame.message} ${activeTurnId}`),
    awaitOutbox: (event) => hooks.push(`awaitOutbox ${event}`),
  };
  /** The TTS jobs queued so far. */
  const ttsJobs = async () =>
    (await redis.xrange(keys.queueStream('tts'), '-', '+')).map(([, fields]) => JSON.parse(fields[3] ?? '{}'));
  return { context, hooks, judged, learners, store, ttsJobs };
}

/** Runs a frame and checks an answer against the event catalog. */
async function run(frame: ClientFrame, context: ActionContext): Promise<ServerFrame | ActionError | undefined> {
  const reply = await runAction(frame, context);
  if (reply && 'type' in reply) {
    expect(reply.type).toBe(actionAnswers[frame.action]);
    expect(() => eventData[reply.type].parse(reply.data)).not.toThrow();
  }
  return reply;
}

describe('action handlers', () => {
  it('has one handler per protocol action; only set_sulking is a debug action', () => {
    expect(Object.keys(actionHandlers).sort()).toEqual([...CLIENT_ACTIONS].sort());
    expect(CLIENT_ACTIONS.filter((action) => actionHandlers[action].debug)).toEqual(['set_sulking']);
  });

  it('cannot leave an action out, nor answer it with another event', () => {
    const { replay: _replay, ...withoutReplay } = actionHandlers;
    // @ts-expect-error the table needs a handler for every action of the protocol
    const incomplete: ActionHandlers = withoutReplay;
    const wrongAnswer: ActionHandler<'set_level'> = {
      // @ts-expect-error set_level is answered by level_set ({level}), not by a state
      handle: async () => ({ answer: { sulking_level: 0, sulking_reason: null, history_length: 0 } }),
    };
    expect([incomplete, wrongAnswer]).toHaveLength(2);
  });

  it("answers with the catalog's event, carrying the request_id", async () => {
    const { context } = contextFor('lan');
    const reply = await run({ action: 'set_level', level: 4, request_id: 'r1' }, context);
    expect(reply).toEqual({ type: 'level_set', status: 'success', data: { level: 4 }, request_id: 'r1' });
    expect(await run({ action: 'get_progress' }, context)).toMatchObject({ type: 'progress', data: { level: 4 } });
    expect(await run({ action: 'reset' }, context)).not.toHaveProperty('request_id');
  });

  it('starts a turn (typing), and answers busy or interrupts while one is in flight', async () => {
    const { context, hooks } = contextFor('ming');
    const typing = await run({ action: 'chat', message: '你好' }, context);
    expect(typing).toMatchObject({ type: 'typing', data: { is_typing: true } });
    expect(hooks).toEqual(['turnStarted']);
    expect(await run({ action: 'chat', message: '再见' }, context)).toMatchObject({ code: 'busy' });
    // Streaming, a new message interrupts her: no answer now, the session sends it after her turn.
    const streaming = { ...context, stream: true };
    expect(await run({ action: 'chat', message: '等等' }, streaming)).toBeUndefined();
    expect(hooks.at(-1)).toBe(`interruptWith 等等 ${(typing as ServerFrame<'typing'>).data.turn_id}`);
  });

  it('grades an answer once; a translation the rules call wrong goes to the judge, answered later', async () => {
    const { context, hooks, judged, learners } = contextFor('hoa');
    const [choice, translation] = await learners.saveQuizzes('hoa', 't1', [
      { type: 'choice', question: '你好?', options: ['hi', 'bye'], answer: 'hi', hint: '', explanation: '' },
      { type: 'translate', question: 'Xin chào', options: [], answer: '你好', hint: '', explanation: '' },
    ]);
    const graded = await run({ action: 'answer', quiz_id: choice?.id ?? '', answer: 'A' }, context);
    expect(graded).toMatchObject({ type: 'quiz_result', data: { correct: true, graded_by: 'rules' } });
    expect(await run({ action: 'answer', quiz_id: choice?.id ?? '', answer: 'B' }, context)).toEqual({
      code: 'already_answered',
      message: `Quiz "${choice?.id}" was already answered (the answer: hi)`,
    });
    expect(await run({ action: 'answer', quiz_id: translation?.id ?? '', answer: '您好' }, context)).toBeUndefined();
    expect([judged, hooks]).toEqual([['您好'], ['awaitOutbox quiz_result']]);
    expect(await run({ action: 'answer', quiz_id: 'nope', answer: 'A' }, context)).toEqual({
      code: 'unknown_quiz',
      message: 'No open quiz with id "nope"',
    });
  });

  it('answers a replay of a line that is not in the history with unknown_turn', async () => {
    const { context } = contextFor('kim');
    expect(await run({ action: 'replay', turn_id: 'gone', rate: 'slow' }, context)).toEqual({
      code: 'unknown_turn',
      message: 'No line of hers with turn_id "gone" in this conversation',
    });
  });

  it("lists her Chinese voices and names the learner's; the TTS worker's default until they choose", async () => {
    const { context } = contextFor('an', false, { provider: 'edge', voice: 'zh-CN-YunxiNeural' });
    const voices = (await run({ action: 'get_voices', request_id: 'v1' }, context)) as ServerFrame<'voices'>;
    expect(voices).toMatchObject({ type: 'voices', request_id: 'v1', data: { current: 'zh-CN-YunxiNeural' } });
    expect(voices.data.voices.map((voice) => voice.name)).toContain('zh-CN-XiaoyiNeural');
    expect(voices.data.voices).toContainEqual(
      expect.objectContaining({ name: 'zh-HK-HiuGaaiNeural', locale: 'zh-HK', gender: 'Female' }),
    );
    // No TTS worker said anything yet: Edge's Xiaoxiao, TTS_VOICE's default.
    const unknown = contextFor('an2').context;
    expect(await run({ action: 'get_voices' }, unknown)).toMatchObject({ data: { current: 'zh-CN-XiaoxiaoNeural' } });
  });

  it('offline (espeak) lists espeak-ng Mandarin as her only voice', async () => {
    const { context } = contextFor('bo', false, { provider: 'espeak', voice: 'zh-CN-XiaoxiaoNeural' });
    await run({ action: 'set_voice', voice: 'zh-CN-XiaoyiNeural' }, context);
    expect(await run({ action: 'get_voices' }, context)).toMatchObject({
      data: { voices: [{ name: 'espeak:cmn', locale: 'cmn' }], current: 'espeak:cmn' },
    });
  });

  it('sets her voice, kept across reset and used for replays; an unknown voice is invalid_message', async () => {
    const { context, learners, store, ttsJobs } = contextFor('chi', false, {
      provider: 'edge',
      voice: 'zh-CN-XiaoxiaoNeural',
    });
    expect(await run({ action: 'set_voice', voice: 'zh-CN-XiaoyiNeural', request_id: 's1' }, context)).toEqual({
      type: 'voice_set',
      status: 'success',
      data: { voice: 'zh-CN-XiaoyiNeural' },
      request_id: 's1',
    });
    expect(await run({ action: 'set_voice', voice: 'en-US-AriaNeural' }, context)).toEqual({
      code: 'invalid_message',
      message: '"voice": unknown voice "en-US-AriaNeural" (get_voices lists hers)',
    });
    await run({ action: 'reset' }, context);
    expect(await run({ action: 'get_voices' }, context)).toMatchObject({ data: { current: 'zh-CN-XiaoyiNeural' } });
    expect((await learners.context('chi')).voice).toBe('zh-CN-XiaoyiNeural');
    // A replay is spoken in it.
    await store.commitTurn(
      'chi',
      {
        turn_id: 'turn-voice-1',
        timestamp: new Date().toISOString(),
        user_role: '师兄',
        user_message: '你好',
        chinese_content: '你好呀',
        pinyin: 'nǐ hǎo ya',
        vietnamese_display: 'Chào',
        emotion: 'happy',
        action: 'none',
        quiz_list: [],
        sulking_level: 0,
      },
      0,
    );
    expect(await run({ action: 'replay', turn_id: 'turn-voice-1', rate: 'slow' }, context)).toBeUndefined();
    expect(await ttsJobs()).toEqual([
      expect.objectContaining({ turn_id: 'turn-voice-1', voice: 'zh-CN-XiaoyiNeural' }),
    ]);
    // clear_progress forgets it.
    await run({ action: 'clear_progress', confirm: true }, context);
    expect(await run({ action: 'get_voices' }, context)).toMatchObject({ data: { current: 'zh-CN-XiaoxiaoNeural' } });
  });
});
