import { describe, expect, it } from 'vitest';
import { ManualTimer } from '../../src/time/timer';

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

  it('a periodic arm fires every period until disarmed, folding missed periods into one firing', () => {
    const t = new ManualTimer();
    const at: number[] = [];
    let now = 0;
    t.onFire(() => at.push(now));
    t.arm(100, 50);
    for (now = 0; now <= 260; now += 10) t.runDue(now);
    expect(at).toEqual([100, 150, 200, 250]);
    // the process was busy from 260 to 420: 300, 350 and 400 fold into one firing, next is 450
    now = 420;
    expect(t.runDue(now)).toBe(true);
    expect(t.armedAt).toBe(450);
    expect(t.arms).toEqual([100]); // armed once
    t.disarm();
    expect(t.runDue(10_000)).toBe(false);
    // a one-shot arm replaces the period
    t.arm(20_000, 50);
    t.arm(20_010);
    expect(t.runDue(20_010)).toBe(true);
    expect(t.armed).toBe(false);
  });
});
