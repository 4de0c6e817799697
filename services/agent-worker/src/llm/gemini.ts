import { ApiError, type Content, GoogleGenAI } from '@google/genai';
import { type AttemptContext, attemptSignal, classifyFailure, redacted } from './failures.js';
import { geminiSchemaOf } from './gemini-schema.js';
import { AgentReply } from './reply-contract.js';
import {
  JUDGE_INSTRUCTION,
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
    const { signal: abortSignal, timeout } = attemptSignal(signal, this.options.timeoutMs);
    try {
      const response = await this.client.models.generateContent({
        model: this.options.model,
        contents,
        config: { ...config, abortSignal },
      });
      return response.text;
    } catch (error) {
      throw this.failure(error, signal, timeout);
    }
  }

  async *streamReply(prompt: TutorPrompt, signal: AbortSignal): AsyncIterable<string> {
    const { signal: abortSignal, timeout } = attemptSignal(signal, this.options.timeoutMs);
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
      throw this.failure(error, signal, timeout);
    }
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

  /** What a failed attempt was, for the retry policy: one classification for every call. */
  private failure(error: unknown, caller: AbortSignal, timeout: AbortSignal): LlmError {
    const ctx: AttemptContext = {
      callerAborted: caller.aborted,
      timedOut: timeout.aborted,
      timeoutMs: this.options.timeoutMs,
    };
    const api = error instanceof ApiError ? { status: error.status, message: error.message } : undefined;
    return redacted(classifyFailure('Gemini', error, ctx, api), this.options.apiKey);
  }
}

function toContents(prompt: TutorPrompt): Content[] {
  return [
    ...prompt.history.map((m) => ({ role: m.role, parts: [{ text: m.text }] })),
    { role: 'user', parts: [{ text: prompt.userMessage }] },
  ];
}
