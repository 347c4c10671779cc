/**
 * PRIO: strict-priority bands, each a class holding any child qdisc (a "super pfifo_fast").
 *
 * Classification (prio_classify): when the packet's priority already names this qdisc
 * (major == handle), the band is its minor − 1. Otherwise the qdisc's filters run: a shot verdict
 * drops the packet; a result selects band `minor(classid) − 1` (Linux looks only at the minor, not
 * the major); no filter or no match falls back to `priomap[priority & 15]`, where a priority with a
 * major part counts as 0. A band past the last one becomes `priomap[0]`.
 * Dequeue is strict: band 0 is asked first, band 1 only if band 0 yields nothing, and so on. A child
 * that is throttled (a TBF) simply yields nothing; when no band yields, `wakeAt` is the earliest of
 * the children's.
 * Parameters: `bands` 2..16 (default 3), `priomap` of 16 band numbers (default
 * 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1). Classes MAJOR:1 .. MAJOR:bands exist from creation; their leaves
 * are pfifo (limit txqueuelen) until another qdisc is grafted. Class statistics are the leaf's.
 * Differences from Linux: `multiqueue` is not offered (one TUN queue).
 * Reference: net/sched/sch_prio.c, tc/q_prio.c, tc-prio(8), LARTC §9.5.3.
 */
import { CLS_NOMATCH, CLS_SHOT, type Classifier } from '../classify/classifier';
import type { Nanos } from '../time/clock';
import { QdiscBase, qdiscDrop } from './base';
import { attachChild, dequeueChild, detachChild, enqueueChild, graftChild } from './child';
import { Fifo } from './fifo';
import { DEFAULT_PRIOMAP } from './pfifo_fast';
import { type ClassfulQdisc, type Qdisc, type QdiscClass, type QdiscEnv, tcHandle, tcMajor, tcMinor } from './qdisc';
import { DropReason, type QdiscStats } from './stats';

export const TCQ_PRIO_BANDS = 16;
export const TCQ_MIN_PRIO_BANDS = 2;

export interface PrioOptions {
  bands: number;
  /** 16 entries, each < bands */
  priomap: number[];
}

export function defaultPrioOptions(): PrioOptions {
  return { bands: 3, priomap: [...DEFAULT_PRIOMAP] };
}

/** One band seen as a tc class; its statistics are its leaf qdisc's (prio_dump_class_stats). */
export class PrioBand implements QdiscClass {
  readonly classid: number;
  readonly parentid: number;
  filters: Classifier | null = null;
  leaf: Qdisc;
  constructor(classid: number, parentid: number, leaf: Qdisc) {
    this.classid = classid;
    this.parentid = parentid;
    this.leaf = leaf;
  }
  get stats(): QdiscStats {
    return this.leaf.stats;
  }
}

export class Prio extends QdiscBase implements ClassfulQdisc {
  bands: number;
  readonly priomap = new Uint8Array(16);
  private bandList: PrioBand[] = [];
  /** the leaf of each band, as a plain array for the hot path */
  private leaves: Qdisc[] = [];
  /** per band: the leaf's drops by reason already carried into this qdisc's counters */
  private seenDrops: Float64Array[] = [];

  constructor(handle: number, env: QdiscEnv, opts: PrioOptions = defaultPrioOptions()) {
    super('prio', handle, env);
    this.bands = 0;
    this.tune(opts);
  }

  /**
   * New bands/priomap (prio_tune): bands removed are purged (reported upwards), bands added get a
   * default pfifo. Queued packets in kept bands stay.
   */
  tune(opts: PrioOptions): void {
    if (opts.bands < TCQ_MIN_PRIO_BANDS || opts.bands > TCQ_PRIO_BANDS) throw new RangeError(`prio: bands must be 2..16, got ${opts.bands}`);
    for (let i = 0; i < 16; i++) {
      const b = opts.priomap[i] ?? 0;
      if (b >= opts.bands) throw new RangeError(`prio: priomap element ${b} is out of bands`);
    }
    for (let i = this.bands - 1; i >= opts.bands; i--) {
      detachChild(this, this.bandList[i].leaf, true);
    }
    this.bandList.length = Math.min(this.bandList.length, opts.bands);
    for (let i = this.bands; i < opts.bands; i++) {
      const classid = tcHandle(tcMajor(this.handle), i + 1);
      this.bandList.push(new PrioBand(classid, this.handle, this.defaultLeaf(classid)));
    }
    this.bands = opts.bands;
    for (let i = 0; i < 16; i++) this.priomap[i] = opts.priomap[i] ?? 0;
    this.leaves = this.bandList.map((b) => b.leaf);
    this.seenDrops = this.leaves.map((l) => Float64Array.from(l.stats.dropsByReason));
  }

  private defaultLeaf(classid: number): Qdisc {
    const leaf = new Fifo('pfifo', 0, this.env);
    attachChild(this, leaf, classid, null);
    return leaf;
  }

  /** The band packet `pkt` belongs in, or -1 when a filter shot it, -2 when classification failed. */
  classify(pkt: number, now: Nanos): number {
    const priority = this.env.arena.priority[pkt];
    let band: number;
    if (tcMajor(priority) !== tcMajor(this.handle) || tcMajor(this.handle) === 0) {
      const res = this.filters ? this.filters.classify(pkt, now) : CLS_NOMATCH;
      if (res === CLS_SHOT) return -1;
      if (res < 0) {
        const p = tcMajor(priority) !== 0 ? 0 : priority;
        return this.priomap[p & 15];
      }
      band = tcMinor(res) - 1;
    } else {
      band = tcMinor(priority) - 1;
    }
    // minor 0 gives -1, which as an unsigned band is out of range too
    if (band < 0 || band >= this.bands) return this.priomap[0];
    return band;
  }

  enqueue(pkt: number, now: Nanos): number {
    const band = this.classify(pkt, now);
    if (band < 0) return qdiscDrop(this.stats, this.env.arena, pkt, DropReason.Police);
    return enqueueChild(this.stats, this.leaves[band], this.seenDrops[band], pkt, now);
  }

  dequeue(now: Nanos): number {
    let wake = Infinity;
    const leaves = this.leaves;
    for (let i = 0; i < leaves.length; i++) {
      const child = leaves[i];
      if (child.stats.qlen === 0) continue;
      const pkt = dequeueChild(this.stats, child, now);
      if (pkt >= 0) {
        this.stats.countSent(this.env.arena.len[pkt]);
        this.wakeAt = Infinity;
        return pkt;
      }
      if (child.wakeAt < wake) wake = child.wakeAt;
    }
    this.wakeAt = wake;
    return -1;
  }

  peek(now: Nanos): number {
    const leaves = this.leaves;
    for (let i = 0; i < leaves.length; i++) {
      if (leaves[i].stats.qlen === 0) continue;
      const pkt = leaves[i].peek(now);
      if (pkt >= 0) return pkt;
    }
    return -1;
  }

  classes(): QdiscClass[] {
    return this.bandList.slice();
  }

  getClass(classid: number): QdiscClass | undefined {
    if (tcMajor(classid) !== tcMajor(this.handle)) return undefined;
    const minor = tcMinor(classid);
    return minor >= 1 && minor <= this.bands ? this.bandList[minor - 1] : undefined;
  }

  /** the band (0-based) of class `classid`, or -1 */
  bandOf(classid: number): number {
    const c = this.getClass(classid);
    return c ? tcMinor(classid) - 1 : -1;
  }

  graft(classid: number, child: Qdisc | null): Qdisc | null {
    const band = this.bandOf(classid);
    if (band < 0) throw new RangeError(`prio: no class ${classid.toString(16)}`);
    const cls = this.bandList[band];
    const old = cls.leaf;
    const next = child ?? this.defaultLeaf(classid);
    graftChild(this, old, next, classid, this.seenDrops[band]);
    cls.leaf = next;
    this.leaves[band] = next;
    return old;
  }

  reset(): void {
    for (const leaf of this.leaves) leaf.reset(); // each reports through childReduced
  }
}
