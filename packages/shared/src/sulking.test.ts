import { describe, expect, it } from 'vitest';
import { clampSulkingLevel, decaySulking, nextSulkingLevel, sulkingTransition, voiceFor } from './sulking.js';

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

describe('sulking reasons, decay and voice', () => {
  it('says why the level moved', () => {
    expect(sulkingTransition(0, 'rude')).toEqual({ level: 1, reason: 'the learner was rude' });
    expect(sulkingTransition(2, 'apologetic')).toEqual({ level: 1, reason: 'the learner apologised' });
    expect(sulkingTransition(1, 'affectionate')).toEqual({ level: 0, reason: 'the learner was affectionate' });
    expect(sulkingTransition(1, 'polite')).toEqual({ level: 1 });
  });

  it('fades by one level per quiet period, never below calm', () => {
    const hour = 3_600_000;
    expect(decaySulking(3, 0, 0.5 * hour, hour)).toEqual({ level: 3, decayed: false });
    expect(decaySulking(3, 0, 1.5 * hour, hour)).toEqual({ level: 2, decayed: true });
    expect(decaySulking(3, 0, 10 * hour, hour)).toEqual({ level: 0, decayed: true });
    expect(decaySulking(2, 0, 10 * hour, 0)).toEqual({ level: 2, decayed: false });
  });

  it('uses her sulking voice from level 2, whatever the emotion', () => {
    expect(voiceFor('happy', 1)).toBe('happy');
    expect(voiceFor('happy', 2)).toBe('sulking');
    expect(voiceFor('excited', 3)).toBe('sulking');
  });
});
