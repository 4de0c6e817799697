import { describe, expect, it } from 'vitest';
import { ConnectThrottle } from './connect-throttle.js';

describe('ConnectThrottle', () => {
  const clock = () => {
    const state = { now: 1_000_000 };
    return { state, now: () => state.now };
  };

  it('lets a burst through, then one attempt per 60/perMinute seconds, and says when', () => {
    const { state, now } = clock();
    const throttle = new ConnectThrottle({ perMinute: 6, burst: 2 }, now);
    expect([throttle.take('a'), throttle.take('a')]).toEqual([{ allowed: true }, { allowed: true }]);
    expect(throttle.take('a')).toEqual({ allowed: false, retryAfterMs: 10_000 });
    // Each key has its own budget.
    expect(throttle.take('b')).toEqual({ allowed: true });
    state.now += 4_000;
    expect(throttle.take('a')).toEqual({ allowed: false, retryAfterMs: 6_000 });
    state.now += 6_000;
    expect(throttle.take('a')).toEqual({ allowed: true });
  });

  it('forgets keys idle long enough to have refilled, and keeps at most maxKeys', () => {
    const { state, now } = clock();
    const throttle = new ConnectThrottle({ perMinute: 60, burst: 5, maxKeys: 3 }, now);
    for (const key of ['a', 'b', 'c', 'd']) throttle.take(key);
    expect(throttle.size).toBe(3);
    // 'a' was the least recently used: it went, and starts again with a full burst.
    for (let i = 0; i < 5; i++) expect(throttle.take('a').allowed).toBe(true);
    expect(throttle.take('a').allowed).toBe(false);
    state.now += 5_000; // an empty bucket of 5 at one a second is full again
    throttle.take('e');
    expect(throttle.size).toBe(1);
  });
});
