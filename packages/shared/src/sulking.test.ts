import { describe, expect, it } from 'vitest';
import { clampSulkingLevel, nextSulkingLevel } from './sulking.js';

describe('sulking rule', () => {
  it('rises one step on rudeness and never above 3', () => {
    expect(nextSulkingLevel(0, 'rude')).toBe(1);
    expect(nextSulkingLevel(3, 'rude')).toBe(3);
  });
  it('falls one step on apology and never below 0', () => {
    expect(nextSulkingLevel(2, 'apologetic')).toBe(1);
    expect(nextSulkingLevel(0, 'apologetic')).toBe(0);
  });
  it('lets affection soothe a sulk but not go below calm', () => {
    expect(nextSulkingLevel(2, 'affectionate')).toBe(1);
    expect(nextSulkingLevel(0, 'affectionate')).toBe(0);
  });
  it('leaves the level alone for polite and neutral messages', () => {
    expect(nextSulkingLevel(2, 'polite')).toBe(2);
    expect(nextSulkingLevel(1, 'neutral')).toBe(1);
  });
  it('clamps anything into 0-3', () => {
    expect([-5, 1.7, 9, Number.NaN].map(clampSulkingLevel)).toEqual([0, 1, 3, 0]);
  });
});
