import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionCreateParamsBase, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { z } from 'zod';
import { type AttemptContext, attemptSignal, classifyFailure, redacted, retryAfterMsOf } from './failures.js';
import { type JsonSchema, openAiSchemaOf, schemaInstruction } from './openai-schema.js';
import { AgentReply } from './reply-contract.js';
import { ThinkingFilter, withoutThinking } from './thinking.js';
import {
  JUDGE_INSTRUCTION,
  LlmError,
  type LlmProbe,
  parseReply,
  parseVerdict,
  type TranslationToJudge,
  TranslationVerdict,
  type TutorLlm,
  type TutorPrompt,
} from './types.js';

/** How the schema is asked for: strict JSON schema, or JSON mode with the schema in the prompt. */
export type OpenAiJsonMode = 'json_schema' | 'json_object';

export interface OpenAiOptions {
  /** API root, up to and including `/v1` (OpenAI's, or Ollama's, vLLM's, LM Studio's…). */
  baseUrl: string;
  /** Optional for local servers: without one, no Authorization header is sent. */
  apiKey?: string;
  model: string;
  jsonMode: OpenAiJsonMode;
  /** Time allowed for one attempt (a streamed one: until the last chunk). */
  timeoutMs: number;
}

/** A schema for one kind of answer, in both forms a server may take it. */
interface AnswerFormat {
  name: string;
  schema: JsonSchema;
}

const formatOf = (name: string, schema: z.ZodType): AnswerFormat => ({ name, schema: openAiSchemaOf(schema) });
const REPLY_FORMAT = formatOf('xiaoyue_reply', AgentReply);
const VERDICT_FORMAT = formatOf('translation_verdict', TranslationVerdict);

/**
 * Any OpenAI-compatible chat completions server through the official `openai` SDK: one attempt,
 * structured JSON output (strict JSON schema, or JSON mode with the schema in the prompt),
 * `<think>` blocks and `reasoning_content` never reach the learner. The SDK does not retry
 * (`maxRetries: 0`): the agent's policy owns retries, the queue pause on 429 and the fallback.
 */
export class OpenAiTutorLlm implements TutorLlm {
  readonly name = 'openai';
  private readonly client: OpenAI;

  constructor(private readonly options: OpenAiOptions) {
    this.client = new OpenAI({
      baseURL: options.baseUrl,
      // The SDK refuses to start without a key; local servers need none, so none is sent.
      apiKey: options.apiKey || 'none',
      ...(options.apiKey ? {} : { defaultHeaders: { Authorization: null } }),
      maxRetries: 0,
      timeout: options.timeoutMs,
      // Failures are classified and logged by the agent, not printed by the SDK.
      logLevel: 'off',
    });
  }

  async generateReply(prompt: TutorPrompt, signal: AbortSignal): Promise<AgentReply> {
    return parseReply(await this.complete(replyMessages(prompt), REPLY_FORMAT, 0.8, signal));
  }

  async judgeTranslation(input: TranslationToJudge, signal: AbortSignal): Promise<TranslationVerdict> {
    return parseVerdict(await this.complete(judgeMessages(input), VERDICT_FORMAT, 0, signal));
  }

  async *streamReply(prompt: TutorPrompt, signal: AbortSignal): AsyncIterable<string> {
    const attempt = attemptSignal(signal, this.options.timeoutMs);
    const thinking = new ThinkingFilter();
    try {
      const stream = await this.client.chat.completions.create(
        { ...this.request(replyMessages(prompt), REPLY_FORMAT, 0.8), stream: true },
        { signal: attempt.signal },
      );
      for await (const chunk of stream) {
        // A usage chunk has no choices; `reasoning_content` deltas are never read.
        const visible = thinking.push(chunk.choices[0]?.delta?.content ?? '');
        if (visible) yield visible;
      }
      const rest = thinking.end();
      if (rest) yield rest;
    } catch (error) {
      throw this.failure(error, signal, attempt.timeout);
    }
  }

  async probe(signal: AbortSignal): Promise<LlmProbe> {
    const attempt = attemptSignal(signal, this.options.timeoutMs);
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    const input = { question: 'Dịch sang tiếng Việt: 你好', expected: 'Xin chào', answer: 'Chào bạn' };
    try {
      completion = await this.client.chat.completions.create(
        { ...this.request(judgeMessages(input), VERDICT_FORMAT, 0), stream: false },
        { signal: attempt.signal },
      );
    } catch (error) {
      throw this.failure(error, signal, attempt.timeout);
    }
    const text = withoutThinking(completion.choices[0]?.message?.content ?? '');
    const mode = this.options.jsonMode;
    return { model: completion.model || this.options.model, schemaMode: mode, ...fitsExactly(text, VERDICT_FORMAT) };
  }

  /** One non-streamed completion within the attempt's timeout: the answer's text without its thinking. */
  private async complete(
    messages: ChatCompletionMessageParam[],
    format: AnswerFormat,
    temperature: number,
    signal: AbortSignal,
  ): Promise<string> {
    const attempt = attemptSignal(signal, this.options.timeoutMs);
    try {
      const completion = await this.client.chat.completions.create(
        { ...this.request(messages, format, temperature), stream: false },
        { signal: attempt.signal },
      );
      const message = completion.choices[0]?.message;
      // Strict mode may refuse instead of answering: retried like any unusable answer.
      if (message?.refusal) throw new LlmError(`the model refused: ${message.refusal.slice(0, 200)}`, 'invalid_output');
      return withoutThinking(message?.content ?? '');
    } catch (error) {
      throw this.failure(error, signal, attempt.timeout);
    }
  }

  private request(
    messages: ChatCompletionMessageParam[],
    format: AnswerFormat,
    temperature: number,
  ): ChatCompletionCreateParamsBase {
    if (this.options.jsonMode === 'json_object') {
      const [system, ...rest] = messages;
      return {
        model: this.options.model,
        messages: [{ role: 'system', content: `${system?.content ?? ''}${schemaInstruction(format.schema)}` }, ...rest],
        response_format: { type: 'json_object' },
        temperature,
      };
    }
    return {
      model: this.options.model,
      messages,
      response_format: { type: 'json_schema', json_schema: { name: format.name, strict: true, schema: format.schema } },
      temperature,
    };
  }

  private failure(error: unknown, caller: AbortSignal, timeout: AbortSignal): LlmError {
    const ctx: AttemptContext = {
      callerAborted: caller.aborted,
      timedOut: timeout.aborted,
      timeoutMs: this.options.timeoutMs,
    };
    // Connection failures and aborts are APIErrors without an HTTP answer.
    const answered =
      error instanceof APIError && !(error instanceof APIConnectionError || error instanceof APIUserAbortError);
    const api = answered
      ? { status: error.status, message: error.message, retryAfterMs: retryAfterMsOf(error.headers) }
      : undefined;
    return redacted(classifyFailure('the OpenAI-compatible server', error, ctx, api), this.options.apiKey);
  }
}

function replyMessages(prompt: TutorPrompt): ChatCompletionMessageParam[] {
  return [
    { role: 'system', content: prompt.systemInstruction },
    ...prompt.history.map((m) =>
      m.role === 'model' ? { role: 'assistant' as const, content: m.text } : { role: 'user' as const, content: m.text },
    ),
    { role: 'user', content: prompt.userMessage },
  ];
}

function judgeMessages(input: TranslationToJudge): ChatCompletionMessageParam[] {
  return [
    { role: 'system', content: JUDGE_INSTRUCTION },
    { role: 'user', content: JSON.stringify(input) },
  ];
}

/** Whether `text` is exactly the format's object: JSON, every property there, none other. */
function fitsExactly(text: string, format: AnswerFormat): { honoured: boolean; detail?: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { honoured: false, detail: `the answer is not JSON: ${text.slice(0, 80)}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { honoured: false, detail: `the answer is not a JSON object: ${text.slice(0, 80)}` };
  const expected = (format.schema.required as string[] | undefined) ?? [];
  const missing = expected.filter((key) => !(key in json));
  const extra = Object.keys(json).filter((key) => !expected.includes(key));
  if (missing.length === 0 && extra.length === 0) return { honoured: true };
  return {
    honoured: false,
    detail: [
      missing.length ? `missing ${missing.join(', ')}` : '',
      extra.length ? `not in the schema: ${extra.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  };
}
