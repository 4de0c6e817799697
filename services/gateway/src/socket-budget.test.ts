import { describe, expect, it } from 'vitest';
import { SocketBudget } from './socket-budget.js';

/** 60 a minute (one a second), bursts of 3, closed after 4 refusals in a row. */
const budgetAt = (now: number) => new SocketBudget({ perMinute: 60, burst: 3, maxConsecutiveRefusals: 4 }, now);

describe('SocketBudget', () => {
  it('lets a burst through, then one frame per token, and says when the next token comes', () => {
    const budget = budgetAt(0);
    expect([0, 0, 0].map((now) => budget.admit(now).kind)).toEqual(['pass', 'pass', 'pass']);
    expect(budget.admit(0)).toEqual({ kind: 'refuse', retryAfterMs: 1_000 });
    expect(budget.admit(400)).toEqual({ kind: 'refuse', retryAfterMs: 600 });
    expect(budget.admit(1_000).kind).toBe('pass');
    // A client within the budget never meets it.
    for (let now = 2_000; now < 60_000; now += 1_000) expect(budget.admit(now).kind).toBe('pass');
  });

  it('refuses without asking the shared bucket until its retry-after is over', () => {
    const budget = budgetAt(0);
    expect(budget.heldMs(0)).toBe(0);
    expect(budget.refusedByShared(2_500, 0)).toEqual({ kind: 'refuse', retryAfterMs: 2_500 });
    expect(budget.heldMs(1_000)).toBe(1_500);
    // Tokens are left here, but the learner has none.
    expect(budget.admit(1_000)).toEqual({ kind: 'refuse', retryAfterMs: 1_500 });
    expect(budget.admit(2_500).kind).toBe('pass');
    expect(budget.heldMs(2_500)).toBe(0);
  });

  it('closes at the refusal after the allowed run; a frame let through starts the count again', () => {
    const budget = budgetAt(0);
    for (let i = 0; i < 3; i++) budget.admit(0);
    const verdicts = Array.from({ length: 5 }, () => budget.admit(0));
    expect(verdicts.map((verdict) => verdict.kind)).toEqual(['refuse', 'refuse', 'refuse', 'refuse', 'close']);
    expect(verdicts[4]).toEqual({ kind: 'close', refusals: 5 });

    const patient = budgetAt(0);
    for (let i = 0; i < 3; i++) patient.admit(0);
    for (let second = 1; second <= 10; second++) {
      for (let i = 0; i < 4; i++) expect(patient.admit(second * 1_000 - 1).kind).toBe('refuse');
      expect(patient.admit(second * 1_000).kind).toBe('pass');
    }
  });

  it('counts refusals by the shared bucket in the run', () => {
    const budget = budgetAt(0);
    for (let i = 0; i < 4; i++) expect(budget.refusedByShared(1_000, 0).kind).toBe('refuse');
    expect(budget.refusedByShared(1_000, 0).kind).toBe('close');
  });
});
