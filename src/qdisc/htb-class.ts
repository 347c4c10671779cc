/**
 * The pieces HTB is built from: a class (its two token buckets, its mode, its place in the rows and
 * feeds), the "id lists" that hold active classes in classid order with a round-robin pointer, and
 * the per-level wait queue of classes whose mode will change at a known time.
 *
 * A class has two buckets, both counted in nanoseconds of transmission time (as Linux does since 3.8):
 * `tokens` fill at `rate` up to `buffer` (the burst expressed as time), `ctokens` fill at `ceil` up to
 * `cbuffer`. Sending `len` bytes costs len × 1e9 / rate ns (after overhead, mpu and ATM cells). Its mode:
 *   CAN_SEND    tokens ≥ 0 (and ctokens ≥ 0): sends on its own rate;
 *   MAY_BORROW  tokens < 0 but ctokens ≥ 0: may send only by borrowing from an ancestor;
 *   CANT_SEND   ctokens < 0: over its ceil, waits.
 *
 * Linux keeps the active classes of a row or of an inner class's feed in red-black trees sorted by
 * classid, with a pointer to the class whose turn it is. Here an IdList is a sorted Int32Array of class
 * minors with the pointer as a position (position == count stands for Linux's NULL pointer, "past the
 * end"); inserting and removing move the tail with copyWithin (a memmove), which for a thousand classes
 * costs less than an rb-tree rebalance in JS and never allocates. The wait queue is a binary heap keyed
 * by (event time, insertion order), so equal times pop in insertion order as the kernel's rb-tree does.
 *
 * Reference: net/sched/sch_htb.c (struct htb_class, htb_prio, htb_add_to_id_tree,
 * htb_add_to_wait_tree, htb_lookup_leaf), Linux 6.18.
 */
import type { Classifier } from '../classify/classifier';
import type { Nanos } from '../time/clock';
import { LINKLAYER_ATM, LINKLAYER_ETHERNET, pschedL2t } from '../time/psched';
import type { Qdisc, QdiscClass } from './qdisc';
import { DROP_REASON_NAMES, QdiscStats } from './stats';

export const HTB_CANT_SEND = 0;
export const HTB_MAY_BORROW = 1;
export const HTB_CAN_SEND = 2;
export const TC_HTB_NUMPRIO = 8;
export const TC_HTB_MAXDEPTH = 8;
/** "max wait time": caps the time credited at once and the depth of the token debt (Linux: 60 s) */
export const HTB_MBUFFER: Nanos = 60e9;

/** Classes in classid order with a round-robin pointer: one row (level, prio) or one feed (class, prio). */
export class IdList {
  items: Int32Array;
  count = 0;
  /** position of the class whose turn it is; `count` means "past the end" (Linux: ptr == NULL) */
  ptr = 0;
  /** feeds only: minor of the class the pointer was on when it left the feed (Linux last_ptr_id), 0 none */
  pid = 0;

  constructor(capacity: number) {
    this.items = new Int32Array(Math.max(4, capacity));
  }

  /** setup time: room for `n` members */
  reserve(n: number): void {
    if (n <= this.items.length) return;
    const next = new Int32Array(Math.max(n, this.items.length * 2));
    next.set(this.items.subarray(0, this.count));
    this.items = next;
  }

  /** first position whose minor is >= `minor` (Linux htb_id_find_next_upper) */
  lowerBound(minor: number): number {
    let lo = 0;
    let hi = this.count;
    const a = this.items;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] < minor) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(minor: number): void {
    if (this.count === this.items.length) this.reserve(this.count * 2); // only if setup under-reserved
    const pos = this.lowerBound(minor);
    const a = this.items;
    if (pos < this.count) a.copyWithin(pos + 1, pos, this.count);
    a[pos] = minor;
    this.count++;
    // The pointer stays on the same class (or stays past the end).
    if (pos <= this.ptr) this.ptr++;
  }

  /** removes `minor` from a row: if it had the turn, the turn passes to the next class (rb_next) */
  removeRow(minor: number): void {
    const pos = this.removeAt(minor);
    if (pos >= 0 && pos < this.ptr) this.ptr--;
  }

  /**
   * removes `minor` from a feed: if it had the turn, the pointer is forgotten but its minor remembered,
   * so that the next lookup resumes at the first class with a minor >= it (htb_deactivate_prios)
   */
  removeFeed(minor: number): void {
    const pos = this.removeAt(minor);
    if (pos < 0) return;
    if (pos < this.ptr) this.ptr--;
    else if (pos === this.ptr) {
      this.pid = minor;
      this.ptr = this.count;
    }
  }

  /** the turn passes to the next class in classid order (htb_next_rb_node: nothing when past the end) */
  advance(): void {
    if (this.ptr < this.count) this.ptr++;
  }

  clear(): void {
    this.count = 0;
    this.ptr = 0;
    this.pid = 0;
  }

  private removeAt(minor: number): number {
    const pos = this.lowerBound(minor);
    if (pos >= this.count || this.items[pos] !== minor) return -1;
    this.items.copyWithin(pos, pos + 1, this.count);
    this.count--;
    return pos;
  }
}

/** One HTB class. Every field is initialised here so that all classes share one hidden class. */
export class HtbClass implements QdiscClass {
  readonly classid: number;
  readonly minor: number;
  /** parent class id, or the qdisc's handle for a top-level class (QdiscClass contract) */
  parentid: number;
  parent: HtbClass | null;
  /** 0 for leaves; a root with children is 7, each generation below one less */
  level = 0;
  children = 0;
  leaf: Qdisc | null = null;
  filters: Classifier | null = null;
  readonly stats = new QdiscStats();
  /** CBQ mapped onto HTB only: this class as a split node, TC_PRIO priority → class minor (0 none) */
  defaults: Int32Array | null = null;

  // Configuration (bytes/s, ns, bytes).
  rate = 0;
  ceil = 0;
  buffer: Nanos = 0;
  cbuffer: Nanos = 0;
  mbuffer: Nanos = HTB_MBUFFER;
  prio = 0;
  quantum = 0;
  /** the quantum was given explicitly (no r2q derivation) */
  userQuantum = false;
  overhead = 0;
  mpu = 0;
  atm = false;
  /** tc's `mtu` (default 1600): only used for default bursts and shown by `tc -d` */
  mtu = 1600;
  /** ns per byte at rate and ceil (1e9 / rate), precomputed */
  rateNs = 0;
  ceilNs = 0;

  // State.
  tokens: Nanos = 0;
  ctokens: Nanos = 0;
  /** checkpoint: when tokens/ctokens were last brought up to date */
  tc: Nanos = 0;
  cmode = HTB_CAN_SEND;
  /** wait queue: when the mode changes next, insertion order, position in the heap (-1: not queued) */
  pqKey: Nanos = 0;
  pqSeq = 0;
  heapIdx = -1;
  /** bit p set: the class (or a descendant leaf) is active at priority p */
  prioActivity = 0;
  /** DRR deficit of a leaf, per level at which it was served */
  readonly deficit = new Float64Array(TC_HTB_MAXDEPTH);
  /** inner classes: active children per priority (Linux inner.clprio[prio].feed) */
  readonly feeds: IdList[] = [];

  // xstats (tc -s: lended, borrowed, giants).
  lends = 0;
  borrows = 0;
  /** Linux has not counted giants since rate tables went away (3.8); kept for the tc output */
  giants = 0;
  /** the leaf's dropsByReason as last absorbed into the qdisc's counters */
  readonly seenDrops = new Float64Array(DROP_REASON_NAMES.length);

  constructor(classid: number, parentid: number, parent: HtbClass | null) {
    this.classid = classid;
    this.minor = classid & 0xffff;
    this.parentid = parentid;
    this.parent = parent;
    for (let p = 0; p < TC_HTB_NUMPRIO; p++) this.feeds.push(new IdList(4));
  }

  /** psched_l2t_ns: transmission time of `len` bytes at ns-per-byte `nsPerByte` (rateNs or ceilNs) */
  cost(len: number, nsPerByte: number): Nanos {
    return pschedL2t(len, nsPerByte, this.overhead, this.mpu, this.atm ? LINKLAYER_ATM : LINKLAYER_ETHERNET);
  }
}

/** The events of one level: classes that are not CAN_SEND, keyed by the time their mode changes. */
export class WaitQueue {
  heap: HtbClass[] = [];
  size = 0;
  private seq = 0;
  private readonly none: HtbClass;

  constructor(sentinel: HtbClass) {
    this.none = sentinel;
  }

  /** setup time: room for `n` classes, so that push never grows the array on the hot path */
  reserve(n: number): void {
    while (this.heap.length < n) this.heap.push(this.none);
  }

  first(): HtbClass | null {
    return this.size > 0 ? this.heap[0] : null;
  }

  push(cl: HtbClass): void {
    cl.pqSeq = this.seq++;
    if (this.size === this.heap.length) this.heap.push(cl);
    this.heap[this.size] = cl;
    cl.heapIdx = this.size;
    this.size++;
    this.up(cl.heapIdx);
  }

  remove(cl: HtbClass): void {
    const i = cl.heapIdx;
    if (i < 0) return;
    cl.heapIdx = -1;
    this.size--;
    if (i === this.size) {
      this.heap[i] = this.none;
      return;
    }
    const last = this.heap[this.size];
    this.heap[this.size] = this.none;
    this.heap[i] = last;
    last.heapIdx = i;
    this.up(i);
    this.down(last.heapIdx);
  }

  clear(): void {
    for (let i = 0; i < this.size; i++) {
      this.heap[i].heapIdx = -1;
      this.heap[i] = this.none;
    }
    this.size = 0;
  }

  private less(a: HtbClass, b: HtbClass): boolean {
    return a.pqKey < b.pqKey || (a.pqKey === b.pqKey && a.pqSeq < b.pqSeq);
  }

  private up(i: number): void {
    const h = this.heap;
    const cl = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(cl, h[p])) break;
      h[i] = h[p];
      h[i].heapIdx = i;
      i = p;
    }
    h[i] = cl;
    cl.heapIdx = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = this.size;
    const cl = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1], h[c])) c++;
      if (!this.less(h[c], cl)) break;
      h[i] = h[c];
      h[i].heapIdx = i;
      i = c;
    }
    h[i] = cl;
    cl.heapIdx = i;
  }
}

/**
 * htb_accnt_tokens: the rate bucket of `cl` after `diff` ns of credit (already capped at mbuffer)
 * and `len` bytes sent: full at `buffer`, and never deeper in debt than mbuffer.
 */
export function accountTokens(cl: HtbClass, len: number, diff: Nanos): void {
  let toks = diff + cl.tokens;
  if (toks > cl.buffer) toks = cl.buffer;
  toks -= cl.cost(len, cl.rateNs);
  if (toks <= -cl.mbuffer) toks = 1 - cl.mbuffer;
  cl.tokens = toks;
}

/** htb_accnt_ctokens: the same for the ceil bucket (`ctokens`, full at `cbuffer`) */
export function accountCtokens(cl: HtbClass, len: number, diff: Nanos): void {
  let toks = diff + cl.ctokens;
  if (toks > cl.cbuffer) toks = cl.cbuffer;
  toks -= cl.cost(len, cl.ceilNs);
  if (toks <= -cl.mbuffer) toks = 1 - cl.mbuffer;
  cl.ctokens = toks;
}
