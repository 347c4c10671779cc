import { describe, expect, it } from 'vitest';
import { ManualClock, MonotonicClock } from '../../src/time/clock';

describe('MonotonicClock', () => {
  it('reads CLOCK_MONOTONIC (the timerfd clock) in ns, never going back', () => {
    const c = new MonotonicClock();
    const before = Number(process.hrtime.bigint());
    const a = c.now();
    const b = c.now();
    const after = Number(process.hrtime.bigint());
    expect(b).toBeGreaterThanOrEqual(a);
    // agrees with hrtime within 1 ms (the offset is measured once at construction)
    expect(a).toBeGreaterThan(before - 1e6);
    expect(a).toBeLessThan(after + 1e6);
  });
});

describe('ManualClock', () => {
  it('moves only when told and refuses to go back', () => {
    const c = new ManualClock(100);
    expect(c.advance(50)).toBe(150);
    c.set(200);
    expect(c.now()).toBe(200);
    expect(() => c.set(199)).toThrow(/back in time/);
  });
});
