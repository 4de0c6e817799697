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
