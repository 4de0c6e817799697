import {
  type AudioErrorCode,
  endTurn,
  type Logger,
  noAudio,
  type Outbox,
  type TtsJob,
  type WordTiming,
} from '@xiaoyue/shared';
import type { TtsMetrics } from './metrics.js';
import { prosodyFor } from './presets.js';
import { SpeechError, type SpeechSynthesizer, type WordBoundary } from './speech/types.js';

export interface SpeakDeps {
  synthesizer: SpeechSynthesizer;
  outbox: Outbox;
  logger: Logger;
  /** TTS_VOICE: her voice unless the job names the learner's. */
  voice: string;
  timeoutMs: number;
  metrics?: TtsMetrics;
}

/** Margin kept before the turn deadline so the reply itself is not late. */
const DELIVERY_MARGIN_MS = 250;

export type SpeakOutcome = 'with_audio' | 'without_audio' | 'duplicate' | 'parked' | 'dropped';

interface Speech {
  audio_base64: string | null;
  audio_error?: string;
  audio_error_code?: AudioErrorCode;
  boundaries: WordBoundary[];
}

/**
 * Speaks a reply (seed mode) or one sentence of it (streaming mode) and delivers it. Speech that
 * fails or runs out of time never holds the words back: they go out with `audio_base64: null`,
 * `audio_error_code` and a Vietnamese `audio_error` for the learner (the provider's reason is logged).
 */
export async function speakReply(job: TtsJob, deps: SpeakDeps, signal?: AbortSignal): Promise<SpeakOutcome> {
  // A sentence of a turn the learner interrupted (or the watchdog ended) is not spoken at all.
  if (job.sentence && (await deps.outbox.gateState(job.user_id, job.turn_id)).closed) return 'dropped';
  const { boundaries, ...audio } = await speak(job, deps, signal);
  const { audio_base64 } = audio;
  const requestId = job.request_id;
  if (job.sentence) {
    const { index } = job.sentence;
    const data = { turn_id: job.turn_id, index, ...audio, word_boundaries: wordTimings(job.text, boundaries) };
    const result = await deps.outbox.appendInOrder(
      job.user_id,
      { type: 'reply_audio', data, requestId },
      { gate: job.turn_id, index },
    );
    if (result.parked) return 'parked';
    if (result.duplicate) return 'duplicate';
  } else if (job.replay) {
    const data = {
      turn_id: job.turn_id,
      rate: job.replay.rate,
      chinese_content: job.text,
      ...audio,
      word_boundaries: wordTimings(job.text, boundaries),
    };
    const key = { turn_id: job.turn_id, replay_id: job.replay.id };
    const result = await deps.outbox.append(job.user_id, { type: 'replay_audio', data, requestId, key });
    if (result.duplicate) return 'duplicate';
  } else if (job.reply) {
    const data = { ...job.reply, ...audio, word_boundaries: wordTimings(job.text, boundaries) };
    const delivered = await endTurn(deps.outbox, { userId: job.user_id, requestId, data });
    if (delivered.duplicate) return 'duplicate';
  }
  return audio_base64 ? 'with_audio' : 'without_audio';
}

/** Her voice for the job's text, within the job's time budget, or why there is none. */
async function speak(job: TtsJob, deps: SpeakDeps, signal?: AbortSignal): Promise<Speech> {
  const budgetMs = Math.min(deps.timeoutMs, job.deadline_at - DELIVERY_MARGIN_MS - Date.now());
  if (budgetMs <= 0) {
    deps.logger.warn({ turnId: job.turn_id, userId: job.user_id }, 'no time left for speech before the turn deadline');
    return { ...noAudio('turn_timeout'), boundaries: [] };
  }
  const provider = deps.synthesizer.name;
  const startedAt = performance.now();
  const seconds = () => (performance.now() - startedAt) / 1000;
  const timeout = AbortSignal.timeout(budgetMs);
  try {
    const result = await deps.synthesizer.synthesize(
      { text: job.text, voice: job.voice ?? deps.voice, prosody: prosodyFor(job.emotion, job.replay?.rate) },
      signal ? AbortSignal.any([signal, timeout]) : timeout,
    );
    deps.metrics?.firstByte.observe(
      { provider },
      result.firstByteMs !== undefined ? result.firstByteMs / 1000 : seconds(),
    );
    deps.metrics?.duration.observe({ provider, outcome: 'ok' }, seconds());
    return { audio_base64: result.audio.toString('base64'), boundaries: result.wordBoundaries };
  } catch (error) {
    deps.metrics?.duration.observe({ provider, outcome: 'failed' }, seconds());
    deps.metrics?.failures.inc({ provider });
    const reason = error instanceof SpeechError ? `${error.kind}: ${error.message}` : String(error);
    deps.logger.warn(
      { turnId: job.turn_id, userId: job.user_id, provider: deps.synthesizer.name, reason },
      'speech failed; delivering the words without audio',
    );
    // Too slow, whether for the provider's own timeout or the turn's budget, is not unavailable.
    const timedOut = timeout.aborted || (error instanceof SpeechError && error.kind === 'timeout');
    return { ...noAudio(timedOut ? 'tts_timeout' : 'tts_unavailable'), boundaries: [] };
  }
}

/**
 * Word boundaries as a client can use them to highlight the characters being spoken: each word
 * is found in the sentence after the previous one (providers drop punctuation).
 */
export function wordTimings(sentence: string, boundaries: WordBoundary[]): WordTiming[] {
  const timings: WordTiming[] = [];
  let cursor = 0;
  for (const word of boundaries) {
    const at = sentence.indexOf(word.text, cursor);
    if (at < 0) continue;
    timings.push({
      text: word.text,
      start_ms: Math.round(word.offsetMs),
      end_ms: Math.round(word.offsetMs + word.durationMs),
      char_start: at,
      char_end: at + word.text.length,
    });
    cursor = at + word.text.length;
  }
  return timings;
}
