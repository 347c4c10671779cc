/**
 * TBF: the Token Bucket Filter, a classless shaper (with one grafting point, class MAJOR:1).
 *
 * A bucket of `buffer` nanoseconds' worth of the rate fills with time; sending a packet costs its
 * transmission time at `rate`. The head packet goes when the bucket holds enough, else TBF waits —
 * and never lets a later, shorter packet overtake it (that would reorder). With `peakrate`, a second
 * bucket of `mtu` (minburst) bytes' worth at the peak rate bounds how fast a full bucket drains.
 * Per dequeue, the head packet of the child is charged to the dual bucket of time/token-bucket.ts
 * (sch_tbf.c tbf_dequeue): if both buckets hold enough it is sent and the bucket keeps the new levels,
 * else overlimits++ and TBF wakes up when the emptier bucket will hold enough.
 * Packets longer than `maxSize` (the burst, and minburst with a peak rate) can never be sent and are
 * dropped on arrival (DropReason.TooBig). The queue itself is a child qdisc: a bfifo of `limit` bytes
 * unless another qdisc is grafted onto class MAJOR:1.
 * Parameters: rate (bytes/s), burst (bytes), limit (bytes), mpu/overhead (bytes), linklayer
 * (ethernet | atm), peakrate (bytes/s), mtu/minburst (bytes).
 * Differences from Linux: transmission times are float64 (len × 1e9/rate, time/psched.ts) instead of
 * the kernel's mult/shift approximation (≤ 1 ns apart); GSO segmentation of oversized packets does not
 * apply (a TUN without vnet headers delivers MTU-sized packets).
 * Reference: net/sched/sch_tbf.c, include/net/sch_generic.h (psched_l2t_ns), tc/q_tbf.c, tc-tbf(8).
 */
import type { Classifier } from '../classify/classifier';
import type { Nanos } from '../time/clock';
import { pschedL2t, pschedNsPerByte } from '../time/psched';
import { TokenBucket } from '../time/token-bucket';
import { QdiscBase, qdiscDrop } from './base';
import { attachChild, dequeueChild, enqueueChild, graftChild } from './child';
import { Fifo } from './fifo';
import { type ClassfulQdisc, type Qdisc, type QdiscClass, type QdiscEnv, tcHandle, tcMajor } from './qdisc';
import { DROP_REASON_NAMES, DropReason, type QdiscStats } from './stats';

export { LINKLAYER_ATM, LINKLAYER_ETHERNET } from '../time/psched';

export interface TbfOptions {
  /** bytes per second */
  rate: number;
  /** bucket size, bytes */
  burst: number;
  /** child bfifo limit, bytes */
  limit: number;
  /** peak rate, bytes per second; 0 = none */
  peakrate: number;
  /** peak bucket (mtu/minburst), bytes; 0 when no peak rate */
  mtu: number;
  mpu: number;
  overhead: number;
  linklayer: number;
}

/** The one class of a TBF (MAJOR:1); its statistics are the child's. */
export class TbfClass implements QdiscClass {
  readonly classid: number;
  readonly parentid: number;
  filters: Classifier | null = null;
  constructor(
    private readonly q: Tbf,
    classid: number,
  ) {
    this.classid = classid;
    this.parentid = q.handle;
  }
  get leaf(): Qdisc {
    return this.q.child;
  }
  get stats(): QdiscStats {
    return this.q.child.stats;
  }
}

export class Tbf extends QdiscBase implements ClassfulQdisc {
  opts: TbfOptions;
  child: Qdisc;
  /** the child's drops by reason already carried into this qdisc's counters */
  private readonly seenDrops = new Float64Array(DROP_REASON_NAMES.length);
  /** the rate bucket (`burst` at `rate`) and the peak bucket (`mtu` at `peakrate`) */
  readonly bucket = new TokenBucket();
  /** largest packet that can ever be sent, bytes */
  maxSize = 0;
  private readonly cls: TbfClass;

  constructor(handle: number, env: QdiscEnv, opts: TbfOptions) {
    super('tbf', handle, env);
    this.opts = opts;
    this.child = this.defaultChild(opts.limit);
    this.cls = new TbfClass(this, tcHandle(tcMajor(handle), 1));
    this.applyParams(opts);
  }

  private defaultChild(limit: number): Qdisc {
    const c = new Fifo('bfifo', 0, this.env, { limit });
    attachChild(this, c, tcHandle(tcMajor(this.handle), 1), null);
    return c;
  }

  private applyParams(o: TbfOptions): void {
    const rateNs = pschedNsPerByte(o.rate);
    const buffer = pschedL2t(o.burst, rateNs, o.overhead, o.mpu, o.linklayer);
    this.maxSize = o.burst;
    let peakNs = 0;
    let mtuTime = 0;
    if (o.peakrate > 0) {
      peakNs = pschedNsPerByte(o.peakrate);
      mtuTime = pschedL2t(o.mtu, peakNs, o.overhead, o.mpu, o.linklayer);
      if (o.mtu < this.maxSize) this.maxSize = o.mtu;
    }
    this.bucket.configure(buffer, mtuTime, rateNs, peakNs, o.overhead, o.mpu, o.linklayer);
  }

  /**
   * `tc qdisc change`: new parameters; queued packets stay. As in Linux (fifo_set_limit) the default
   * bfifo only gets the new limit, so a smaller limit drops nothing already queued. Buckets refill.
   */
  change(o: TbfOptions): void {
    this.opts = o;
    if (this.child instanceof Fifo && this.child.kind === 'bfifo') this.child.setLimit(o.limit);
    this.applyParams(o);
  }

  enqueue(pkt: number, now: Nanos): number {
    const arena = this.env.arena;
    if (arena.len[pkt] > this.maxSize) return qdiscDrop(this.stats, arena, pkt, DropReason.TooBig);
    return enqueueChild(this.stats, this.child, this.seenDrops, pkt, now);
  }

  dequeue(now: Nanos): number {
    if (this.stats.qlen === 0) {
      this.wakeAt = Infinity;
      return -1;
    }
    const head = this.child.peek(now);
    if (head < 0) {
      // the child itself is throttled (a grafted shaper)
      this.wakeAt = this.child.wakeAt;
      return -1;
    }
    if (!this.bucket.conforms(this.env.arena.len[head], now)) {
      this.wakeAt = now + this.bucket.wait;
      this.stats.overlimits++;
      return -1;
    }
    const pkt = dequeueChild(this.stats, this.child, now);
    if (pkt < 0) {
      this.wakeAt = this.child.wakeAt;
      return -1;
    }
    this.bucket.commit(now);
    this.stats.countSent(this.env.arena.len[pkt]);
    this.wakeAt = Infinity;
    return pkt;
  }

  peek(now: Nanos): number {
    if (this.stats.qlen === 0) return -1;
    const head = this.child.peek(now);
    if (head < 0) return -1;
    return this.bucket.conforms(this.env.arena.len[head], now) ? head : -1;
  }

  classes(): QdiscClass[] {
    return [this.cls];
  }

  getClass(classid: number): QdiscClass | undefined {
    return classid === this.cls.classid ? this.cls : undefined;
  }

  graft(classid: number, child: Qdisc | null): Qdisc | null {
    if (classid !== this.cls.classid) throw new RangeError(`tbf: no class ${classid.toString(16)}`);
    const old = this.child;
    const next = child ?? this.defaultChild(this.opts.limit);
    graftChild(this, old, next, classid, this.seenDrops);
    this.child = next;
    return old;
  }

  reset(): void {
    this.child.reset(); // reports through childReduced
    this.bucket.tC = 0;
    this.bucket.fill();
    this.wakeAt = Infinity;
  }
}
