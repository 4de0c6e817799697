import { SpeechError, type SpeechRequest, type SpeechResult, type SpeechSynthesizer } from './types.js';

/**
 * Tries the primary voice, and when it fails (Edge unreachable, refused, silent) speaks with the
 * fallback voice instead, so the learner still hears her. The caller's abort or deadline stops both.
 */
export class FallbackSpeechSynthesizer implements SpeechSynthesizer {
  readonly name: string;

  constructor(
    private readonly primary: SpeechSynthesizer,
    private readonly fallback: SpeechSynthesizer,
  ) {
    this.name = `${primary.name}+${fallback.name}`;
  }

  async synthesize(request: SpeechRequest, signal: AbortSignal): Promise<SpeechResult> {
    try {
      return await this.primary.synthesize(request, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      try {
        return await this.fallback.synthesize(request, signal);
      } catch (fallbackError) {
        const first = error instanceof Error ? error.message : String(error);
        const second = fallbackError instanceof Error ? fallbackError.message : String(fallbackError);
        const kind = fallbackError instanceof SpeechError ? fallbackError.kind : 'rejected';
        throw new SpeechError(`${this.primary.name}: ${first}; ${this.fallback.name}: ${second}`, kind, {
          cause: error,
        });
      }
    }
  }
}
