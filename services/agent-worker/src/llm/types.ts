import type { AgentReply, SulkingLevel } from '@xiaoyue/shared';

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
  persona?: { userRole: string; sulkingLevel: SulkingLevel };
}

/**
 * The tutor LLM: one attempt at XiaoYue's structured reply. Retries, deadlines and fallbacks are
 * the agent's business, not the provider's.
 */
export interface TutorLlm {
  readonly name: string;
  generateReply(prompt: TutorPrompt, signal: AbortSignal): Promise<AgentReply>;
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
  constructor(
    message: string,
    readonly kind: LlmErrorKind,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return this.kind !== 'rejected' && this.kind !== 'aborted';
  }
}
