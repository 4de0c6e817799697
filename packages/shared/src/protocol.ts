import { z } from 'zod';
import { SulkingLevel } from './reply.js';

/** `user_id` in `/ws/chat/{user_id}`. */
export const UserId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
export type UserId = z.infer<typeof UserId>;

export const DEFAULT_USER_ROLE = '师兄';
export const AGENT_ROLE = '小师妹';

// ---------------------------------------------------------------------------------------------
// Client -> server

const RequestId = z.string().max(128).optional();

/** C0/C1 control characters other than tab and newline are removed from learner text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
export function stripControlChars(text: string): string {
  return text.replace(CONTROL_CHARS, '');
}

export const ChatFrame = z.object({
  action: z.literal('chat'),
  message: z.string(),
  // Control characters go first, so that a role made of them is empty, not a blank name.
  user_role: z.string().transform(stripControlChars).pipe(z.string().trim().min(1).max(32)).optional(),
  request_id: RequestId,
});
export const ResetFrame = z.object({ action: z.literal('reset'), request_id: RequestId });
export const GetStateFrame = z.object({ action: z.literal('get_state'), request_id: RequestId });
export const SetSulkingFrame = z.object({
  action: z.literal('set_sulking'),
  level: SulkingLevel,
  request_id: RequestId,
});

/** The learner's answer to one quiz item (`quiz_id` from a reply's or review's `quiz_list`). */
export const AnswerFrame = z.object({
  action: z.literal('answer'),
  quiz_id: z.string().min(1).max(64),
  answer: z.string().max(500),
  request_id: RequestId,
});
/** A quiz of the review cards due now. */
export const ReviewFrame = z.object({ action: z.literal('review'), request_id: RequestId });
export const GetProgressFrame = z.object({ action: z.literal('get_progress'), request_id: RequestId });
/** HSK level 1-6: she keeps her Chinese at it and glosses words above it. */
export const HskLevel = z.number().int().min(1).max(6);
export type HskLevel = z.infer<typeof HskLevel>;
export const SetLevelFrame = z.object({ action: z.literal('set_level'), level: HskLevel, request_id: RequestId });
/** Wipes cards, scores, level and profile: only with `confirm: true`. */
export const ClearProgressFrame = z.object({
  action: z.literal('clear_progress'),
  confirm: z.literal(true, { error: 'clearing progress cannot be undone; send "confirm": true' }),
  request_id: RequestId,
});
export const REPLAY_RATES = ['slow', 'normal'] as const;
export const ReplayRate = z.enum(REPLAY_RATES);
export type ReplayRate = z.infer<typeof ReplayRate>;
/** Speaks a past line of hers again (`slow`: 30% slower). */
export const ReplayFrame = z.object({
  action: z.literal('replay'),
  turn_id: z.string().min(1).max(64),
  rate: ReplayRate.default('slow'),
  request_id: RequestId,
});

/** The Chinese voices she can speak with, and the learner's. */
export const GetVoicesFrame = z.object({ action: z.literal('get_voices'), request_id: RequestId });
/** Her voice for this learner's replies and replays (a `name` from `voices`); kept with the progress. */
export const SetVoiceFrame = z.object({
  action: z.literal('set_voice'),
  voice: z.string().min(1).max(64),
  request_id: RequestId,
});

export const ClientFrame = z.discriminatedUnion('action', [
  ChatFrame,
  ResetFrame,
  GetStateFrame,
  SetSulkingFrame,
  AnswerFrame,
  ReviewFrame,
  GetProgressFrame,
  SetLevelFrame,
  ClearProgressFrame,
  ReplayFrame,
  GetVoicesFrame,
  SetVoiceFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ClientAction = ClientFrame['action'];
export const CLIENT_ACTIONS: ClientAction[] = ClientFrame.options.map((o) => o.shape.action.value);

export const ERROR_CODES = [
  'invalid_json',
  'invalid_message',
  'unknown_action',
  'message_too_long',
  'frame_too_large',
  'busy',
  'rate_limited',
  'forbidden',
  'unknown_quiz',
  'already_answered',
  'unknown_turn',
  'unavailable',
  'internal_error',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ProtocolError {
  code: ErrorCode;
  message: string;
  request_id?: string;
}

export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; error: ProtocolError };

export interface FrameLimits {
  maxFrameBytes: number;
  maxMessageChars: number;
}

/**
 * Turns one raw WebSocket text frame into a validated client action, or into the error the
 * client should see. Never throws.
 */
export function parseClientFrame(raw: string, limits: FrameLimits): ParsedFrame {
  if (Buffer.byteLength(raw, 'utf8') > limits.maxFrameBytes) {
    return fail('frame_too_large', `Frame exceeds ${limits.maxFrameBytes} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return fail('invalid_json', 'Frame is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail('invalid_message', 'Frame must be a JSON object with an "action" field');
  }
  const record = json as Record<string, unknown>;
  const requestId = typeof record.request_id === 'string' ? record.request_id.slice(0, 128) : undefined;
  if (typeof record.action !== 'string') {
    return fail('invalid_message', `Missing "action" (one of: ${CLIENT_ACTIONS.join(', ')})`, requestId);
  }
  if (!(CLIENT_ACTIONS as string[]).includes(record.action)) {
    return fail(
      'unknown_action',
      `Unknown action "${record.action.slice(0, 40)}" (one of: ${CLIENT_ACTIONS.join(', ')})`,
      requestId,
    );
  }
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `"${issue.path.join('.')}": ` : '';
    return fail('invalid_message', `${where}${issue?.message ?? 'invalid frame'}`, requestId);
  }
  const frame = parsed.data;
  if (frame.action === 'chat') {
    const message = stripControlChars(frame.message).trim();
    if (message.length === 0) return fail('invalid_message', '"message" must not be empty', requestId);
    // Count code points, not UTF-16 units: a Chinese character is one character to a learner.
    const length = [...message].length;
    if (length > limits.maxMessageChars) {
      return fail(
        'message_too_long',
        `"message" has ${length} characters; the limit is ${limits.maxMessageChars}`,
        requestId,
      );
    }
    return {
      ok: true,
      frame: { ...frame, message },
    };
  }
  if (frame.action === 'answer') {
    const answer = stripControlChars(frame.answer).trim();
    // An empty answer is a slip of the finger, not an answer: the quiz stays open.
    if (answer.length === 0) return fail('invalid_message', '"answer" must not be empty', requestId);
    return { ok: true, frame: { ...frame, answer } };
  }
  return { ok: true, frame };
}

function fail(code: ErrorCode, message: string, request_id?: string): ParsedFrame {
  return { ok: false, error: request_id === undefined ? { code, message } : { code, message, request_id } };
}
