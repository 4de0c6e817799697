import { z } from 'zod';
import { optionByLetter } from './learning/grading.js';

/** XiaoYue's emotions; the TTS worker maps each one to a voice preset. */
export const EMOTIONS = [
  'neutral',
  'happy',
  'excited',
  'strict',
  'sulking',
  'angry',
  'shy',
  'proud',
  'teasing',
  'concerned',
] as const;
export const Emotion = z.enum(EMOTIONS);
export type Emotion = z.infer<typeof Emotion>;

/** What she does with her turn besides talking. */
export const ACTIONS = ['none', 'correction', 'quiz', 'praise', 'encourage', 'explain'] as const;
export const ReplyAction = z.enum(ACTIONS);
export type ReplyAction = z.infer<typeof ReplyAction>;

/** How the model judged the learner's message; the server turns it into a sulking change. */
export const USER_TONES = ['polite', 'affectionate', 'neutral', 'rude', 'apologetic'] as const;
export const UserTone = z.enum(USER_TONES);
export type UserTone = z.infer<typeof UserTone>;

export const SulkingLevel = z.number().int().min(0).max(3);
export type SulkingLevel = z.infer<typeof SulkingLevel>;

export const QUIZ_TYPES = ['choice', 'fill', 'translate'] as const;
export const QuizType = z.enum(QUIZ_TYPES);
export type QuizType = z.infer<typeof QuizType>;

/**
 * A quiz as the model writes it, answer key included. The key stays on the server: learners see
 * a `QuizItem` (no answer) and send `answer` to have it graded.
 */
export const QuizDraft = z.object({
  type: QuizType.catch('choice'),
  question: z.string().trim().min(1),
  options: z.array(z.string()).default([]),
  answer: z.string().trim().default(''),
  hint: z.string().default(''),
  /** Why the answer is right, in Vietnamese (shown after the learner answers). */
  explanation: z.string().default(''),
  /** The review card this quiz brings back (a due mistake), if any. */
  card_id: z.string().optional(),
});
export type QuizDraft = z.infer<typeof QuizDraft>;

/** What she corrected: the learner's words, the right form, and why (Vietnamese). */
export const CorrectionNote = z.object({
  wrong: z.string().trim().min(1),
  right: z.string().trim().min(1),
  explanation: z.string().default(''),
});
export type CorrectionNote = z.infer<typeof CorrectionNote>;

/** What the model learned about the learner this turn, for the profile that outlives history. */
export const LearnerFacts = z.object({
  name: z.string().trim().max(40).optional(),
  interests: z.array(z.string().trim().max(40)).max(5).optional(),
});
export type LearnerFacts = z.infer<typeof LearnerFacts>;

/**
 * The structured reply the LLM must produce. Lenient where a model is sloppy but the meaning is
 * clear (missing optional fields), strict where the learner would see garbage (empty Chinese).
 */
export const AgentReply = z.object({
  thought: z.string().default(''),
  emotion: Emotion.catch('neutral'),
  chinese_content: z.string().trim().min(1),
  pinyin: z.string().default(''),
  vietnamese_display: z.string().default(''),
  action: ReplyAction.catch('none'),
  quiz_list: z
    .array(QuizDraft.nullable().catch(null))
    .nullable()
    .default([])
    .transform((items) => gradableQuizzes(items ?? [])),
  user_tone: UserTone.catch('neutral'),
  correction: CorrectionNote.nullable().optional().catch(null),
  learner_facts: LearnerFacts.nullable().optional().catch(null),
});
export type AgentReply = z.infer<typeof AgentReply>;

/**
 * Quizzes a learner can be graded on: a key is needed, and a "choice" without options or whose key
 * is not among them is asked as a "fill" instead. Malformed items are dropped, not fatal.
 */
function gradableQuizzes(items: (QuizDraft | null)[]): QuizDraft[] {
  return items.flatMap((item) => {
    if (!item || item.answer === '') return [];
    // "B" for the second option: the key is the option itself.
    const named = item.options.includes(item.answer) ? undefined : optionByLetter(item.options, item.answer);
    if (named !== undefined) item = { ...item, answer: named };
    if (item.type === 'choice' && !item.options.includes(item.answer))
      return [{ ...item, type: 'fill' as const, options: [] }];
    return [item.type === 'choice' ? item : { ...item, options: [] }];
  });
}

/** Field order of the JSON document: the spoken line comes early so it can be streamed. */
export const AGENT_REPLY_FIELD_ORDER = [
  'emotion',
  'chinese_content',
  'pinyin',
  'vietnamese_display',
  'action',
  'quiz_list',
  'correction',
  'user_tone',
  'learner_facts',
  'thought',
] as const satisfies readonly (keyof AgentReply)[];
