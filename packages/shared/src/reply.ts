import { z } from 'zod';

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

export const QuizItem = z.object({
  question: z.string(),
  options: z.array(z.string()).default([]),
  answer: z.string().default(''),
});
export type QuizItem = z.infer<typeof QuizItem>;

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
  quiz_list: z.array(QuizItem).default([]),
  user_tone: UserTone.catch('neutral'),
});
export type AgentReply = z.infer<typeof AgentReply>;

/** Field order of the JSON document: the spoken line comes early so it can be streamed. */
export const AGENT_REPLY_FIELD_ORDER = [
  'emotion',
  'chinese_content',
  'pinyin',
  'vietnamese_display',
  'action',
  'quiz_list',
  'user_tone',
  'thought',
] as const satisfies readonly (keyof AgentReply)[];
