import type { SulkingLevel, UserTone } from './reply.js';

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
