import { SpeechError, type SpeechRequest, type SpeechResult, type SpeechSynthesizer } from './types.js';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Tries the primary voice, and when it fails (Edge unreachable, refused, silent, too slow) speaks
 * once with the fallback voice in the time that is left, so the learner still hears her. A caller
 * that gave up (abort or deadline) gets no fallback: nobody is waiting for it.
 */
export class FallbackSpeechSynthesizer implements SpeechSynthesizer {
  readonly name: string;

  constructor(
    private readonly primary: SpeechSynthesizer,
    private readonly fallback: SpeechSynthesizer,
  ) {
    this.name = `${primary.name}+${fallback.name}`;
  }

  async prepare(): Promise<void> {
    await Promise.all([this.primary.prepare?.(), this.fallback.prepare?.()]);
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close?.(), this.fallback.close?.()]);
  }

  async synthesize(request: SpeechRequest, signal: AbortSignal): Promise<SpeechResult> {
    try {
      return await this.primary.synthesize(request, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      try {
        return await this.fallback.synthesize(request, signal);
      } catch (fallbackError) {
        const kind = fallbackError instanceof SpeechError ? fallbackError.kind : 'rejected';
        const message = `${this.primary.name}: ${messageOf(error)}; ${this.fallback.name}: ${messageOf(fallbackError)}`;
        throw new SpeechError(message, kind, { cause: error });
      }
    }
  }
}
