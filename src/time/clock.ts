/**
 * Time in tunqos is a `Nanos`: a float64 count of nanoseconds on a monotonic clock. A float64 holds
 * integers exactly up to 2^53 ns (104 days of uptime at full precision, then sub-ns rounding only),
 * and arithmetic on plain numbers stays monomorphic and allocation-free on the hot path.
 *
 * Qdiscs never read a clock: the forwarder reads one and passes `now` down (ARCHITECTURE.md, hot-path rule 3).
 * Tests drive a ManualClock with the same code.
 */
export type Nanos = number;

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_SEC = 1_000_000_000;

export interface Clock {
  now(): Nanos;
}

/**
 * CLOCK_MONOTONIC in ns, the clock the timerfd deadlines use. performance.now() reads the same
 * monotonic source (libuv's uv_hrtime) without allocating, unlike process.hrtime() (a new array per
 * call) or hrtime.bigint() (a BigInt); the offset between the two is measured once. A float64 in ms
 * keeps sub-nanosecond resolution for years of uptime.
 */
export class MonotonicClock implements Clock {
  private readonly offset: Nanos;
  constructor() {
    const t = process.hrtime();
    this.offset = t[0] * NS_PER_SEC + t[1] - performance.now() * 1e6;
  }
  now(): Nanos {
    return performance.now() * 1e6 + this.offset;
  }
}

/** A clock that only moves when told to: deterministic tests and simulations. */
export class ManualClock implements Clock {
  private t: Nanos;
  constructor(start: Nanos = 0) {
    this.t = start;
  }
  now(): Nanos {
    return this.t;
  }
  set(t: Nanos): void {
    if (t < this.t) throw new Error(`ManualClock cannot go back in time (${t} < ${this.t})`);
    this.t = t;
  }
  advance(dt: Nanos): Nanos {
    if (dt < 0) throw new Error(`ManualClock cannot advance by a negative amount (${dt})`);
    this.t += dt;
    return this.t;
  }
}
