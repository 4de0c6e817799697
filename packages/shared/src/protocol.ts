import { z } from 'zod';
import { Emotion, QuizType, ReplyAction, SulkingLevel, UserTone } from './reply.js';

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
  user_role: z.string().trim().min(1).max(32).optional(),
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
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export const CLIENT_ACTIONS = ClientFrame.options.map((o) => o.shape.action.value);

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
      frame: { ...frame, message, user_role: frame.user_role ? stripControlChars(frame.user_role) : undefined },
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

// ---------------------------------------------------------------------------------------------
// Server -> client

/** A quiz as the learner sees it: no answer key (that stays on the server until they answer). */
export const QuizItem = z.object({
  // Turns stored before quizzes had ids parse with an empty one (they cannot be answered).
  id: z.string().default(''),
  type: QuizType.catch('choice'),
  question: z.string(),
  options: z.array(z.string()).optional(),
  hint: z.string().optional(),
  /** Brings back one of the learner's mistakes (a due review card). */
  review: z.boolean().optional(),
});
export type QuizItem = z.infer<typeof QuizItem>;

/** One stored exchange of the conversation, as kept in Redis and shown by `get_state`. */
export const HistoryTurn = z.object({
  turn_id: z.string(),
  timestamp: z.string(),
  user_role: z.string(),
  user_message: z.string(),
  chinese_content: z.string(),
  pinyin: z.string(),
  vietnamese_display: z.string(),
  emotion: Emotion,
  action: ReplyAction,
  quiz_list: z.array(QuizItem),
  sulking_level: SulkingLevel,
  fallback: z.boolean().optional(),
  /** The learner spoke again before she finished: only the sentences already sent are kept. */
  interrupted: z.boolean().optional(),
});
export type HistoryTurn = z.infer<typeof HistoryTurn>;

/** `data` of a `reply` event: the seed's response shape plus turn bookkeeping. */
export const ReplyData = z.object({
  turn_id: z.string(),
  thought: z.string(),
  chinese_content: z.string(),
  vietnamese_display: z.string(),
  pinyin: z.string(),
  emotion: Emotion,
  action: ReplyAction,
  quiz_list: z.array(QuizItem),
  user_tone: UserTone.optional(),
  /** `chinese_content` word by word with trusted readings (dictionary + context rules + the LLM's polyphones). */
  pinyin_tokens: z.array(z.object({ hanzi: z.string(), pinyin: z.string() })).optional(),
  audio_base64: z.string().nullable(),
  audio_error: z.string().optional(),
  sulking_level: SulkingLevel,
  timestamp: z.string(),
  fallback: z.boolean().optional(),
  interrupted: z.boolean().optional(),
});
export type ReplyData = z.infer<typeof ReplyData>;

export interface ServerFrame<T = unknown> {
  type: string;
  status: 'success' | 'error';
  data: T;
  request_id?: string;
  seq?: number;
}

export function successFrame<T>(type: string, data: T, requestId?: string): ServerFrame<T> {
  return requestId === undefined
    ? { type, status: 'success', data }
    : { type, status: 'success', data, request_id: requestId };
}

export function errorFrame(error: ProtocolError): ServerFrame<{ code: ErrorCode; message: string }> {
  const frame: ServerFrame<{ code: ErrorCode; message: string }> = {
    type: 'error',
    status: 'error',
    data: { code: error.code, message: error.message },
  };
  if (error.request_id !== undefined) frame.request_id = error.request_id;
  return frame;
}

// ---------------------------------------------------------------------------------------------
// Streamed replies (`?stream=1`): reply_start, reply_text × n, reply_audio × n, reply_done

/** When a word is spoken, and which characters of the sentence it covers (end exclusive). */
export interface WordTiming {
  text: string;
  start_ms: number;
  end_ms: number;
  char_start: number;
  char_end: number;
}

export interface ReplyStartData {
  turn_id: string;
  emotion: Emotion;
}

export interface ReplyTextData {
  turn_id: string;
  index: number;
  chinese: string;
  pinyin: string;
}

export interface ReplyAudioData {
  turn_id: string;
  index: number;
  audio_base64: string | null;
  audio_error?: string;
  word_boundaries: WordTiming[];
}

/** The complete reply (seed shape; audio came per sentence) and how many sentences it had. */
export type ReplyDoneData = ReplyData & { sentences: number };

/** Idempotency keys of a streamed turn's events; the end shares the seed reply's key. */
export const streamEventKey = {
  start: (turnId: string) => `${turnId}-start`,
  replay: (turnId: string, replayId: string) => `${turnId}-replay-${replayId}`,
  text: (turnId: string, index: number) => `${turnId}-text-${index}`,
  audio: (turnId: string, index: number) => `${turnId}-audio-${index}`,
};

// ---------------------------------------------------------------------------------------------
// Learning: quiz results, review quizzes, progress, replays

/** A short line of hers outside a chat turn (a reaction, a review's opening). */
export interface SpokenLine {
  chinese_content: string;
  pinyin: string;
  vietnamese_display: string;
  emotion: Emotion;
}

/** `quiz_result`: how the learner's answer was graded, and what she says about it. */
export interface QuizResultData {
  quiz_id: string;
  correct: boolean;
  /** The learner's answer, as sent. */
  answer: string;
  expected: string;
  /** Why (Vietnamese). */
  explanation: string;
  reaction: SpokenLine;
  /** `rules` (deterministic), or `llm` for a translation the model judged. */
  graded_by: 'rules' | 'llm';
  /** The review card the answer scheduled (a wrong answer makes one; a right one reviews it). */
  card?: { id: string; due_at: string };
}

/** `review`: a quiz of the learner's due mistakes (empty when nothing is due). */
export interface ReviewData extends SpokenLine {
  quiz_list: QuizItem[];
  /** Cards due now, of which up to three are asked. */
  due: number;
  /** When the next card falls due, if none is due now. */
  next_due_at: string | null;
}

/** `progress`: the learner's durable progress (kept across `reset`). */
export interface ProgressData {
  level: HskLevel;
  cards_total: number;
  cards_due: number;
  /** Cards graduated to long-term review. */
  cards_learned: number;
  next_due_at: string | null;
  quiz_answered: number;
  quiz_correct: number;
  /** quiz_correct / quiz_answered, 0 when nothing was answered. */
  quiz_accuracy: number;
  /** Consecutive days (UTC) with at least one turn or answer, up to today. */
  streak_days: number;
  /** Distinct Chinese words she has used with the learner. */
  words_met: number;
  profile: LearnerProfile;
}

/** What she remembers of the learner beyond the last HISTORY_TURNS turns. */
export const LearnerProfile = z.object({
  name: z.string().optional(),
  interests: z.array(z.string()).default([]),
  /** The learner's most frequent mistakes: the right form, and how often they slipped. */
  mistakes: z.array(z.object({ right: z.string(), wrong: z.string(), count: z.number() })).default([]),
  /** Turns folded into this profile so far. */
  turns_folded: z.number().default(0),
});
export type LearnerProfile = z.infer<typeof LearnerProfile>;

/** `replay_audio`: a past line of hers spoken again (through the outbox, like her replies). */
export interface ReplayAudioData {
  turn_id: string;
  rate: ReplayRate;
  chinese_content: string;
  audio_base64: string | null;
  audio_error?: string;
  word_boundaries: WordTiming[];
}
