/**
 * Sojourn-time histograms: how long packets waited in the qdisc tree (dequeue time − arena.enqTime).
 *
 * The forwarder calls `observe(ns)` once per dequeued packet, so it must be cheap and allocation-free:
 * the bucket bounds are a fixed Float64Array of nanoseconds and the counts another Float64Array; an
 * observation is a short linear scan (most packets land in the first buckets) and two additions.
 * Prometheus reads the counts at scrape time (src/control/metrics.ts) as a histogram: cumulative
 * `le` buckets, `_sum` and `_count`, in seconds.
 *
 * The default buckets run from 100 µs to 2.5 s and include the tutorial's
 * [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0] s (seeds.md §5.1), so its SLA query on `le="0.05"`
 * works unchanged. CoDel's 5 ms target sits on a bucket boundary.
 *
 * Reference: prometheus histogram semantics (a bucket counts observations ≤ its bound).
 */
import type { Nanos } from '../time/clock';

export const DEFAULT_SOJOURN_BUCKETS_S: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

export class SojournHistogram {
  /** upper bounds in seconds, as given (for labels) */
  readonly boundsSeconds: readonly number[];
  /** upper bounds in ns, inclusive */
  readonly boundsNs: Float64Array;
  /** per-bucket counts, NOT cumulative; the last slot is the +Inf bucket */
  readonly counts: Float64Array;
  /** sum of observations in ns */
  sum = 0;
  count = 0;

  constructor(bucketsSeconds: readonly number[] = DEFAULT_SOJOURN_BUCKETS_S) {
    if (bucketsSeconds.length === 0) throw new RangeError('a sojourn histogram needs at least one bucket');
    for (let i = 0; i < bucketsSeconds.length; i++) {
      const b = bucketsSeconds[i];
      if (!(b > 0) || !Number.isFinite(b) || (i > 0 && b <= bucketsSeconds[i - 1])) {
        throw new RangeError(`sojourn buckets must be finite, positive and increasing, got [${bucketsSeconds.join(', ')}]`);
      }
    }
    this.boundsSeconds = [...bucketsSeconds];
    this.boundsNs = Float64Array.from(bucketsSeconds, (s) => s * 1e9);
    this.counts = new Float64Array(bucketsSeconds.length + 1);
  }

  /** Records one packet's sojourn (ns). A negative or NaN value (a clock bug) counts as 0. */
  observe(ns: Nanos): void {
    const v = ns >= 0 ? ns : 0;
    const bounds = this.boundsNs;
    const n = bounds.length;
    let i = 0;
    while (i < n && v > bounds[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }

  /** Cumulative counts per bound, then +Inf (scrape time; allocates). */
  cumulative(): number[] {
    const out: number[] = new Array(this.counts.length);
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i];
      out[i] = acc;
    }
    return out;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * One histogram per class of a link, keyed by the classid the classifier wrote into
 * `arena.classid[pkt]` (0 when the root is classless). A histogram is created the first time a class
 * is seen; after that `observe` is a Map lookup (cached for runs of the same class) and never allocates.
 */
export class SojournTable {
  readonly bucketsSeconds: readonly number[];
  private readonly byClass = new Map<number, SojournHistogram>();
  private lastClass = -1;
  private last: SojournHistogram | null = null;

  constructor(bucketsSeconds: readonly number[] = DEFAULT_SOJOURN_BUCKETS_S) {
    this.bucketsSeconds = bucketsSeconds;
    new SojournHistogram(bucketsSeconds); // validates the buckets now, not on the first packet
  }

  observe(classid: number, ns: Nanos): void {
    let h = this.last;
    if (classid !== this.lastClass || h === null) {
      h = this.byClass.get(classid) ?? null;
      if (h === null) {
        h = new SojournHistogram(this.bucketsSeconds);
        this.byClass.set(classid, h);
      }
      this.lastClass = classid;
      this.last = h;
    }
    h.observe(ns);
  }

  get(classid: number): SojournHistogram | undefined {
    return this.byClass.get(classid);
  }

  entries(): IterableIterator<[number, SojournHistogram]> {
    return this.byClass.entries();
  }
}
