import type { Emotion, SulkingLevel, UserTone } from './reply.js';

export const MIN_SULKING_LEVEL = 0;
export const MAX_SULKING_LEVEL = 3;

export function clampSulkingLevel(level: number): SulkingLevel {
  if (!Number.isFinite(level)) return MIN_SULKING_LEVEL;
  return Math.min(MAX_SULKING_LEVEL, Math.max(MIN_SULKING_LEVEL, Math.trunc(level)));
}

/**
 * The sulking rule: the server, not the model, moves the level, at most one step per turn.
 * rude +1; apologetic -1; affectionate -1 only while she sulks; polite/neutral leave it.
 */
export function nextSulkingLevel(current: SulkingLevel, tone: UserTone): SulkingLevel {
  switch (tone) {
    case 'rude':
      return clampSulkingLevel(current + 1);
    case 'apologetic':
      return clampSulkingLevel(current - 1);
    case 'affectionate':
      return clampSulkingLevel(current > 0 ? current - 1 : current);
    default:
      return current;
  }
}

export interface SulkingChange {
  level: SulkingLevel;
  /** Why she is at this level now (shown in `get_state`); undefined when nothing changed. */
  reason?: string;
}

/** The sulking rule with its reasons; see `nextSulkingLevel`. */
export function sulkingTransition(current: SulkingLevel, tone: UserTone): SulkingChange {
  const level = nextSulkingLevel(current, tone);
  if (level === current) return { level };
  if (tone === 'rude') return { level, reason: 'the learner was rude' };
  if (tone === 'apologetic') return { level, reason: 'the learner apologised' };
  return { level, reason: 'the learner was affectionate' };
}

/**
 * Sulks fade: one level per `periodMs` since the level last changed, never below calm. Returns
 * the level now and whether time softened her.
 */
export function decaySulking(
  level: SulkingLevel,
  changedAtMs: number,
  nowMs: number,
  periodMs: number,
): { level: SulkingLevel; decayed: boolean } {
  if (level === MIN_SULKING_LEVEL || periodMs <= 0 || !Number.isFinite(changedAtMs)) return { level, decayed: false };
  const periods = Math.floor((nowMs - changedAtMs) / periodMs);
  if (periods <= 0) return { level, decayed: false };
  return { level: clampSulkingLevel(level - periods), decayed: true };
}

export const QUIET_PERIOD_REASON = 'she calmed down after a quiet while';

/** The voice preset she speaks with: at sulking level 2 and above, her sulking voice whatever the emotion. */
export function voiceFor(emotion: Emotion, sulkingLevel: SulkingLevel): Emotion {
  return sulkingLevel >= 2 ? 'sulking' : emotion;
}
