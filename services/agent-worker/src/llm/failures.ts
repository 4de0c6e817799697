import { LlmError } from './types.js';

/** What the provider knew when one attempt failed. */
export interface AttemptContext {
  /** The caller's signal fired (the turn was cancelled or its budget ran out). */
  callerAborted: boolean;
  /** The attempt's own timeout fired. */
  timedOut: boolean;
  timeoutMs: number;
}

/** The HTTP answer behind a failure, as the provider's SDK reports it. */
export interface ApiFailure {
  /** Undefined when the server reported the error inside a 200 stream. */
  status: number | undefined;
  message: string;
  /** From `retry-after-ms` / `retry-after`, when the server said when to come back. */
  retryAfterMs?: number;
}

/** One attempt's signal: the caller's, or the attempt's own timeout, whichever fires first. */
export function attemptSignal(signal: AbortSignal, timeoutMs: number): { signal: AbortSignal; timeout: AbortSignal } {
  const timeout = AbortSignal.timeout(timeoutMs);
  return { signal: AbortSignal.any([signal, timeout]), timeout };
}

/**
 * Classifies a failed attempt for the agent's retry policy, the same way for every provider:
 * the caller's abort is final; a timeout, a 408/5xx, a network failure or unreadable output is
 * worth another attempt; a 429 hands the turn back to the queue; any other HTTP answer is final.
 * `api` is the HTTP answer when the SDK's error carries one.
 */
export function classifyFailure(
  provider: string,
  error: unknown,
  ctx: AttemptContext,
  api: ApiFailure | undefined,
): LlmError {
  if (error instanceof LlmError) return error;
  if (ctx.callerAborted)
    return new LlmError('the turn was cancelled or ran out of time', 'aborted', undefined, { cause: error });
  if (ctx.timedOut) return new LlmError(`no answer within ${ctx.timeoutMs} ms`, 'timeout', undefined, { cause: error });
  if (api) {
    const { status } = api;
    const message = `${provider} answered ${status ?? 'an error in its stream'}: ${api.message.slice(0, 200)}`;
    if (status === 429)
      return new LlmError(message, 'rate_limited', status, { cause: error, retryAfterMs: api.retryAfterMs });
    if (status === undefined || status === 408 || status >= 500)
      return new LlmError(message, 'server', status, { cause: error });
    return new LlmError(message, 'rejected', status, { cause: error });
  }
  const message = describeError(error);
  if (/abort|timed? ?out/i.test(message))
    return new LlmError(`no answer within ${ctx.timeoutMs} ms`, 'timeout', undefined, { cause: error });
  if (
    /fetch failed|connection error|terminated|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|socket/i.test(message) ||
    error instanceof TypeError
  ) {
    return new LlmError(`cannot reach ${provider}: ${message}`, 'network', undefined, { cause: error });
  }
  // SDKs surface unparseable bodies and stream garbage as plain errors.
  return new LlmError(`unexpected answer from ${provider}: ${message.slice(0, 200)}`, 'invalid_output', undefined, {
    cause: error,
  });
}

/** An error message may quote the request (proxies and some API errors do): never let the key out. */
export function redacted(error: LlmError, secret: string | undefined): LlmError {
  if (!secret || !error.message.includes(secret)) return error;
  return new LlmError(error.message.replaceAll(secret, '[redacted]'), error.kind, error.status, {
    retryAfterMs: error.retryAfterMs,
  });
}

/** `retry-after-ms` (OpenAI's), else `retry-after` in seconds or as an HTTP date; undefined if absent or unreadable. */
export function retryAfterMsOf(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The message of an error and of its causes (fetch hides the socket's reason in `cause`). */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 3; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ');
}
