import {
  type CatalogQueue,
  type ChatJob,
  type ConversationContext,
  type ConversationStore,
  enqueue,
  factsFromMessage,
  type HistoryTurn,
  isTurnAnswered,
  type LearnerStore,
  type Logger,
  type Mistake,
  type Outbox,
  type PendingReply,
  QUIET_PERIOD_REASON,
  type QuizItem,
  queueCatalog,
  type RedisClient,
  type RedisKeys,
  type SulkingLevel,
  sulkingTransition,
  type TurnCancellations,
  voiceFor,
} from '@xiaoyue/shared';
import pRetry from 'p-retry';
import { fallbackReply } from './fallback.js';
import type { AgentReply } from './llm/reply-contract.js';
import { LlmError, parseReply, type TutorLlm, type TutorPrompt } from './llm/types.js';
import type { AgentMetrics } from './metrics.js';
import { type PinyinToken, pinyinLine, pinyinTokens } from './pinyin-tokens.js';
import { buildTutorPrompt } from './prompt.js';
import { StreamedReply } from './streamed-reply.js';

export interface TurnDeps {
  llm: TutorLlm;
  store: ConversationStore;
  /** The learner's progress: quiz keys, review cards, level, profile. */
  learners: LearnerStore;
  /** The history window; a turn beyond it folds the oldest into the learner profile. */
  historyTurns: number;
  outbox: Outbox;
  redis: RedisClient;
  keys: RedisKeys;
  ttsQueue: CatalogQueue<'tts'>;
  logger: Logger;
  llmMaxAttempts: number;
  metrics: AgentMetrics;
  /** Lets a learner interrupt a streaming turn by speaking again. */
  cancellations?: TurnCancellations;
  /** How long a pending reply is kept for the deadline watchdog. */
  pendingReplyTtlSeconds: number;
}

/** Time kept back from the turn's deadline for speech, so the learner still hears her. */
export function speechReserveMs(turnTimeoutMs: number): number {
  return Math.min(5_000, Math.floor(turnTimeoutMs / 4));
}

/** How long the chat queue pauses after the LLM answered 429. */
export const RATE_LIMIT_PAUSE_MS = 1_000;

/** Longest queue pause a `retry-after` can ask for. */
export const MAX_RATE_LIMIT_PAUSE_MS = 60_000;

/** How long to pause after a 429: the server's `retry-after` when it gave one (within bounds), else the default. */
export function rateLimitPauseMs(error: LlmError): number {
  const asked = error.retryAfterMs ?? RATE_LIMIT_PAUSE_MS;
  return Math.min(MAX_RATE_LIMIT_PAUSE_MS, Math.max(RATE_LIMIT_PAUSE_MS, asked));
}

/** The LLM is throttling us: the worker should pause its queue and put the turn back. */
export class RateLimited extends Error {
  override name = 'RateLimited';
  constructor(readonly pauseMs: number) {
    super(`LLM rate limited; pausing the queue for ${pauseMs} ms`);
  }
}

export type TurnOutcome = 'answered' | 'fallback' | 'already_answered' | 'interrupted';

/**
 * One chat turn: load the conversation, ask the LLM (retrying transient failures within the
 * deadline, else her fallback line), store the turn and the new sulking level, chain speech.
 */
export async function answerTurn(job: ChatJob, deps: TurnDeps, signal?: AbortSignal): Promise<TurnOutcome> {
  const logger = deps.logger.child({ turnId: job.turn_id, userId: job.user_id });
  const [answered, context, learner] = await Promise.all([
    isTurnAnswered(deps.outbox, job.user_id, job.turn_id),
    deps.store.loadContext(job.user_id),
    deps.learners.context(job.user_id),
  ]);
  if (answered) return 'already_answered';
  const prompt = buildTutorPrompt({
    history: context.history,
    userMessage: job.message,
    userRole: job.user_role,
    sulkingLevel: context.sulkingLevel,
    learner,
  });
  const turnTimeoutMs = job.deadline_at - job.enqueued_at;
  const llmBudgetMs = Math.max(0, job.deadline_at - speechReserveMs(turnTimeoutMs) - Date.now());
  const streamed = job.stream ? new StreamedReply(job, deps, context.sulkingLevel, learner.voice) : undefined;
  const interrupted =
    streamed && deps.cancellations ? await deps.cancellations.watch(job.user_id, job.turn_id) : undefined;
  try {
    return await answerWith(
      job,
      deps,
      context,
      prompt,
      llmBudgetMs,
      signal,
      streamed,
      interrupted,
      logger,
      learner.voice,
    );
  } finally {
    deps.cancellations?.unwatch(job.turn_id);
  }
}

async function answerWith(
  job: ChatJob,
  deps: TurnDeps,
  context: ConversationContext,
  prompt: TutorPrompt,
  llmBudgetMs: number,
  signal: AbortSignal | undefined,
  streamed: StreamedReply | undefined,
  interrupted: AbortSignal | undefined,
  logger: Logger,
  /** The learner's voice (`set_voice`); absent: the TTS worker's TTS_VOICE. */
  voice: string | undefined,
): Promise<TurnOutcome> {
  let rawChinese: string | undefined;

  let reply: AgentReply;
  let fallback = false;
  const provider = deps.llm.name;
  const askedAt = performance.now();
  let firstToken = false;
  const observeFirstToken = () => {
    if (firstToken) return;
    firstToken = true;
    deps.metrics.llmFirstToken.observe({ provider }, (performance.now() - askedAt) / 1000);
  };
  try {
    reply = await askWithRetries(
      deps,
      async (attemptSignal) => {
        if (!streamed) {
          const answer = await deps.llm.generateReply(prompt, attemptSignal);
          observeFirstToken();
          return answer;
        }
        let text = '';
        for await (const fragment of deps.llm.streamReply(prompt, attemptSignal)) {
          observeFirstToken();
          text += fragment;
          await streamed.update(text);
        }
        const parsed = parseReply(text);
        rawChinese = (JSON.parse(text) as { chinese_content?: string }).chinese_content;
        return parsed;
      },
      {
        budgetMs: llmBudgetMs,
        jobSignal: signal && interrupted ? AbortSignal.any([signal, interrupted]) : (signal ?? interrupted),
        logger,
        canRetry: () => (streamed?.sentenceCount ?? 0) === 0,
      },
    );
  } catch (error) {
    if (streamed && interrupted?.aborted) return endInterrupted(job, deps, context, streamed);
    // Rate-limited before anything was said, with time to spare: hand the turn back to the queue
    // and pause the queue, rather than burn attempts (or answer with a fallback) while throttled.
    const spare = job.deadline_at - Date.now() - speechReserveMs(job.deadline_at - job.enqueued_at);
    const pauseMs = error instanceof LlmError ? rateLimitPauseMs(error) : RATE_LIMIT_PAUSE_MS;
    if (
      error instanceof LlmError &&
      error.kind === 'rate_limited' &&
      (streamed?.sentenceCount ?? 0) === 0 &&
      spare > 2 * pauseMs
    ) {
      throw new RateLimited(pauseMs);
    }
    const salvaged = streamed?.salvage();
    logger.warn(
      { err: describe(error) },
      salvaged ? 'LLM stream broke; keeping what was said' : 'LLM failed; answering with the fallback line',
    );
    reply = salvaged ?? fallbackReply(job.turn_id, context.sulkingLevel);
    rawChinese = undefined;
    fallback = true;
    deps.metrics.fallbacks.inc({ reason: salvaged ? 'stream_broke' : 'llm_failed' });
  }
  deps.metrics.llmDuration.observe(
    { provider, outcome: fallback ? 'failed' : 'ok' },
    (performance.now() - askedAt) / 1000,
  );

  // The server alone moves her sulk (a fallback turn judged nothing, so it moves nothing).
  const sulk = fallback ? { level: context.sulkingLevel } : sulkingTransition(context.sulkingLevel, reply.user_tone);
  // Answer keys stay here; the learner gets the quizzes without them.
  const quizzes = await deps.learners.saveQuizzes(job.user_id, job.turn_id, reply.quiz_list);
  const data = replyDataFrom(job.turn_id, reply, sulk.level, fallback, quizzes);

  // The watchdog may have answered while the LLM was thinking: then this turn is over.
  if (await isTurnAnswered(deps.outbox, job.user_id, job.turn_id)) return 'already_answered';
  await commitTurn(deps, job, data, sulk.reason ?? (context.sulkingDecayed ? QUIET_PERIOD_REASON : undefined));
  if (!fallback) {
    await learnFromTurn(deps, job, reply, data, context.history.length >= deps.historyTurns).catch((error) =>
      logger.warn({ err: describe(error) }, 'could not record the turn in the learner progress'),
    );
  }
  if (streamed) {
    await streamed.finish(data, rawChinese);
  } else {
    await enqueue(deps.ttsQueue, queueCatalog.tts, {
      turn_id: job.turn_id,
      user_id: job.user_id,
      request_id: job.request_id,
      text: data.chinese_content,
      emotion: voiceFor(data.emotion, data.sulking_level),
      deadline_at: job.deadline_at,
      reply: data,
      ...(voice ? { voice } : {}),
    });
  }
  return fallback ? 'fallback' : 'answered';
}

/**
 * The learner spoke again while she was still talking: keep the sentences already sent (history
 * marks the turn interrupted), drop the speech still queued, and end the turn so the next begins.
 */
async function endInterrupted(
  job: ChatJob,
  deps: TurnDeps,
  context: ConversationContext,
  streamed: StreamedReply,
): Promise<TurnOutcome> {
  deps.metrics.cancelledTurns.inc();
  const said = streamed.salvage();
  const data: PendingReply = {
    ...replyDataFrom(
      job.turn_id,
      said ?? {
        ...fallbackReply(job.turn_id, context.sulkingLevel),
        chinese_content: '',
        pinyin: '',
        vietnamese_display: '',
      },
      context.sulkingLevel,
      false,
    ),
    thought: 'interrupted by the learner',
    interrupted: true,
  };
  if (await isTurnAnswered(deps.outbox, job.user_id, job.turn_id)) return 'already_answered';
  await commitTurn(deps, job, data);
  await streamed.interrupt(data);
  return 'interrupted';
}

/**
 * What the turn teaches and tells about the learner: the words she used, their name and
 * interests, and her correction as a review card (one that comes back on the FSRS schedule).
 */
async function learnFromTurn(
  deps: TurnDeps,
  job: ChatJob,
  reply: AgentReply,
  data: PendingReply,
  foldsOldestTurn: boolean,
): Promise<void> {
  await deps.learners.recordTurn(job.user_id, {
    turnId: job.turn_id,
    words: wordsOf(data.pinyin_tokens ?? []),
    facts: [factsFromMessage(job.message), reply.learner_facts],
    mistake: reply.action === 'correction' ? mistakeOf(job.message, reply) : undefined,
    foldedTurns: foldsOldestTurn ? 1 : 0,
  });
}

/** Chinese words of a reply (not punctuation, not Latin text). */
function wordsOf(tokens: PinyinToken[]): string[] {
  return tokens.filter((t) => t.pinyin !== '' && /\p{Script=Han}/u.test(t.hanzi)).map((t) => t.hanzi);
}

/**
 * The mistake she corrected: the model's correction note, or else the right form she quoted
 * (“…”) against the learner's message. Nothing if neither says what is right.
 */
export function mistakeOf(userMessage: string, reply: AgentReply): Mistake | undefined {
  const note = reply.correction;
  if (note) return { kind: 'correction', front: note.wrong, back: note.right, explanation: note.explanation };
  const quoted = /[“"「]([^”"」]+)[”"」]/u.exec(reply.chinese_content)?.[1];
  return quoted
    ? { kind: 'correction', front: userMessage, back: quoted, explanation: reply.vietnamese_display }
    : undefined;
}

/** The `reply` event's data for a structured reply, before speech is attached. */
export function replyDataFrom(
  turnId: string,
  reply: AgentReply,
  sulkingLevel: SulkingLevel,
  fallback: boolean,
  quizzes: QuizItem[] = [],
): PendingReply {
  const tokens = pinyinTokens(reply.chinese_content, reply.pinyin);
  return {
    turn_id: turnId,
    thought: reply.thought,
    chinese_content: reply.chinese_content,
    vietnamese_display: reply.vietnamese_display,
    // The trusted readings, not the model's own string (which slips on tones and polyphones).
    pinyin: pinyinLine(tokens),
    emotion: reply.emotion,
    action: reply.action,
    quiz_list: quizzes,
    user_tone: reply.user_tone,
    pinyin_tokens: tokens,
    sulking_level: sulkingLevel,
    timestamp: new Date().toISOString(),
    ...(fallback ? { fallback: true } : {}),
  };
}

/** Stores the turn in the history, and the reply for the watchdog in case speech never comes. */
export async function commitTurn(
  deps: Pick<TurnDeps, 'store' | 'redis' | 'keys' | 'pendingReplyTtlSeconds'>,
  job: Pick<ChatJob, 'turn_id' | 'user_id' | 'message' | 'user_role'>,
  data: PendingReply,
  sulkingReason?: string,
): Promise<void> {
  const turn: HistoryTurn = {
    turn_id: job.turn_id,
    timestamp: data.timestamp,
    user_role: job.user_role,
    user_message: job.message,
    chinese_content: data.chinese_content,
    pinyin: data.pinyin,
    vietnamese_display: data.vietnamese_display,
    emotion: data.emotion,
    action: data.action,
    quiz_list: data.quiz_list,
    sulking_level: data.sulking_level,
    ...(data.fallback ? { fallback: true } : {}),
    ...(data.interrupted ? { interrupted: true } : {}),
  };
  await Promise.all([
    deps.store.commitTurn(job.user_id, turn, data.sulking_level, sulkingReason),
    deps.redis.set(
      deps.keys.pendingReply(job.user_id, job.turn_id),
      JSON.stringify(data),
      'EX',
      deps.pendingReplyTtlSeconds,
    ),
  ]);
}

interface RetryOptions {
  budgetMs: number;
  jobSignal: AbortSignal | undefined;
  logger: Logger;
  /** False once part of a streamed reply went out: a second attempt would say it twice. */
  canRetry: () => boolean;
}

/** Runs `attempt` until it succeeds, retrying transient failures with backoff within the budget. */
async function askWithRetries(
  deps: TurnDeps,
  attempt: (signal: AbortSignal) => Promise<AgentReply>,
  { budgetMs, jobSignal, logger, canRetry }: RetryOptions,
): Promise<AgentReply> {
  if (budgetMs <= 0) throw new LlmError('no time left before the turn deadline', 'timeout');
  const budget = AbortSignal.timeout(budgetMs);
  const signal = jobSignal ? AbortSignal.any([jobSignal, budget]) : budget;
  return pRetry(
    async () => {
      if (signal.aborted) throw new LlmError('turn deadline reached', 'timeout');
      return attempt(signal);
    },
    {
      retries: deps.llmMaxAttempts - 1,
      minTimeout: 200,
      maxTimeout: 2_000,
      factor: 2,
      randomize: true,
      signal,
      // A 429 is not retried here: the whole queue pauses instead (see RateLimited).
      shouldRetry: (error) =>
        error instanceof LlmError && error.retryable && error.kind !== 'rate_limited' && !signal.aborted && canRetry(),
      onFailedAttempt: (error) => {
        logger.info(
          { attempt: error.attemptNumber, left: error.retriesLeft, err: describe(error) },
          'LLM attempt failed',
        );
      },
    },
  );
}

function describe(error: unknown): string {
  if (error instanceof LlmError) return `${error.kind}${error.status ? ` ${error.status}` : ''}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
