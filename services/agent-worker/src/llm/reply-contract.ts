import { Emotion, LearnerFacts, optionByLetter, QuizDraft, ReplyAction, UserTone } from '@xiaoyue/shared';
import { z } from 'zod';

/** What she corrected: the learner's words, the right form, and why (Vietnamese). */
export const CorrectionNote = z.object({
  wrong: z.string().trim().min(1).describe("the learner's wrong words"),
  right: z.string().trim().min(1).describe('the right form'),
  explanation: z.string().default('').describe('why, in Vietnamese'),
});
export type CorrectionNote = z.infer<typeof CorrectionNote>;

/**
 * The structured reply the LLM must produce. Lenient where a model is sloppy but the meaning is
 * clear (missing optional fields), strict where the learner would see garbage (empty Chinese).
 *
 * The fields are in speaking order, which is the order Gemini writes them in (its response schema
 * is derived from this one): `emotion` then `chinese_content` come first so that her line can be
 * streamed while the rest is still being written. The descriptions are what Gemini reads.
 */
export const AgentReply = z.object({
  emotion: Emotion.catch('neutral').describe('her emotion'),
  chinese_content: z.string().trim().min(1).describe('what she says, in Chinese (spoken aloud)'),
  pinyin: z.string().default('').describe('pinyin of chinese_content with tone marks'),
  vietnamese_display: z.string().default('').describe('Vietnamese translation of chinese_content'),
  action: ReplyAction.catch('none'),
  quiz_list: z
    .array(QuizDraft.nullable().catch(null))
    .nullable()
    .default([])
    .transform((items) => gradableQuizzes(items ?? [])),
  correction: CorrectionNote.nullable()
    .optional()
    .catch(null)
    .describe('what she corrected (action "correction"), else null'),
  user_tone: UserTone.catch('neutral').describe("the learner's tone"),
  learner_facts: LearnerFacts.nullable()
    .optional()
    .catch(null)
    .describe('what this message told about the learner, else null'),
  thought: z.string().default('').describe('her private thought, not spoken'),
});
export type AgentReply = z.infer<typeof AgentReply>;

/** Field order of the JSON document (see `AgentReply`): the spoken line comes early so it can be streamed. */
export const AGENT_REPLY_FIELD_ORDER = Object.keys(AgentReply.shape) as (keyof AgentReply)[];

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
