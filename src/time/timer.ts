/**
 * The wake-up timer: how a throttled qdisc gets the forwarder back at the right time.
 *
 * A shaping qdisc that holds packets but may not send yet returns "nothing" from dequeue and sets
 * `wakeAt` (the kernel's qdisc watchdog, hot-path rule 4). The forwarder, the only owner of timers,
 * arms one WakeupTimer for the root's `wakeAt` (already the minimum over the tree) and, when it fires,
 * reads the clock and dequeues every packet eligible at that instant, as the kernel's
 * qdisc_watchdog → __qdisc_run does (batching: one wake-up may release many packets).
 *
 * An OS timer fires a little late (tens of µs with timerfd + epoll) or, in principle, early. Lateness
 * is harmless: token buckets compute from the actual `now`, so a late wake-up only turns into a burst
 * bounded by the bucket. Early firing is handled by the caller: the qdisc is still throttled, returns
 * nothing and a new `wakeAt`, and the forwarder re-arms.
 *
 * Implementations: TimerfdTimer (src/link/timerfd.ts: timerfd on CLOCK_MONOTONIC, absolute deadlines,
 * the clock MonotonicClock reads) and ManualTimer here, for deterministic tests with a ManualClock.
 */
import type { Nanos } from './clock';

export interface WakeupTimer {
  /**
   * fire at `at` (absolute Nanos of the forwarder's clock); re-arming replaces the deadline. With
   * `period` > 0 it then fires every `period` (the forwarder's keep-warm ticks) until re-armed or
   * disarmed; periods that pass while the process is busy fold into one firing.
   */
  arm(at: Nanos, period?: Nanos): void;
  /** cancel a pending deadline; harmless when not armed */
  disarm(): void;
  /** the callback run at each expiry (one per arm) */
  onFire(cb: () => void): void;
  /** releases the timer; it never fires again */
  close(): void;
}

/**
 * A timer driven by hand: `runDue(now)` fires it when its deadline has passed. Records every arm so
 * tests can assert when the forwarder asked to be woken.
 */
export class ManualTimer implements WakeupTimer {
  /** the pending deadline, Infinity when disarmed */
  armedAt: Nanos = Infinity;
  /** every deadline passed to arm(), in order */
  readonly arms: Nanos[] = [];
  /** the period of the pending arm (0: one-shot) */
  period: Nanos = 0;
  fired = 0;
  closed = false;
  private cb: (() => void) | null = null;

  arm(at: Nanos, period: Nanos = 0): void {
    if (this.closed) throw new Error('ManualTimer: arm after close');
    this.armedAt = at;
    this.period = period > 0 ? period : 0;
    this.arms.push(at);
  }

  disarm(): void {
    this.armedAt = Infinity;
    this.period = 0;
  }

  onFire(cb: () => void): void {
    this.cb = cb;
  }

  close(): void {
    this.closed = true;
    this.armedAt = Infinity;
    this.cb = null;
  }

  get armed(): boolean {
    return this.armedAt !== Infinity;
  }

  /**
   * fires (once) if armed for a time <= now; returns whether it fired. A periodic timer moves on to
   * its first deadline after `now` (missed periods fold into this one firing, as a timerfd's do).
   */
  runDue(now: Nanos): boolean {
    if (this.armedAt === Infinity || this.armedAt > now) return false;
    if (this.period > 0) {
      const missed = Math.floor((now - this.armedAt) / this.period) + 1;
      const next = this.armedAt + missed * this.period;
      this.fired++;
      this.armedAt = next; // before the callback, which may re-arm or disarm
      if (this.cb) this.cb();
      return true;
    }
    return this.fire();
  }

  /** fires now regardless of the deadline (simulates an early or spurious OS timer); false if disarmed */
  fire(): boolean {
    if (this.armedAt === Infinity) return false;
    if (this.period > 0) this.armedAt += this.period;
    else this.armedAt = Infinity;
    this.fired++;
    if (this.cb) this.cb();
    return true;
  }
}
