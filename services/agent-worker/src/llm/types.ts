import type { LearnerContext, SulkingLevel } from '@xiaoyue/shared';
import { z } from 'zod';
import { AgentReply } from './reply-contract.js';

/** One message of the conversation as the LLM sees it. */
export interface PromptMessage {
  role: 'user' | 'model';
  text: string;
}

export interface TutorPrompt {
  systemInstruction: string;
  /** Earlier exchanges, oldest first. */
  history: PromptMessage[];
  userMessage: string;
  /** The persona variables the system instruction was built from, for providers without an LLM. */
  persona?: { userRole: string; sulkingLevel: SulkingLevel; learner?: LearnerContext };
}

/**
 * The tutor LLM: one attempt at XiaoYue's structured reply. Retries, deadlines and fallbacks are
 * the agent's business, not the provider's.
 */
export interface TutorLlm {
  readonly name: string;
  generateReply(prompt: TutorPrompt, signal: AbortSignal): Promise<AgentReply>;
  /** The same reply as JSON text, in fragments as the model writes it (fields in speaking order). */
  streamReply(prompt: TutorPrompt, signal: AbortSignal): AsyncIterable<string>;
  /**
   * Whether a learner's translation says what the reference says (many wordings are right).
   * Providers without a model leave it out: translations are then graded by the rules alone.
   */
  judgeTranslation?(input: TranslationToJudge, signal: AbortSignal): Promise<TranslationVerdict>;
  /**
   * One tiny structured request, for `pnpm check llm`: which model answered, and whether the
   * server kept to the JSON schema. Providers whose schema support is not in doubt leave it out.
   */
  probe?(signal: AbortSignal): Promise<LlmProbe>;
}

export interface LlmProbe {
  /** The model the server says answered. */
  model: string;
  /** How the schema was asked for (`json_schema`, `json_object`). */
  schemaMode: string;
  /** The answer was exactly the schema's object. */
  honoured: boolean;
  /** What was wrong when it was not. */
  detail?: string;
}

export interface TranslationToJudge {
  question: string;
  expected: string;
  answer: string;
}

export const TranslationVerdict = z.object({
  correct: z.boolean(),
  explanation: z.string().default('').describe('why, in Vietnamese'),
});
export type TranslationVerdict = z.infer<typeof TranslationVerdict>;

/** The model's verdict on a translation, or an `invalid_output` error. */
export function parseVerdict(text: string | undefined): TranslationVerdict {
  try {
    return TranslationVerdict.parse(JSON.parse(text ?? ''));
  } catch {
    throw new LlmError(
      `the model's verdict is not {correct, explanation}: ${(text ?? '').slice(0, 80)}`,
      'invalid_output',
    );
  }
}

export type LlmErrorKind =
  | 'timeout'
  | 'rate_limited'
  | 'server'
  | 'invalid_output'
  | 'network'
  | 'rejected'
  | 'aborted';

/** A failed attempt, classified so the agent knows whether another attempt can help. */
export class LlmError extends Error {
  override name = 'LlmError';
  /** A 429's `retry-after`, when the server said when to come back. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    readonly kind: LlmErrorKind,
    readonly status?: number,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs;
  }

  get retryable(): boolean {
    return this.kind !== 'rejected' && this.kind !== 'aborted';
  }
}

/** The model's text as a validated reply, or an `invalid_output` error saying what was wrong. */
export function parseReply(text: string | undefined): AgentReply {
  if (!text) throw new LlmError('the model returned no text (empty or blocked response)', 'invalid_output');
  let json: unknown;
  try {
    json = JSON.parse(text, nullAsAbsent);
  } catch {
    throw new LlmError(`the model returned text that is not JSON: ${text.slice(0, 80)}`, 'invalid_output');
  }
  const parsed = AgentReply.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LlmError(
      `the model's JSON does not fit the reply schema: ${issue?.path.join('.')} ${issue?.message}`,
      'invalid_output',
    );
  }
  return parsed.data;
}

/**
 * Reads a property whose value is `null` as a property left out. Strict JSON-schema modes (OpenAI's)
 * cannot leave optional properties out, so they are sent as nullable and the model writes `null`;
 * in the reply contract null and absent mean the same (nothing said). Array items are kept.
 */
function nullAsAbsent(this: unknown, _key: string, value: unknown): unknown {
  return value === null && !Array.isArray(this) ? undefined : value;
}

/** How XiaoYue asks any LLM to judge a translation (the input is a `TranslationToJudge` as JSON). */
export const JUDGE_INSTRUCTION = `你是中文老师，批改越南学生的翻译题。输入是 JSON：question（题目）、expected（参考答案）、answer（学生的答案）。
意思正确、语法通顺就算对，不要求和参考答案逐字一致；意思错了、漏了关键内容或语法错误就算错。
只输出 JSON：correct（true/false），explanation（用越南语简短说明为什么对或错，错时给出正确说法）。`;
