/**
 * WakeupTimer on a Linux timerfd (native addon): CLOCK_MONOTONIC, armed with absolute deadlines
 * (TFD_TIMER_ABSTIME), watched by uv_poll, so the event loop wakes within tens of microseconds without
 * spinning and without setTimeout's millisecond granularity. CLOCK_MONOTONIC is the clock
 * process.hrtime() reads, so deadlines are MonotonicClock Nanos as they are.
 *
 * Arming costs one timerfd_settime() syscall; re-arming for the same deadline is skipped by the
 * forwarder. A periodic timer (the forwarder's keep-warm ticks) is armed once and then costs only the
 * read() that clears each expiry. The timer keeps the process alive only while armed.
 *
 * Layering: this is the one link → time edge, kept on purpose. The contract (WakeupTimer, in Nanos of
 * the forwarder's clock) belongs to time/, beside ManualTimer and the clocks it is read against; the
 * implementation must live in link/, the only folder that loads the addon. time/ depends on nothing,
 * so the edge cannot make a cycle.
 */
import type { Nanos } from '../time/clock';
import type { WakeupTimer } from '../time/timer';
import { type NativeTimer, loadNative } from './native';

export class TimerfdTimer implements WakeupTimer {
  private cb: (() => void) | null = null;
  private timer: NativeTimer | null;

  constructor() {
    const native = loadNative();
    // One bound method for the timer's lifetime: nothing allocated per expiry.
    this.timer = new native.Timer(this.fireNow);
  }

  private readonly fireNow = (): void => {
    if (this.cb) this.cb();
  };

  arm(at: Nanos, period: Nanos = 0): void {
    if (!this.timer) throw new Error('timerfd timer is closed');
    this.timer.arm(at, period);
  }

  disarm(): void {
    if (this.timer) this.timer.disarm();
  }

  onFire(cb: () => void): void {
    this.cb = cb;
  }

  close(): void {
    if (this.timer) {
      this.timer.close();
      this.timer = null;
    }
    this.cb = null;
  }
}
