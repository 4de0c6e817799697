import { deliverReply, type Logger, type Outbox, type TtsJob } from '@xiaoyue/shared';
import { prosodyFor } from './presets.js';
import { SpeechError, type SpeechSynthesizer } from './speech/types.js';

export interface SpeakDeps {
  synthesizer: SpeechSynthesizer;
  outbox: Outbox;
  logger: Logger;
  voice: string;
  timeoutMs: number;
}

/** Margin kept before the turn deadline so the reply itself is not late. */
const DELIVERY_MARGIN_MS = 250;

export type SpeakOutcome = 'with_audio' | 'without_audio' | 'duplicate';

/**
 * Speaks a reply and delivers it. Speech that fails or runs out of time never holds the reply
 * back: the learner gets the text with `audio_base64: null` and the reason in `audio_error`.
 */
export async function speakReply(job: TtsJob, deps: SpeakDeps, signal?: AbortSignal): Promise<SpeakOutcome> {
  const logger = deps.logger.child({ turnId: job.turn_id, userId: job.user_id });
  const budgetMs = Math.min(deps.timeoutMs, job.deadline_at - DELIVERY_MARGIN_MS - Date.now());
  let audio: { audio_base64: string | null; audio_error?: string };
  if (budgetMs <= 0) {
    audio = { audio_base64: null, audio_error: 'no time left for speech before the turn deadline' };
  } else {
    try {
      const timeout = AbortSignal.timeout(budgetMs);
      const result = await deps.synthesizer.synthesize(
        { text: job.text, voice: deps.voice, prosody: prosodyFor(job.emotion) },
        signal ? AbortSignal.any([signal, timeout]) : timeout,
      );
      audio = { audio_base64: result.audio.toString('base64') };
    } catch (error) {
      const reason = error instanceof SpeechError ? `${error.kind}: ${error.message}` : String(error);
      logger.warn({ provider: deps.synthesizer.name, reason }, 'speech failed; delivering the reply without audio');
      audio = { audio_base64: null, audio_error: `speech failed (${reason})` };
    }
  }
  const delivered = await deliverReply(deps.outbox, {
    userId: job.user_id,
    requestId: job.request_id,
    data: { ...job.reply, ...audio },
  });
  if (delivered.duplicate) return 'duplicate';
  return audio.audio_base64 ? 'with_audio' : 'without_audio';
}
