import { describe, expect, it } from 'vitest';
import {
  endsTurn,
  eventCatalog,
  eventData,
  eventKey,
  type OutboxEventType,
  type ServerEventType,
  successFrame,
} from './events.js';
import type { Outbox } from './outbox.js';
import { CLIENT_ACTIONS } from './protocol.js';
import { actionAnswers, TURN_END_EVENTS } from './wire.js';

const types = Object.keys(eventCatalog) as ServerEventType[];

describe('the event catalog', () => {
  it('has a data schema for every event type, and nothing else', () => {
    expect(Object.keys(eventData).sort()).toEqual([...types].sort());
  });

  it('ends a turn with `reply` or `reply_done` only, and both share one key (a turn ends once)', () => {
    expect(types.filter((type) => endsTurn(type))).toEqual(['reply', 'reply_done']);
    expect(TURN_END_EVENTS).toEqual(types.filter((type) => endsTurn(type)));
    expect(eventKey('reply', { turn_id: 't1' })).toBe(eventKey('reply_done', { turn_id: 't1' }));
    expect(endsTurn(undefined)).toBe(false);
    expect(endsTurn('not_an_event')).toBe(false);
  });

  it('gives every outbox event a distinct key per turn, sentence, replay or quiz', () => {
    const keys = [
      eventKey('reply_start', { turn_id: 't1' }),
      eventKey('reply_text', { turn_id: 't1', index: 0 }),
      eventKey('reply_text', { turn_id: 't1', index: 1 }),
      eventKey('reply_audio', { turn_id: 't1', index: 0 }),
      eventKey('replay_audio', { turn_id: 't1', replay_id: 'a' }),
      eventKey('replay_audio', { turn_id: 't1', replay_id: 'b' }),
      eventKey('quiz_result', { quiz_id: 'q-t1-1' }),
      eventKey('reply', { turn_id: 't1' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    // Keys stay the same across deploys: events appended before a rolling deploy still deduplicate.
    expect(keys).toEqual([
      't1-start',
      't1-text-0',
      't1-text-1',
      't1-audio-0',
      't1-replay-a',
      't1-replay-b',
      'q-t1-1-result',
      't1-reply',
    ]);
  });

  it('gates only the events a streamed turn must release in sentence order', () => {
    const gated = types.filter((type) => {
      const definition = eventCatalog[type];
      return definition.delivery === 'outbox' && definition.gated;
    });
    expect(gated).toEqual(['reply_audio', 'reply_done']);
  });

  it('names the answer of every client action, and each answer is an event', () => {
    expect(Object.keys(actionAnswers).sort()).toEqual([...CLIENT_ACTIONS].sort());
    for (const answer of Object.values(actionAnswers)) expect(types).toContain(answer);
  });

  it('builds frames whose data parses with the type’s schema', () => {
    const frame = successFrame('typing', { is_typing: true, turn_id: 't1' }, 'r1');
    expect(frame).toEqual({
      type: 'typing',
      status: 'success',
      data: { is_typing: true, turn_id: 't1' },
      request_id: 'r1',
    });
    expect(eventData.typing.parse(frame.data)).toEqual(frame.data);
  });
});

// Compile-time checks (pnpm typecheck, run by pnpm test): the catalog types every frame and append.
function typeChecks(outbox: Outbox) {
  // @ts-expect-error an unknown event type does not compile
  successFrame('replied', {});
  // @ts-expect-error a wrong data shape does not compile
  successFrame('typing', { is_typing: true });
  // @ts-expect-error `error` frames are built by errorFrame, with a code
  successFrame('error', { code: 'busy', message: 'x' });
  // @ts-expect-error only outbox events can be appended
  void outbox.append('u', { type: 'welcome', data: {} });
  // @ts-expect-error a replay's key needs the replay id, which its data does not carry
  void outbox.append('u', { type: 'replay_audio', data: replayData });
  // @ts-expect-error only gated events wait behind a turn's sentences
  void outbox.appendInOrder('u', { type: 'reply_text', data: textData }, { gate: 't', index: 0 });
  const type: OutboxEventType = 'reply_text';
  return type;
}
const replayData = {
  turn_id: 't',
  rate: 'slow' as const,
  chinese_content: '你好',
  audio_base64: null,
  word_boundaries: [],
};
const textData = { turn_id: 't', index: 0, chinese: '你好', pinyin: 'nǐ hǎo' };
void typeChecks;
