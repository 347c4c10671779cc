/**
 * WakeupPolicy: when the forwarder's timer fires, and why. The forwarder moves packets; this decides,
 * after every drain, whether to sleep until something happens, to come back at the tree's deadline,
 * or to keep ticking so the path stays warm (smoltcp's `poll` / `poll_at` split: what to do now apart
 * from when to come back; Linux keeps `qdisc_watchdog` apart from `__qdisc_run` the same way).
 *
 * After a drain, `afterDrain(now, qlen, wakeAt)` puts the timer in one of three states:
 *  - WAKE_IDLE: disarmed. Nothing is queued (or nothing time-based will release what is) and no
 *    traffic was read within the keep-warm window: the next packet's readable event wakes us.
 *  - WAKE_DEADLINE: one-shot at the tree's `wakeAt` (the root's minimum over the tree), never closer
 *    than MIN_REARM_NS after `now`, so a tree that says "now" but sent nothing cannot spin. Already armed
 *    for that instant: no new timerfd_settime().
 *  - WAKE_WARM: keep-warm ticks, periodic every `keepWarm`, while packets were read in the last
 *    `keepWarmWindow`. A throttled tree whose deadline comes sooner than one interval is armed one-shot
 *    for that deadline to the nanosecond instead (the drain after it decides again); a later deadline
 *    is reached by the ticks, each of which drains. Ticks start with one timerfd_settime() when sparse
 *    traffic begins, none per packet or per tick after that, and stop on the first drain after the
 *    window has passed.
 *
 * Why keep warm at all: the first packet after the process slept pays for waking from epoll, entering
 * V8 from libuv and caches and TLB gone cold; a tick walks that same path and keeps it resident, and
 * changes nothing about what is sent or when (it only reads and drains, as a readable event would).
 * The figures that motivated it are in bench/NOTES.md ("Keep-warm"). This is the user-space cousin of
 * the kernel's busy polling (SO_BUSY_POLL), which spins instead of ticking.
 *
 * Hot path: afterDrain runs after every read batch. It is a plain method on preallocated state: no
 * allocation, no closure, integers and floats only.
 */
import type { Nanos } from '../time/clock';
import type { WakeupTimer } from '../time/timer';

/** Never arm a timer closer than this after `now` when the tree says "now" but sent nothing. */
export const MIN_REARM_NS = 1_000;

/** Default keep-warm window: ticks go on for this long after the last packet read. */
export const DEFAULT_KEEP_WARM_WINDOW_NS = 1e9;

/** The timer is disarmed: wait for a readable event. */
export const WAKE_IDLE = 0;
/** The timer is armed one-shot for the tree's deadline. */
export const WAKE_DEADLINE = 1;
/** The timer runs periodic keep-warm ticks. */
export const WAKE_WARM = 2;

export class WakeupPolicy {
  /** the deadline the timer is armed for, Infinity when not armed */
  armedAt: Nanos = Infinity;
  /** true while the timer runs periodic keep-warm ticks rather than waiting for the tree's wakeAt */
  armedForWarmth = false;
  /** clock time of the last read that returned packets (-Infinity: none yet) */
  lastRxAt: Nanos = -Infinity;
  readonly timer: WakeupTimer;
  /** longest sleep while traffic is recent, in ns (0: keep-warm off) */
  readonly keepWarm: Nanos;
  /** how long after the last packet read the keep-warm ticks go on, in ns */
  readonly keepWarmWindow: Nanos;

  constructor(timer: WakeupTimer, keepWarm: Nanos = 0, keepWarmWindow: Nanos = DEFAULT_KEEP_WARM_WINDOW_NS) {
    if (!(keepWarm >= 0) || !(keepWarmWindow >= 0)) throw new RangeError('keepWarm and keepWarmWindow must be non-negative');
    this.timer = timer;
    this.keepWarm = keepWarm;
    this.keepWarmWindow = keepWarmWindow;
  }

  /** A read returned packets at `now`: the keep-warm window starts again. */
  packetsRead(now: Nanos): void {
    this.lastRxAt = now;
  }

  /**
   * The timer fired at `now`. Returns true for a keep-warm tick (the periodic timer stays armed, its
   * next expiry one interval on; the caller reads then drains), false for the tree's deadline (the
   * one-shot is spent; the caller drains).
   */
  fired(now: Nanos): boolean {
    if (this.armedForWarmth) {
      this.armedAt = now + this.keepWarm;
      return true;
    }
    this.armedAt = Infinity;
    return false;
  }

  /**
   * After a drain at `now` that left `qlen` packets in a tree whose earliest deadline is `wakeAt`:
   * arms, keeps or disarms the timer. Returns WAKE_IDLE, WAKE_DEADLINE or WAKE_WARM, the state the
   * timer is in afterwards.
   */
  afterDrain(now: Nanos, qlen: number, wakeAt: Nanos): number {
    const warm = this.keepWarm > 0 && now - this.lastRxAt < this.keepWarmWindow;
    if (qlen > 0) this.armFor(wakeAt, now, warm);
    else if (warm) this.armWarm(now);
    else if (this.armedAt !== Infinity) {
      this.timer.disarm();
      this.armedAt = Infinity;
      this.armedForWarmth = false;
    }
    return this.state();
  }

  /** WAKE_IDLE, WAKE_DEADLINE or WAKE_WARM. */
  state(): number {
    if (this.armedAt === Infinity) return WAKE_IDLE;
    return this.armedForWarmth ? WAKE_WARM : WAKE_DEADLINE;
  }

  /** Disarms and releases the timer; it never fires again. */
  close(): void {
    this.timer.disarm();
    this.timer.close();
    this.armedAt = Infinity;
    this.armedForWarmth = false;
  }

  /** Arms for the tree's deadline `at`; while warm, no later than one keep-warm interval away. */
  private armFor(at: Nanos, now: Nanos, warm: boolean): void {
    if (warm && at > now + this.keepWarm) {
      this.armWarm(now);
      return;
    }
    if (at === Infinity) return; // queued but nothing time-based will release it: the next arrival will
    if (at < now + MIN_REARM_NS) at = now + MIN_REARM_NS;
    if (at === this.armedAt && !this.armedForWarmth) return;
    this.timer.arm(at);
    this.armedAt = at;
    this.armedForWarmth = false;
  }

  /**
   * Starts periodic keep-warm ticks, unless they run already or the tree's own deadline comes sooner
   * (the drain after it decides again).
   */
  private armWarm(now: Nanos): void {
    if (this.armedForWarmth || this.armedAt <= now + this.keepWarm) return;
    const at = now + this.keepWarm;
    this.timer.arm(at, this.keepWarm);
    this.armedAt = at;
    this.armedForWarmth = true;
  }
}
