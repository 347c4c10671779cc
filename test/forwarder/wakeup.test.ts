import { describe, expect, it } from 'vitest';
import { MIN_REARM_NS, WAKE_DEADLINE, WAKE_IDLE, WAKE_WARM, WakeupPolicy } from '../../src/forwarder/wakeup';
import { ManualTimer } from '../../src/time/timer';

const MS = 1_000_000;
const T0 = 1000 * MS;

function policy(keepWarm = 0, keepWarmWindow = 10 * MS) {
  const timer = new ManualTimer();
  return { timer, wake: new WakeupPolicy(timer, keepWarm, keepWarmWindow) };
}

describe('WakeupPolicy without keep-warm', () => {
  it('arms one-shot for the tree deadline when packets stay queued', () => {
    const { timer, wake } = policy();
    expect(wake.afterDrain(T0, 3, T0 + 2 * MS)).toBe(WAKE_DEADLINE);
    expect(timer.armedAt).toBe(T0 + 2 * MS);
    expect(timer.period).toBe(0);
    expect(wake.armedAt).toBe(T0 + 2 * MS);
  });

  it('never arms closer than MIN_REARM_NS after now', () => {
    const { timer, wake } = policy();
    wake.afterDrain(T0, 1, T0); // the tree says "now" but sent nothing
    expect(timer.armedAt).toBe(T0 + MIN_REARM_NS);
    wake.afterDrain(T0, 1, T0 - 5 * MS); // a deadline in the past
    expect(timer.arms).toEqual([T0 + MIN_REARM_NS]); // the same instant: not re-armed
  });

  it('does not re-arm when already armed for that instant', () => {
    const { timer, wake } = policy();
    wake.afterDrain(T0, 2, T0 + 2 * MS);
    wake.afterDrain(T0 + 0.5 * MS, 2, T0 + 2 * MS);
    wake.afterDrain(T0 + 1 * MS, 2, T0 + 2 * MS);
    expect(timer.arms).toEqual([T0 + 2 * MS]);
    wake.afterDrain(T0 + 1 * MS, 2, T0 + 3 * MS); // a new deadline replaces the old one
    expect(timer.arms).toEqual([T0 + 2 * MS, T0 + 3 * MS]);
  });

  it('leaves the timer alone for a queue no time-based event will release', () => {
    const { timer, wake } = policy();
    expect(wake.afterDrain(T0, 5, Infinity)).toBe(WAKE_IDLE);
    expect(timer.arms).toEqual([]);
  });

  it('disarms once the tree is empty, and only when armed', () => {
    const { timer, wake } = policy();
    wake.afterDrain(T0, 1, T0 + 2 * MS);
    expect(wake.afterDrain(T0 + 2 * MS, 0, Infinity)).toBe(WAKE_IDLE);
    expect(timer.armed).toBe(false);
    expect(wake.armedAt).toBe(Infinity);
  });

  it('a fired deadline is spent: fired() says it was not a tick, and the same deadline arms again', () => {
    const { timer, wake } = policy();
    wake.afterDrain(T0, 1, T0 + 2 * MS);
    timer.runDue(T0 + 2 * MS);
    expect(wake.fired(T0 + 2 * MS)).toBe(false);
    expect(wake.armedAt).toBe(Infinity);
    wake.afterDrain(T0 + 2 * MS, 1, T0 + 4 * MS);
    expect(timer.arms).toEqual([T0 + 2 * MS, T0 + 4 * MS]);
  });

  it('close() disarms and releases the timer', () => {
    const { timer, wake } = policy();
    wake.afterDrain(T0, 1, T0 + 2 * MS);
    wake.close();
    expect(timer.closed).toBe(true);
    expect(wake.state()).toBe(WAKE_IDLE);
  });

  it('rejects negative intervals', () => {
    expect(() => new WakeupPolicy(new ManualTimer(), -1)).toThrow(/keepWarm/);
    expect(() => new WakeupPolicy(new ManualTimer(), 0, -1)).toThrow(/keepWarm/);
  });
});

describe('WakeupPolicy keep-warm', () => {
  it('starts periodic ticks when packets were read and the tree is empty, armed once', () => {
    const { timer, wake } = policy(1 * MS, 10 * MS);
    wake.packetsRead(T0);
    expect(wake.afterDrain(T0, 0, Infinity)).toBe(WAKE_WARM);
    expect(timer.armedAt).toBe(T0 + 1 * MS);
    expect(timer.period).toBe(1 * MS);
    // every tick drains again: no new timerfd_settime while the window lasts
    for (let t = 1; t < 10; t++) {
      timer.runDue(T0 + t * MS);
      expect(wake.fired(T0 + t * MS)).toBe(true);
      expect(wake.afterDrain(T0 + t * MS, 0, Infinity)).toBe(WAKE_WARM);
    }
    expect(timer.arms).toEqual([T0 + 1 * MS]);
  });

  it('stops the ticks on the first drain after the window has passed', () => {
    const { timer, wake } = policy(1 * MS, 10 * MS);
    wake.packetsRead(T0);
    wake.afterDrain(T0, 0, Infinity);
    expect(wake.afterDrain(T0 + 9.9 * MS, 0, Infinity)).toBe(WAKE_WARM);
    expect(wake.afterDrain(T0 + 10 * MS, 0, Infinity)).toBe(WAKE_IDLE);
    expect(timer.armed).toBe(false);
  });

  it('a packet read within the window moves the window on', () => {
    const { wake } = policy(1 * MS, 10 * MS);
    wake.packetsRead(T0);
    wake.afterDrain(T0, 0, Infinity);
    wake.packetsRead(T0 + 5 * MS);
    expect(wake.afterDrain(T0 + 12 * MS, 0, Infinity)).toBe(WAKE_WARM);
    expect(wake.afterDrain(T0 + 15 * MS, 0, Infinity)).toBe(WAKE_IDLE);
  });

  it('no ticks before any packet was read', () => {
    const { timer, wake } = policy(1 * MS, 10 * MS);
    expect(wake.afterDrain(T0, 0, Infinity)).toBe(WAKE_IDLE);
    expect(timer.arms).toEqual([]);
  });

  it('a throttled deadline closer than one interval is armed one-shot to the nanosecond', () => {
    const { timer, wake } = policy(1 * MS, 10 * MS);
    wake.packetsRead(T0);
    wake.afterDrain(T0, 0, Infinity); // ticks running
    const at = T0 + 0.3 * MS + 7;
    expect(wake.afterDrain(T0 + 0.1 * MS, 2, at)).toBe(WAKE_DEADLINE);
    expect(timer.armedAt).toBe(at);
    expect(timer.period).toBe(0);
    // it fires: not a tick; the next drain goes back to ticking
    timer.runDue(at);
    expect(wake.fired(at)).toBe(false);
    expect(wake.afterDrain(at, 0, Infinity)).toBe(WAKE_WARM);
    expect(timer.armedAt).toBe(at + 1 * MS);
  });

  it('a deadline further than one interval is left to the ticks', () => {
    const { timer, wake } = policy(1 * MS, 10 * MS);
    wake.packetsRead(T0);
    expect(wake.afterDrain(T0, 2, T0 + 5 * MS)).toBe(WAKE_WARM);
    expect(timer.arms).toEqual([T0 + 1 * MS]);
    expect(timer.period).toBe(1 * MS);
  });

  it('does not start ticks while armed for a sooner deadline', () => {
    const { timer, wake } = policy(1 * MS, 10 * MS);
    wake.afterDrain(T0, 1, T0 + 0.5 * MS); // no traffic yet: a plain one-shot
    wake.packetsRead(T0 + 0.1 * MS);
    expect(wake.afterDrain(T0 + 0.1 * MS, 0, Infinity)).toBe(WAKE_DEADLINE); // the deadline comes first
    expect(timer.arms).toEqual([T0 + 0.5 * MS]);
  });

  it('a tick moves armedAt one interval on', () => {
    const { timer, wake } = policy(1 * MS, 10 * MS);
    wake.packetsRead(T0);
    wake.afterDrain(T0, 0, Infinity);
    timer.runDue(T0 + 1 * MS);
    wake.fired(T0 + 1 * MS);
    expect(wake.armedAt).toBe(T0 + 2 * MS);
  });
});
