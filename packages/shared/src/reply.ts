import { z } from 'zod';

// The vocabulary of XiaoYue's replies that more than one service (or shared itself) speaks. The
// LLM's whole reply contract (`AgentReply`) belongs to the agent-worker.

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
  // The descriptions are what Gemini reads (the agent derives its response schema from zod).
  answer: z.string().trim().default('').describe('the key; for a choice, one of the options verbatim'),
  hint: z.string().default('').describe('a hint in Vietnamese, or empty'),
  /** Shown after the learner answers. */
  explanation: z.string().default('').describe('why the key is right, in Vietnamese'),
  /** A due mistake brought back as a quiz. */
  card_id: z.string().optional().describe('the review card this quiz brings back, if any'),
});
export type QuizDraft = z.infer<typeof QuizDraft>;

/** What the model learned about the learner this turn, for the profile that outlives history. */
export const LearnerFacts = z.object({
  name: z.string().trim().max(40).optional().describe("the learner's name"),
  interests: z.array(z.string().trim().max(40)).max(5).optional(),
});
export type LearnerFacts = z.infer<typeof LearnerFacts>;
