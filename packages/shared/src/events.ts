import { z } from 'zod';
import {
  type ClientAction,
  ERROR_CODES,
  type ErrorCode,
  HskLevel,
  type ProtocolError,
  ReplayRate,
} from './protocol.js';
import { Emotion, QuizType, ReplyAction, SulkingLevel, UserTone } from './reply.js';
import { VoiceInfo } from './voices.js';

/**
 * The event catalog: every frame the server sends, beside the queue catalog. For each event type:
 * its data schema, how it reaches the socket (straight from the gateway, or through the learner's
 * outbox with a `seq`), how its idempotency key is built, whether it ends the learner's turn and
 * whether a streamed turn releases it in sentence order (gated). `successFrame` and the outbox are
 * typed by it, the gateway reads "ends a turn" from it, and the protocol docs are tested against it.
 */

// ---------------------------------------------------------------------------------------------
// Data shapes

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

/** Her persona state as `welcome`, `reset`, `state`, `sulking_set` and `resync` show it. */
export const ConversationState = z.object({
  sulking_level: SulkingLevel,
  /** Why she sulks (or stopped sulking); null when nothing happened yet. */
  sulking_reason: z.string().nullable(),
  history_length: z.number().int(),
});
export type ConversationState = z.infer<typeof ConversationState>;

export const PinyinToken = z.object({ hanzi: z.string(), pinyin: z.string() });

/** The written reply before speech is attached: what a TTS job carries and the watchdog keeps. */
export const PendingReply = z.object({
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
  pinyin_tokens: z.array(PinyinToken).optional(),
  sulking_level: SulkingLevel,
  timestamp: z.string(),
  fallback: z.boolean().optional(),
  interrupted: z.boolean().optional(),
});
export type PendingReply = z.infer<typeof PendingReply>;

/**
 * Why a line has no audio, for clients to act on. The provider's own explanation goes to the
 * logs only; the learner reads `audio_error`, a short Vietnamese sentence for the code.
 */
export const AUDIO_ERROR_CODES = ['tts_unavailable', 'tts_timeout', 'turn_timeout'] as const;
export const AudioErrorCode = z.enum(AUDIO_ERROR_CODES);
export type AudioErrorCode = z.infer<typeof AudioErrorCode>;

export const AUDIO_ERROR_MESSAGES: Record<AudioErrorCode, string> = {
  /** The voice failed (unreachable, refused, not installed, silent). */
  tts_unavailable: 'Giọng đọc tạm thời không dùng được.',
  /** The voice was too slow for the time a line may take. */
  tts_timeout: 'Giọng đọc chậm quá, lần này không có âm thanh.',
  /** The turn's deadline passed before her speech (or her answer) was ready. */
  turn_timeout: 'Tiểu Nguyệt trả lời chậm quá, câu này không có âm thanh.',
};

/** The audio fields of a line that has none: the code and the learner's sentence for it. */
export function noAudio(code: AudioErrorCode): {
  audio_base64: null;
  audio_error: string;
  audio_error_code: AudioErrorCode;
} {
  return { audio_base64: null, audio_error: AUDIO_ERROR_MESSAGES[code], audio_error_code: code };
}

const Audio = {
  audio_base64: z.string().nullable(),
  /** With `audio_base64: null`: what the learner reads (Vietnamese); a string, as it always was. */
  audio_error: z.string().optional(),
  audio_error_code: AudioErrorCode.optional(),
};

/** When a word is spoken, and which characters of the sentence it covers (end exclusive). */
export const WordTiming = z.object({
  text: z.string(),
  start_ms: z.number(),
  end_ms: z.number(),
  char_start: z.number().int(),
  char_end: z.number().int(),
});
export type WordTiming = z.infer<typeof WordTiming>;

/**
 * `data` of a `reply` event: the seed's response shape plus turn bookkeeping; with her voice, when
 * each word of `chinese_content` is spoken (absent on a reply that never reached the voice).
 */
export const ReplyData = PendingReply.extend({ ...Audio, word_boundaries: z.array(WordTiming).optional() });
export type ReplyData = z.infer<typeof ReplyData>;

/** A short line of hers outside a chat turn (a reaction, a review's opening). */
export const SpokenLine = z.object({
  chinese_content: z.string(),
  pinyin: z.string(),
  vietnamese_display: z.string(),
  emotion: Emotion,
});
export type SpokenLine = z.infer<typeof SpokenLine>;

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

/** `quiz_result`: how the learner's answer was graded, and what she says about it. */
export const QuizResultData = z.object({
  quiz_id: z.string(),
  correct: z.boolean(),
  /** The learner's answer, as sent. */
  answer: z.string(),
  expected: z.string(),
  /** Why (Vietnamese). */
  explanation: z.string(),
  reaction: SpokenLine,
  /** `rules` (deterministic), or `llm` for a translation the model judged. */
  graded_by: z.enum(['rules', 'llm']),
  /** The review card the answer scheduled (a wrong answer makes one; a right one reviews it). */
  card: z.object({ id: z.string(), due_at: z.string() }).optional(),
});
export type QuizResultData = z.infer<typeof QuizResultData>;

/** `review`: a quiz of the learner's due mistakes (empty when nothing is due). */
export const ReviewData = SpokenLine.extend({
  quiz_list: z.array(QuizItem),
  /** Cards due now, of which up to three are asked. */
  due: z.number().int(),
  /** When the next card falls due, if none is due now. */
  next_due_at: z.string().nullable(),
});
export type ReviewData = z.infer<typeof ReviewData>;

/** `progress`: the learner's durable progress (kept across `reset`). */
export const ProgressData = z.object({
  level: HskLevel,
  cards_total: z.number().int(),
  cards_due: z.number().int(),
  /** Cards graduated to long-term review. */
  cards_learned: z.number().int(),
  next_due_at: z.string().nullable(),
  quiz_answered: z.number().int(),
  quiz_correct: z.number().int(),
  /** quiz_correct / quiz_answered, 0 when nothing was answered. */
  quiz_accuracy: z.number(),
  /** Consecutive days (UTC) with at least one turn or answer, up to today. */
  streak_days: z.number().int(),
  /** Distinct Chinese words she has used with the learner. */
  words_met: z.number().int(),
  profile: LearnerProfile,
});
export type ProgressData = z.infer<typeof ProgressData>;

/** Which mind the agent pool runs: Gemini (`online`) or the offline practice tutor. */
export const AgentMode = z.enum(['online', 'offline']);
export type AgentMode = z.infer<typeof AgentMode>;

export const eventData = {
  welcome: ConversationState.extend({
    user_id: z.string(),
    /** The learner's newest event. */
    last_seq: z.number().int(),
    /** Changes when the outbox was recreated. */
    epoch: z.string().nullable(),
    /** `offline` when the agents run the offline practice tutor; absent when unknown. */
    mode: AgentMode.optional(),
  }),
  typing: z.object({ is_typing: z.literal(true), turn_id: z.string() }),
  reply: ReplyData,
  reset: ConversationState,
  state: ConversationState.extend({ history: z.array(HistoryTurn) }),
  sulking_set: ConversationState,
  resync: ConversationState.extend({
    reason: z.string(),
    last_seq: z.number().int(),
    epoch: z.string().nullable(),
  }),
  reply_start: z.object({ turn_id: z.string(), emotion: Emotion }),
  reply_text: z.object({ turn_id: z.string(), index: z.number().int(), chinese: z.string(), pinyin: z.string() }),
  reply_audio: z.object({
    turn_id: z.string(),
    index: z.number().int(),
    ...Audio,
    word_boundaries: z.array(WordTiming),
  }),
  /** The complete reply (seed shape; audio came per sentence) and how many sentences it had. */
  reply_done: ReplyData.extend({ sentences: z.number().int() }),
  quiz_result: QuizResultData,
  review: ReviewData,
  progress: ProgressData,
  level_set: z.object({ level: HskLevel }),
  progress_cleared: ProgressData,
  /** A past line of hers spoken again (through the outbox, like her replies). */
  replay_audio: z.object({
    turn_id: z.string(),
    rate: ReplayRate,
    chinese_content: z.string(),
    ...Audio,
    word_boundaries: z.array(WordTiming),
  }),
  /** The Chinese voices she can speak with, and the learner's (`current`). */
  voices: z.object({ voices: z.array(VoiceInfo), current: z.string() }),
  voice_set: z.object({ voice: z.string() }),
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }),
} as const;

export type ServerEventType = keyof typeof eventData;
export type EventData<T extends ServerEventType> = z.infer<(typeof eventData)[T]>;
export type ReplyStartData = EventData<'reply_start'>;
export type ReplyTextData = EventData<'reply_text'>;
export type ReplyAudioData = EventData<'reply_audio'>;
export type ReplyDoneData = EventData<'reply_done'>;
export type ReplayAudioData = EventData<'replay_audio'>;
export type WelcomeData = EventData<'welcome'>;

// ---------------------------------------------------------------------------------------------
// Delivery

interface TurnRef {
  turn_id: string;
}
interface SentenceRef extends TurnRef {
  index: number;
}

/** An event the gateway sends itself, as the answer to an action or on connect. */
interface DirectEvent {
  delivery: 'direct';
}

/** An event produced by a worker and delivered through the learner's outbox (it gets a `seq`). */
interface OutboxEventDefinition<Ref> {
  delivery: 'outbox';
  /** Unique per event: a retried job builds the same key, and the outbox appends it once. */
  key: (ref: Ref) => string;
  /** Delivering it ends the learner's turn (releases the active-turn lock; stops the in-flight watch). */
  endsTurn: boolean;
  /** In a streamed turn it waits behind the sentences before it (the turn's outbox gate). */
  gated: boolean;
}

const direct: DirectEvent = { delivery: 'direct' };

/** The key a turn's final event is appended under: a `reply` and a `reply_done` can never both go out. */
const turnEndKey = (ref: TurnRef) => `${ref.turn_id}-reply`;

export const eventCatalog = {
  welcome: direct,
  typing: direct,
  reply: { delivery: 'outbox', key: turnEndKey, endsTurn: true, gated: false },
  reset: direct,
  state: direct,
  sulking_set: direct,
  resync: direct,
  reply_start: { delivery: 'outbox', key: (ref: TurnRef) => `${ref.turn_id}-start`, endsTurn: false, gated: false },
  reply_text: {
    delivery: 'outbox',
    key: (ref: SentenceRef) => `${ref.turn_id}-text-${ref.index}`,
    endsTurn: false,
    gated: false,
  },
  reply_audio: {
    delivery: 'outbox',
    key: (ref: SentenceRef) => `${ref.turn_id}-audio-${ref.index}`,
    endsTurn: false,
    gated: true,
  },
  reply_done: { delivery: 'outbox', key: turnEndKey, endsTurn: true, gated: true },
  // The `replay` action's TTS job carries the same id: one per request.
  replay_audio: {
    delivery: 'outbox',
    key: (ref: TurnRef & { replay_id: string }) => `${ref.turn_id}-replay-${ref.replay_id}`,
    endsTurn: false,
    gated: false,
  },
  // Graded by the rules, the gateway answers at once (no seq); a translation handed to the LLM judge
  // comes later through the outbox, so its key is what keeps a retried judgement from counting twice.
  quiz_result: {
    delivery: 'outbox',
    key: (ref: { quiz_id: string }) => `${ref.quiz_id}-result`,
    endsTurn: false,
    gated: false,
  },
  review: direct,
  progress: direct,
  level_set: direct,
  progress_cleared: direct,
  voices: direct,
  voice_set: direct,
  error: direct,
} as const satisfies Record<ServerEventType, DirectEvent | OutboxEventDefinition<never>>;

type Catalog = typeof eventCatalog;
export type OutboxEventType = {
  [T in ServerEventType]: Catalog[T] extends { delivery: 'outbox' } ? T : never;
}[ServerEventType];
export type GatedEventType = {
  [T in OutboxEventType]: Catalog[T] extends { gated: true } ? T : never;
}[OutboxEventType];
/** What an outbox event's idempotency key is built from. */
export type EventKeyRef<T extends OutboxEventType> = Parameters<Catalog[T]['key']>[0];

/** The idempotency key of an outbox event. */
export function eventKey<T extends OutboxEventType>(type: T, ref: EventKeyRef<T>): string {
  return (eventCatalog[type].key as (ref: EventKeyRef<T>) => string)(ref);
}

/** Whether delivering an event of this type ends the learner's turn. */
export function endsTurn(type: string | undefined): boolean {
  const definition = type === undefined ? undefined : eventCatalog[type as ServerEventType];
  return definition?.delivery === 'outbox' && definition.endsTurn;
}

// ---------------------------------------------------------------------------------------------
// Frames

/** Every server frame: `{type, status, data, request_id?, seq?}` (seq on outbox events). */
export interface ServerFrame<T extends ServerEventType = ServerEventType> {
  type: T;
  status: 'success' | 'error';
  data: EventData<T>;
  request_id?: string;
  seq?: number;
}

export function successFrame<T extends Exclude<ServerEventType, 'error'>>(
  type: T,
  data: EventData<T>,
  requestId?: string,
): ServerFrame<T> {
  return requestId === undefined
    ? { type, status: 'success', data }
    : { type, status: 'success', data, request_id: requestId };
}

export function errorFrame(error: ProtocolError): ServerFrame<'error'> {
  const frame: ServerFrame<'error'> = {
    type: 'error',
    status: 'error',
    data: { code: error.code satisfies ErrorCode, message: error.message },
  };
  if (error.request_id !== undefined) frame.request_id = error.request_id;
  return frame;
}
