import type { Emotion, ReplayRate } from '@xiaoyue/shared';
import type { Prosody } from './speech/types.js';

const preset = (rate: number, volume: number, pitchHz = 0): Prosody => ({
  rate: `${rate >= 0 ? '+' : ''}${rate}%`,
  volume: `${volume >= 0 ? '+' : ''}${volume}%`,
  pitch: `${pitchHz >= 0 ? '+' : ''}${pitchHz}Hz`,
});

/**
 * Her voice per emotion. The first six are the seed's presets; the others borrow the nearest
 * one's energy (proud sounds pleased, strict firm, teasing light, concerned soft).
 */
export const VOICE_PRESETS: Record<Emotion, Prosody> = {
  neutral: preset(0, 0),
  happy: preset(5, 5),
  excited: preset(10, 10),
  sulking: preset(-5, -5),
  angry: preset(0, 10),
  shy: preset(-10, -10),
  proud: preset(5, 5),
  strict: preset(-5, 10),
  teasing: preset(5, 0),
  concerned: preset(-5, -5),
};

/** A `slow` replay: 30% slower than she first said it, for learners who did not catch it. */
export const SLOW_REPLAY_RATE = -30;

export function prosodyFor(emotion: Emotion, replayRate?: ReplayRate): Prosody {
  const voice = VOICE_PRESETS[emotion] ?? VOICE_PRESETS.neutral;
  if (replayRate !== 'slow') return voice;
  const rate = Number.parseInt(voice.rate, 10) + SLOW_REPLAY_RATE;
  return { ...voice, rate: `${rate >= 0 ? '+' : ''}${rate}%` };
}
