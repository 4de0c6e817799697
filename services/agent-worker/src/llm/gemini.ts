import { ApiError, type Content, GoogleGenAI } from '@google/genai';
import { geminiSchemaOf } from './gemini-schema.js';
import { AgentReply } from './reply-contract.js';
import {
  LlmError,
  parseReply,
  parseVerdict,
  type TranslationToJudge,
  TranslationVerdict,
  type TutorLlm,
  type TutorPrompt,
} from './types.js';

export interface GeminiOptions {
  apiKey: string;
  model: string;
  /** API root for proxies and local servers; the SDK's default when unset. */
  baseUrl?: string;
  /** Time allowed for one attempt. */
  timeoutMs: number;
}

/** The reply contract as a Gemini response schema, its fields in speaking order. */
const REPLY_SCHEMA = geminiSchemaOf(AgentReply);

const JUDGE_INSTRUCTION = `你是中文老师，批改越南学生的翻译题。输入是 JSON：question（题目）、expected（参考答案）、answer（学生的答案）。
意思正确、语法通顺就算对，不要求和参考答案逐字一致；意思错了、漏了关键内容或语法错误就算错。
只输出 JSON：correct（true/false），explanation（用越南语简短说明为什么对或错，错时给出正确说法）。`;

const VERDICT_SCHEMA = geminiSchemaOf(TranslationVerdict);

/** Gemini through @google/genai: one attempt, structured JSON output, thinking off. */
export class GeminiTutorLlm implements TutorLlm {
  readonly name = 'gemini';
  private readonly client: GoogleGenAI;

  constructor(private readonly options: GeminiOptions) {
    this.client = new GoogleGenAI({
      apiKey: options.apiKey,
      // No SDK retries: the agent retries within the turn's deadline.
      httpOptions: { apiVersion: 'v1beta', ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}) },
    });
  }

  async generateReply(prompt: TutorPrompt, signal: AbortSignal): Promise<AgentReply> {
    return parseReply(await this.generateText(toContents(prompt), this.config(prompt), signal));
  }

  async judgeTranslation(input: TranslationToJudge, signal: AbortSignal): Promise<TranslationVerdict> {
    const text = await this.generateText(
      [{ role: 'user', parts: [{ text: JSON.stringify(input) }] }],
      {
        systemInstruction: JUDGE_INSTRUCTION,
        responseMimeType: 'application/json',
        responseSchema: VERDICT_SCHEMA,
        thinkingConfig: { thinkingBudget: 0 },
        temperature: 0,
      },
      signal,
    );
    return parseVerdict(text);
  }

  /** One generateContent call within the attempt's timeout; errors classified and redacted. */
  private async generateText(
    contents: Content[],
    config: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const abortSignal = AbortSignal.any([signal, timeout]);
    try {
      const response = await this.client.models.generateContent({
        model: this.options.model,
        contents,
        config: { ...config, abortSignal },
      });
      return response.text;
    } catch (error) {
      throw this.redacted(
        classify(error, {
          callerAborted: signal.aborted,
          timedOut: timeout.aborted,
          timeoutMs: this.options.timeoutMs,
        }),
      );
    }
  }

  async *streamReply(prompt: TutorPrompt, signal: AbortSignal): AsyncIterable<string> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const abortSignal = AbortSignal.any([signal, timeout]);
    const context = { callerAborted: false, timedOut: false, timeoutMs: this.options.timeoutMs };
    try {
      const stream = await this.client.models.generateContentStream({
        model: this.options.model,
        contents: toContents(prompt),
        config: { ...this.config(prompt), abortSignal },
      });
      for await (const chunk of stream) {
        const text = chunk.text;
        if (text) yield text;
      }
    } catch (error) {
      throw this.redacted(classify(error, { ...context, callerAborted: signal.aborted, timedOut: timeout.aborted }));
    }
  }

  /** An error message may quote the request (proxies and some API errors do): never let the key out. */
  private redacted(error: LlmError): LlmError {
    if (!this.options.apiKey || !error.message.includes(this.options.apiKey)) return error;
    return new LlmError(error.message.replaceAll(this.options.apiKey, '[redacted]'), error.kind, error.status);
  }

  private config(prompt: TutorPrompt) {
    return {
      systemInstruction: prompt.systemInstruction,
      responseMimeType: 'application/json',
      responseSchema: REPLY_SCHEMA,
      thinkingConfig: { thinkingBudget: 0 },
      temperature: 0.8,
    };
  }
}

function toContents(prompt: TutorPrompt): Content[] {
  return [
    ...prompt.history.map((m) => ({ role: m.role, parts: [{ text: m.text }] })),
    { role: 'user', parts: [{ text: prompt.userMessage }] },
  ];
}

function classify(error: unknown, ctx: { callerAborted: boolean; timedOut: boolean; timeoutMs: number }): LlmError {
  if (error instanceof LlmError) return error;
  if (ctx.callerAborted)
    return new LlmError('the turn was cancelled or ran out of time', 'aborted', undefined, { cause: error });
  if (ctx.timedOut) return new LlmError(`no answer within ${ctx.timeoutMs} ms`, 'timeout', undefined, { cause: error });
  if (error instanceof ApiError) {
    const status = error.status;
    const message = `Gemini answered ${status}: ${error.message.slice(0, 200)}`;
    if (status === 429) return new LlmError(message, 'rate_limited', status, { cause: error });
    if (status === 408 || status >= 500) return new LlmError(message, 'server', status, { cause: error });
    return new LlmError(message, 'rejected', status, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/abort/i.test(message))
    return new LlmError(`no answer within ${ctx.timeoutMs} ms`, 'timeout', undefined, { cause: error });
  if (/fetch failed|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|socket/i.test(message) || error instanceof TypeError) {
    return new LlmError(`cannot reach Gemini: ${message}`, 'network', undefined, { cause: error });
  }
  // The SDK surfaces unparseable bodies and stream garbage as plain errors.
  return new LlmError(`unexpected answer from Gemini: ${message.slice(0, 200)}`, 'invalid_output', undefined, {
    cause: error,
  });
}
