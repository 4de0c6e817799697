import { describe, expect, it } from 'vitest';
import { parseClientFrame } from './protocol.js';

const limits = { maxFrameBytes: 4096, maxMessageChars: 20 };
const parse = (raw: string) => parseClientFrame(raw, limits);

describe('parseClientFrame', () => {
  it('accepts the four actions of the protocol', () => {
    expect(parse('{"action":"chat","message":"你好","user_role":"师兄"}')).toEqual({
      ok: true,
      frame: { action: 'chat', message: '你好', user_role: '师兄' },
    });
    expect(parse('{"action":"chat","message":"你好","user_role":"师\\u0007兄"}')).toMatchObject({
      frame: { user_role: '师兄' },
    });
    expect(parse('{"action":"reset"}')).toMatchObject({ ok: true, frame: { action: 'reset' } });
    expect(parse('{"action":"get_state","request_id":"r1"}')).toMatchObject({ ok: true, frame: { request_id: 'r1' } });
    expect(parse('{"action":"set_sulking","level":3}')).toMatchObject({ ok: true, frame: { level: 3 } });
  });

  it.each([
    ['not json', 'invalid_json'],
    ['[1,2]', 'invalid_message'],
    ['"chat"', 'invalid_message'],
    ['{"message":"hi"}', 'invalid_message'],
    ['{"action":"dance"}', 'unknown_action'],
    ['{"action":"chat"}', 'invalid_message'],
    ['{"action":"chat","message":42}', 'invalid_message'],
    ['{"action":"chat","message":"   "}', 'invalid_message'],
    ['{"action":"chat","message":"\\u0000\\u0007"}', 'invalid_message'],
    ['{"action":"chat","message":"你好","user_role":"\\u0000\\u0007"}', 'invalid_message'],
    ['{"action":"set_sulking","level":4}', 'invalid_message'],
    ['{"action":"set_sulking","level":1.5}', 'invalid_message'],
    ['{"action":"set_sulking","level":"2"}', 'invalid_message'],
    [`{"action":"chat","message":"${'长'.repeat(21)}"}`, 'message_too_long'],
    [`{"action":"chat","message":"${'x'.repeat(5000)}"}`, 'frame_too_large'],
  ])('rejects %s with %s', (raw, code) => {
    const result = parse(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe(code);
      expect(result.error.message.length).toBeGreaterThan(5);
    }
  });

  it('counts characters, not UTF-16 units, and strips control characters', () => {
    expect(parse(`{"action":"chat","message":"${'😀'.repeat(20)}"}`).ok).toBe(true);
    expect(parse('{"action":"chat","message":"你\\u0000好\\u001b"}')).toMatchObject({ frame: { message: '你好' } });
  });

  it('echoes the request id on errors', () => {
    expect(parse('{"action":"nope","request_id":"abc"}')).toMatchObject({ ok: false, error: { request_id: 'abc' } });
  });
});

describe('parseClientFrame: learning actions', () => {
  it('accepts answer, review, get_progress, set_level, clear_progress and replay', () => {
    expect(parse('{"action":"answer","quiz_id":"q-t1-1","answer":"本","request_id":"r2"}')).toEqual({
      ok: true,
      frame: { action: 'answer', quiz_id: 'q-t1-1', answer: '本', request_id: 'r2' },
    });
    // Trimmed, control characters stripped.
    expect(parse('{"action":"answer","quiz_id":"q1","answer":"  b\\u0000 "}')).toMatchObject({
      ok: true,
      frame: { answer: 'b' },
    });
    expect(parse('{"action":"review"}')).toEqual({ ok: true, frame: { action: 'review' } });
    expect(parse('{"action":"get_progress"}')).toEqual({ ok: true, frame: { action: 'get_progress' } });
    expect(parse('{"action":"clear_progress","confirm":true}')).toEqual({
      ok: true,
      frame: { action: 'clear_progress', confirm: true },
    });
  });

  it.each([1, 2, 3, 4, 5, 6])('accepts set_level %i', (level) => {
    expect(parse(`{"action":"set_level","level":${level}}`)).toEqual({
      ok: true,
      frame: { action: 'set_level', level },
    });
  });

  it.each(['0', '7', '2.5', '"3"', 'null'])('rejects set_level %s', (level) => {
    const result = parse(`{"action":"set_level","level":${level},"request_id":"r3"}`);
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_message', request_id: 'r3' } });
  });

  it.each([
    ['{"action":"answer","answer":"本"}'],
    ['{"action":"answer","quiz_id":"","answer":"本"}'],
    ['{"action":"answer","quiz_id":"q1"}'],
    // An empty answer is a slip of the finger: rejected, the quiz stays open.
    ['{"action":"answer","quiz_id":"q1","answer":""}'],
    ['{"action":"answer","quiz_id":"q1","answer":"   "}'],
    ['{"action":"answer","quiz_id":"q1","answer":7}'],
    [`{"action":"answer","quiz_id":"q1","answer":"${'a'.repeat(501)}"}`],
    ['{"action":"set_level"}'],
    ['{"action":"replay"}'],
    ['{"action":"replay","turn_id":"t1","rate":"fast"}'],
  ])('rejects %s as invalid_message', (raw) => {
    expect(parseClientFrame(raw, { maxFrameBytes: 4096, maxMessageChars: 20 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_message' },
    });
  });

  it.each([
    '{"action":"clear_progress"}',
    '{"action":"clear_progress","confirm":false}',
    '{"action":"clear_progress","confirm":"yes"}',
  ])('refuses %s without confirm: true', (raw) => {
    const result = parse(raw);
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_message' } });
    if (!result.ok) expect(result.error.message).toMatch(/confirm/);
  });

  it('replays slowly unless asked otherwise', () => {
    expect(parse('{"action":"replay","turn_id":"t1"}')).toEqual({
      ok: true,
      frame: { action: 'replay', turn_id: 't1', rate: 'slow' },
    });
    expect(parse('{"action":"replay","turn_id":"t1","rate":"normal"}')).toMatchObject({ frame: { rate: 'normal' } });
  });
});
