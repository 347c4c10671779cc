import { describe, expect, it } from 'vitest';
import { ManualTimer } from '../../src/time/scheduler';

describe('ManualTimer', () => {
  it('fires once per arm, only when the deadline has passed', () => {
    const t = new ManualTimer();
    let fired = 0;
    t.onFire(() => fired++);
    t.arm(100);
    expect(t.runDue(99)).toBe(false);
    expect(t.runDue(100)).toBe(true);
    expect(t.runDue(200)).toBe(false); // already fired: one expiry per arm
    expect(fired).toBe(1);
  });

  it('re-arming replaces the deadline; disarm cancels it', () => {
    const t = new ManualTimer();
    let fired = 0;
    t.onFire(() => fired++);
    t.arm(100);
    t.arm(300);
    expect(t.runDue(200)).toBe(false);
    t.disarm();
    expect(t.runDue(1000)).toBe(false);
    expect(fired).toBe(0);
    expect(t.arms).toEqual([100, 300]);
  });

  it('fire() simulates an early expiry; close() stops it for good', () => {
    const t = new ManualTimer();
    let fired = 0;
    t.onFire(() => fired++);
    t.arm(500);
    expect(t.fire()).toBe(true);
    expect(fired).toBe(1);
    t.close();
    expect(() => t.arm(600)).toThrow();
    expect(t.fire()).toBe(false);
  });
});
