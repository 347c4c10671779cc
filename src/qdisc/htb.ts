/**
 * HTB: Hierarchical Token Bucket (Martin Devera), as Linux 6.x runs it.
 *
 * Classes form a tree. Every class has a guaranteed `rate` and a `ceil` it may reach by borrowing the
 * unused rate of its ancestors; both are token buckets counted in ns of transmission time (see
 * htb-class.ts). Packets wait in the leaf classes' qdiscs (pfifo by default). A leaf with packets is
 * "active": if it can send on its own rate it sits in the *row* of level 0 for its priority; if it
 * may only borrow, it hangs in its parent's *feed* for that priority, and so on up the tree until an
 * ancestor that can send on its own rate, which sits in the row of its level. Dequeue scans the levels
 * from 0 (leaves sending on their own rate) upwards, and within a level the priorities from 0, so a
 * class within its rate always wins over one that borrows, and lower `prio` borrows first. Within a row
 * (or feed) the classes take turns in classid order, DRR style: a leaf sends until its deficit for that
 * level goes negative, then gets `quantum` more bytes and the turn passes on. After each packet the
 * leaf and all its ancestors are charged (htb_charge_class): ceil buckets always, rate buckets from the
 * level that lent the bandwidth upwards (that class counts a "lend", the ones below a "borrow"). A class
 * whose mode changes and is not CAN_SEND goes into its level's wait queue for the time its tokens reach
 * zero; dequeue replays those events, and when nothing can be sent it sets `wakeAt` to the earliest one
 * (the kernel's watchdog).
 *
 * Unclassified packets: filters on the qdisc give a classid; an inner class's filters refine it (at
 * most 8 hops, then the packet is dropped); `X:0` or no usable class means the *direct queue*, which is
 * sent first and unshaped (counted as direct_packets_stat), unless `default` names a leaf.
 *
 * Parameters (units inside tunqos): rate/ceil bytes per second; buffer/cbuffer ns (the burst as time,
 * as tc passes it to the kernel); quantum bytes (rate/r2q clamped to 1000..200000 unless given); prio
 * 0..7 (lower first); r2q (10); default (class minor, 0 = none); direct_qlen packets (txqueuelen).
 *
 * Differences from Linux: packet costs are exact float64 ns (Linux rounds with a mult/shift pair);
 * the wait queue is a binary heap, not an rb-tree; events are replayed without the 2-jiffy bound
 * ("htb: too many events!"); a leaf qdisc that is throttled (TBF inside HTB) contributes its `wakeAt`
 * instead of arming its own watchdog; giants are never counted (Linux stopped counting them with the
 * rate tables in 3.8). Hysteresis is off, as it is by default since Linux 2.6.x (htb_hysteresis = 0).
 * Default bursts are larger than tc's (see defaultBurst).
 *
 * Reference: net/sched/sch_htb.c (Linux 6.18), iproute2 tc/q_htb.c, tc-htb(8), LARTC §9.5.5.
 * Longer than the tree's 500-line rule on purpose: a port that mirrors one kernel file, sch_htb.c
 * (its building blocks are in htb-class.ts, the shared qdisc plumbing in base.ts and child.ts).
 */
import { CLS_NOMATCH, CLS_SHOT } from '../classify/classifier';
import type { Nanos } from '../time/clock';
import { PSCHED_TICK_NS, pschedNsPerByte, tcCalcXmittimeSat } from '../time/psched';
import { QdiscBase, purgeRing, qdiscDrop } from './base';
import { absorbChildDrops, attachChild, detachChild, enqueueChild } from './child';
import { Fifo } from './fifo';
import {
  HTB_CAN_SEND,
  HTB_CANT_SEND,
  HTB_MAY_BORROW,
  HtbClass,
  IdList,
  TC_HTB_MAXDEPTH,
  TC_HTB_NUMPRIO,
  WaitQueue,
  accountCtokens,
  accountTokens,
} from './htb-class';
import { PacketRing } from './ring';
import { type ClassfulQdisc, type Qdisc, type QdiscEnv, TC_H_ROOT, formatHandle, XMIT_SUCCESS, reduceBacklog, tcMajor } from './qdisc';
import { DropReason } from './stats';

export { HTB_CAN_SEND, HTB_CANT_SEND, HTB_MAY_BORROW, HtbClass, TC_HTB_MAXDEPTH, TC_HTB_NUMPRIO } from './htb-class';

export interface HtbOptions {
  /** minor of the class unclassified packets go to; 0 = none (direct queue) */
  defcls?: number;
  /** quantum = rate / r2q (bytes); default 10, at least 1 */
  r2q?: number;
  /** limit of the direct queue in packets; default the device's txqueuelen */
  directQlen?: number;
}

export interface HtbClassOptions {
  /** guaranteed rate, bytes/s (> 0) */
  rate: number;
  /** maximum rate when borrowing, bytes/s; default rate */
  ceil?: number;
  /** rate bucket depth in ns (tc's `burst` converted to time); default from defaultBurst() */
  buffer?: Nanos;
  /** ceil bucket depth in ns; default from defaultBurst() at ceil */
  cbuffer?: Nanos;
  /** 0..7, lower is served first; values above 7 are clamped to 7 as Linux does */
  prio?: number;
  /** DRR quantum in bytes; 0/undefined: rate / r2q clamped to 1000..200000 */
  quantum?: number;
  overhead?: number;
  mpu?: number;
  linklayer?: 'ethernet' | 'atm';
  /** tc's mtu (default 1600): only enters the default bursts */
  mtu?: number;
}

const TC_DEFAULT_MTU = 1600;

/**
 * A burst in bytes → the bucket depth in ns, as the kernel receives it: tc sends the burst in psched
 * ticks (tc_calc_xmittime, with its truncations and saturating: see time/psched.ts) and the kernel
 * shifts them back to ns (PSCHED_TICKS2NS). `tc class show` prints 1599b for a 1600-byte cburst at
 * 6 Mbit because of those truncations, and tunqos reproduces that.
 */
export function burstToBuffer(rateBps: number, bytes: number): Nanos {
  return tcCalcXmittimeSat(rateBps, bytes) * PSCHED_TICK_NS;
}

/**
 * The default burst (bytes) of a class at `rateBps`, and the one place where tunqos departs from tc on
 * purpose. tc computes `rate / get_hz() + mtu`, and get_hz() is 1e9 on every modern kernel, so the
 * default is just the mtu (1600 bytes) whatever the rate. A bucket that small empties in 128 µs at
 * 100 Mbit: any wake-up later than that finds the bucket overflowed and the unsent time is lost for
 * good, so the class never reaches its rate (the classic "HTB can't reach 500 Mbit" reports, and
 * sqm-scripts sizing bursts by time). tunqos's scheduler may wake up to `env.timerSlack` late, so the
 * default holds one late wake-up's worth of bytes on top of tc's value: rate × timerSlack + mtu, never
 * less than tc's 1600. `tc class show` prints the burst actually used.
 */
export function defaultBurst(rateBps: number, env: QdiscEnv, mtu = TC_DEFAULT_MTU): number {
  const tcDefault = Math.floor(rateBps / 1e9) + mtu;
  return Math.max(tcDefault, Math.ceil((rateBps * env.timerSlack) / 1e9) + mtu);
}

/** classify results besides a class minor */
const TO_DIRECT = -1;
const TO_DROP_SHOT = -2;
const TO_DROP_LOOP = -3;

export class Htb extends QdiscBase implements ClassfulQdisc {
  defcls: number;
  r2q: number;
  directQlen: number;
  /** packets that went through the direct queue (tc: direct_packets_stat) */
  directPackets = 0;
  /** accepted and ignored (no hardware here) */
  offload = false;
  /**
   * Only for CBQ mapped onto HTB: TC_PRIO priority (0..15) → class minor for unclassified packets at
   * the root (CBQ's split 1:0 defaults); 0 = none. Plain HTB leaves it null.
   */
  rootDefaults: Int32Array | null = null;

  private direct: PacketRing;
  /** class by minor (all classes share the qdisc's major): the hot-path lookup */
  private readonly byMinor: (HtbClass | null)[];
  private classCount = 0;
  /** rows[level * 8 + prio] */
  private readonly rows: IdList[] = [];
  private readonly rowMask = new Int32Array(TC_HTB_MAXDEPTH);
  private readonly nearEv = new Float64Array(TC_HTB_MAXDEPTH);
  private readonly waitPq: WaitQueue[] = [];
  /** the classes in the order they were added (`tc class show` order is the tc layer's: tc/class-order.ts) */
  private readonly classList: HtbClass[] = [];
  /** time of the dequeue in progress (q->now) and the latest time seen */
  private now: Nanos = 0;
  private lastNow: Nanos = 0;
  /** htb_class_mode's second result: ns until the mode changes */
  private modeDiff: Nanos = 0;
  /** earliest wakeAt of a throttled leaf seen during this dequeue */
  private childWake: Nanos = Infinity;
  /** htb_lookup_leaf's stack */
  private readonly stk: IdList[] = [];
  /** a packet taken by peek() and not yet handed out */
  private peeked = -1;

  constructor(handle: number, env: QdiscEnv, opts: HtbOptions = {}) {
    super('htb', handle, env);
    this.defcls = opts.defcls ?? 0;
    this.r2q = Math.max(1, opts.r2q ?? 10);
    this.directQlen = opts.directQlen ?? Math.max(1, env.txQueueLen);
    this.direct = new PacketRing(Math.max(1, Math.min(this.directQlen, env.arena.slotCount)));
    this.byMinor = new Array<HtbClass | null>(0x10000).fill(null);
    const sentinel = new HtbClass(0, 0, null);
    for (let i = 0; i < TC_HTB_MAXDEPTH * TC_HTB_NUMPRIO; i++) this.rows.push(new IdList(8));
    for (let i = 0; i < TC_HTB_MAXDEPTH; i++) {
      this.waitPq.push(new WaitQueue(sentinel));
      this.stk.push(this.rows[0]);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Setup: qdisc and class configuration (not the hot path).

  setOptions(opts: HtbOptions): void {
    if (opts.defcls !== undefined) this.defcls = opts.defcls;
    if (opts.r2q !== undefined) this.r2q = Math.max(1, opts.r2q);
    if (opts.directQlen !== undefined) {
      this.directQlen = opts.directQlen;
      this.direct.grow(Math.min(this.directQlen, this.env.arena.slotCount));
    }
  }

  classes(): HtbClass[] {
    return this.classList.slice();
  }

  getClass(classid: number): HtbClass | undefined {
    if (tcMajor(classid) !== tcMajor(this.handle)) return undefined;
    return this.byMinor[classid & 0xffff] ?? undefined;
  }

  /**
   * Creates class `classid` under `parentid` (the qdisc's handle or TC_H_ROOT for a top-level class,
   * else an existing class). A leaf that gets its first child becomes an inner class: its queued
   * packets are purged, as Linux does. Throws on a bad classid or a tree deeper than 8 levels.
   */
  addClass(classid: number, parentid: number, opts: HtbClassOptions, now: Nanos = this.lastNow): HtbClass {
    if ((classid & 0xffff) === 0 || tcMajor(classid) !== tcMajor(this.handle)) {
      throw new Error(`invalid classid ${formatHandle(classid)} for qdisc ${formatHandle(this.handle)}`);
    }
    if (this.getClass(classid)) throw new Error(`class ${formatHandle(classid)} already exists`);
    const topLevel = parentid === TC_H_ROOT || parentid === this.handle;
    const parent = topLevel ? null : (this.getClass(parentid) ?? null);
    // Linux makes a class whose parent does not exist a top-level class; the tc kind warns about it.
    if (parent && parent.parent && parent.parent.level < 2) throw new Error('tree is too deep');
    validateRates(opts);

    const cl = new HtbClass(classid, parent ? parent.classid : this.handle, parent);
    this.configure(cl, opts);
    cl.tokens = cl.buffer;
    cl.ctokens = cl.cbuffer;
    cl.tc = now;
    cl.cmode = HTB_CAN_SEND;
    cl.leaf = this.defaultLeaf(cl);

    if (parent && parent.level === 0) {
      // The parent turns into an inner node: its packets go, it leaves the rows and the wait queue.
      const old = parent.leaf;
      if (old) detachChild(this, old, true);
      this.deactivate(parent);
      if (parent.cmode !== HTB_CAN_SEND) {
        this.waitPq[0].remove(parent);
        parent.cmode = HTB_CAN_SEND;
      }
      parent.level = (parent.parent ? parent.parent.level : TC_HTB_MAXDEPTH) - 1;
      for (const f of parent.feeds) f.clear();
      parent.deficit.fill(0);
      parent.leaf = null;
      parent.stats.qlen = 0;
      parent.stats.backlog = 0;
    }

    this.byMinor[cl.minor] = cl;
    this.classCount++;
    if (parent) {
      parent.children++;
      for (const f of parent.feeds) f.reserve(parent.children);
    }
    for (const r of this.rows) r.reserve(this.classCount);
    for (const w of this.waitPq) w.reserve(this.classCount);
    this.classList.push(cl);
    return cl;
  }

  /** `tc class change`: new parameters, tokens and queued packets kept (htb_change_class) */
  changeClass(classid: number, opts: HtbClassOptions): HtbClass {
    const cl = this.getClass(classid);
    if (!cl) throw new Error(`class ${formatHandle(classid)} does not exist`);
    validateRates(opts);
    this.configure(cl, opts);
    return cl;
  }

  /** `tc class del`: refused while the class has children; its leaf's packets are purged and counted */
  deleteClass(classid: number): void {
    const cl = this.getClass(classid);
    if (!cl) throw new Error(`class ${formatHandle(classid)} does not exist`);
    if (cl.children > 0) throw new Error('HTB class in use');
    const parent = cl.parent;
    const lastChild = cl.level === 0 && parent !== null && parent.children === 1;
    if (cl.leaf) cl.leaf.reset();
    this.byMinor[cl.minor] = null;
    this.classCount--;
    this.classList.splice(this.classList.indexOf(cl), 1);
    if (parent) parent.children--;
    this.deactivate(cl);
    if (cl.cmode !== HTB_CAN_SEND) this.waitPq[cl.level].remove(cl);
    if (cl.leaf) cl.leaf.owner = null;
    if (lastChild && parent) {
      // htb_parent_to_leaf: the parent is a leaf again, with a fresh pfifo and full buckets.
      if (parent.cmode !== HTB_CAN_SEND) this.waitPq[parent.level].remove(parent);
      parent.level = 0;
      for (const f of parent.feeds) f.clear();
      parent.deficit.fill(0);
      parent.leaf = this.defaultLeaf(parent);
      parent.tokens = parent.buffer;
      parent.ctokens = parent.cbuffer;
      parent.tc = this.lastNow;
      parent.cmode = HTB_CAN_SEND;
    }
  }

  /** replaces the leaf qdisc of a leaf class (null: a default pfifo); the old one is purged here */
  graft(classid: number, child: Qdisc | null): Qdisc | null {
    const cl = this.getClass(classid);
    if (!cl) throw new Error(`class ${formatHandle(classid)} does not exist`);
    if (cl.level !== 0) throw new Error(`class ${formatHandle(classid)} is not a leaf`);
    const old = cl.leaf;
    if (old) detachChild(this, old, true); // reported to childReduced while still ours
    this.deactivate(cl);
    const next = child ?? this.defaultLeaf(cl);
    attachChild(this, next, cl.classid, cl.seenDrops);
    cl.leaf = next;
    cl.stats.qlen = next.stats.qlen;
    cl.stats.backlog = next.stats.backlog;
    if (next.stats.qlen > 0) this.activate(cl);
    return old;
  }

  private defaultLeaf(cl: HtbClass): Qdisc {
    const q = new Fifo('pfifo', 0, this.env);
    attachChild(this, q, cl.classid, cl.seenDrops);
    return q;
  }

  private configure(cl: HtbClass, o: HtbClassOptions): void {
    cl.overhead = o.overhead ?? 0;
    cl.mpu = o.mpu ?? 0;
    cl.atm = o.linklayer === 'atm';
    cl.mtu = o.mtu ?? TC_DEFAULT_MTU;
    cl.rate = o.rate;
    cl.ceil = o.ceil ?? o.rate;
    cl.rateNs = pschedNsPerByte(cl.rate);
    cl.ceilNs = pschedNsPerByte(cl.ceil);
    cl.buffer = o.buffer ?? burstToBuffer(cl.rate, defaultBurst(cl.rate, this.env, cl.mtu));
    cl.cbuffer = o.cbuffer ?? burstToBuffer(cl.ceil, defaultBurst(cl.ceil, this.env, cl.mtu));
    if (cl.level === 0) {
      // Only leaves take part in DRR, so only they get a quantum (and the r2q warning).
      const given = o.quantum !== undefined && o.quantum > 0;
      let quantum = Math.min(Math.floor(cl.rate / this.r2q), 0x7fffffff);
      let warn = '';
      if (!given && quantum < 1000) {
        quantum = 1000;
        warn = 'small';
      }
      if (!given && quantum > 200000) {
        quantum = 200000;
        warn = 'big';
      }
      cl.quantum = given ? (o.quantum as number) : quantum;
      cl.userQuantum = given;
      cl.prio = Math.min(o.prio ?? 0, TC_HTB_NUMPRIO - 1);
      if (warn) this.env.warn(`quantum of class ${formatHandle(cl.classid)} is ${warn}. Consider r2q change.`);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Hot path.

  enqueue(pkt: number, now: Nanos): number {
    this.lastNow = now;
    const arena = this.env.arena;
    const len = arena.len[pkt];
    const r = this.classify(pkt, now);
    if (r < 0) {
      if (r === TO_DIRECT) {
        if (this.direct.length < this.directQlen && this.direct.push(pkt)) {
          this.directPackets++;
          this.stats.countQueued(len);
          return XMIT_SUCCESS;
        }
        return qdiscDrop(this.stats, arena, pkt, DropReason.QueueFull);
      }
      return qdiscDrop(this.stats, arena, pkt, r === TO_DROP_SHOT ? DropReason.Police : DropReason.Classify);
    }
    const cl = this.byMinor[r] as HtbClass;
    const leaf = cl.leaf as Qdisc;
    const ls = leaf.stats;
    const d0 = ls.drops;
    // The leaf's drops are carried by absorbLeafDrops, which counts them for the class too.
    const ret = enqueueChild(this.stats, leaf, null, pkt, now);
    cl.stats.qlen = ls.qlen;
    cl.stats.backlog = ls.backlog;
    if (ls.drops !== d0) this.absorbLeafDrops(cl, true);
    if (ret === XMIT_SUCCESS && cl.prioActivity === 0) {
      cl.prioActivity = 1 << cl.prio;
      this.activatePrios(cl);
    }
    return ret;
  }

  /**
   * htb_classify: the leaf class minor, TO_DIRECT, or a drop code. `skb->priority` may name the qdisc
   * (direct) or a class directly (tunqos: arena.priority, which preparePacket sets from TOS — small
   * numbers that never name a class — unless something sets a classid there).
   */
  private classify(pkt: number, now: Nanos): number {
    const arena = this.env.arena;
    const handle = this.handle;
    const prio = arena.priority[pkt];
    if (prio === handle) return TO_DIRECT;
    let tcf = this.filters;
    if (((prio >>> 16) & 0xffff) === handle >>> 16) {
      const cl = this.byMinor[prio & 0xffff];
      if (cl !== null) {
        if (cl.level === 0) {
          arena.classid[pkt] = cl.classid;
          return cl.minor;
        }
        tcf = cl.filters;
      }
    }
    let hops = 0;
    let head: HtbClass | null = null;
    while (tcf !== null) {
      const res = tcf.classify(pkt, now);
      if (res === CLS_NOMATCH || res < 0) {
        if (res === CLS_SHOT) return TO_DROP_SHOT;
        break;
      }
      if (res === handle) return TO_DIRECT;
      if (((res >>> 16) & 0xffff) !== handle >>> 16) break;
      const cl = this.byMinor[res & 0xffff];
      if (cl === null) break;
      if (cl.level === 0) {
        arena.classid[pkt] = cl.classid;
        return cl.minor;
      }
      if (++hops > TC_HTB_MAXDEPTH) return TO_DROP_LOOP;
      head = cl;
      tcf = cl.filters;
    }
    // CBQ's split/defmap (cbq.ts): the head reached maps the packet's TOS priority to a class.
    const map = head === null ? this.rootDefaults : head.defaults;
    if (map !== null && prio >>> 16 === 0) {
      let m = map[prio & 15];
      if (m === 0) m = map[0];
      const d = m !== 0 ? this.byMinor[m] : null;
      if (d !== null && d.level === 0) {
        arena.classid[pkt] = d.classid;
        return d.minor;
      }
    }
    const def = this.defcls !== 0 ? this.byMinor[this.defcls & 0xffff] : null;
    if (def === null || def.level !== 0) return TO_DIRECT;
    arena.classid[pkt] = def.classid;
    return def.minor;
  }

  dequeue(now: Nanos): number {
    if (this.peeked >= 0) {
      const pkt = this.peeked;
      this.peeked = -1;
      this.stats.qlen--;
      this.stats.backlog -= this.env.arena.len[pkt];
      return pkt;
    }
    return this.dequeueInner(now);
  }

  /** qdisc_peek_dequeued: dequeue once and keep the packet until the next dequeue */
  peek(now: Nanos): number {
    if (this.peeked < 0) {
      const pkt = this.dequeueInner(now);
      if (pkt < 0) return -1;
      this.peeked = pkt;
      this.stats.qlen++;
      this.stats.backlog += this.env.arena.len[pkt];
    }
    return this.peeked;
  }

  private dequeueInner(now: Nanos): number {
    this.lastNow = now;
    // Direct packets first: unshaped, and the cheapest to send.
    let pkt = this.direct.shift();
    if (pkt >= 0) {
      this.stats.countDequeued(this.env.arena.len[pkt]);
      return pkt;
    }
    if (this.stats.qlen === 0) {
      this.wakeAt = Infinity;
      return -1;
    }
    this.now = now;
    this.childWake = Infinity;
    let nextEvent = now + 5e9;
    for (let level = 0; level < TC_HTB_MAXDEPTH; level++) {
      // The event times stay in the nearEv column (doEvents writes it): a Nanos returned from a call
      // that is not inlined would come back as a freshly boxed number, once per dequeue.
      if (now >= this.nearEv[level]) this.doEvents(level);
      const event = this.nearEv[level];
      if (nextEvent > event) nextEvent = event;
      let m = this.rowMask[level];
      while (m !== 0) {
        const prio = 31 - Math.clz32(m & -m);
        m &= ~(1 << prio);
        pkt = this.dequeueTree(prio, level, now);
        if (pkt >= 0) {
          this.stats.countDequeued(this.env.arena.len[pkt]);
          return pkt;
        }
      }
    }
    this.wakeAt = nextEvent < this.childWake ? nextEvent : this.childWake;
    return -1;
  }

  /** htb_dequeue_tree: a packet from the active classes at (prio, level), or -1 */
  private dequeueTree(prio: number, level: number, now: Nanos): number {
    const row = this.rows[level * TC_HTB_NUMPRIO + prio];
    let cl = this.lookupLeaf(row, prio);
    let start = cl;
    let pkt = -1;
    for (;;) {
      if (cl === null) return -1;
      const leaf = cl.leaf as Qdisc;
      if (leaf.stats.qlen === 0) {
        // Emptied behind our back (a leaf drop, a graft): deactivate and skip it.
        this.deactivate(cl);
        if ((this.rowMask[level] & (1 << prio)) === 0) return -1;
        const next = this.lookupLeaf(row, prio);
        if (cl === start) start = next;
        cl = next;
        continue;
      }
      pkt = leaf.dequeue(now);
      if (pkt >= 0) break;
      // A non-work-conserving leaf (TBF): remember when it wants to be asked again, try the next one.
      if (leaf.wakeAt < this.childWake) this.childWake = leaf.wakeAt;
      this.turnList(cl, level, prio).advance();
      cl = this.lookupLeaf(row, prio);
      if (cl === start) return -1;
    }
    const len = this.env.arena.len[pkt];
    const leaf = cl.leaf as Qdisc;
    cl.stats.countSent(len);
    cl.stats.qlen = leaf.stats.qlen;
    cl.stats.backlog = leaf.stats.backlog;
    cl.deficit[level] -= len;
    if (cl.deficit[level] < 0) {
      cl.deficit[level] += cl.quantum;
      this.turnList(cl, level, prio).advance();
    }
    if (leaf.stats.qlen === 0) this.deactivate(cl);
    this.chargeClass(cl, level, len);
    return pkt;
  }

  /**
   * The list whose round-robin pointer is on leaf `cl` when it is served at `level`: its parent's
   * feed when it borrows, the level-0 row when it sends on its own rate (htb_dequeue_tree's
   * `level ? &cl->parent->inner.clprio[prio].ptr : &q->hlevel[0].hprio[prio].ptr`).
   */
  private turnList(cl: HtbClass, level: number, prio: number): IdList {
    return level !== 0 ? (cl.parent as HtbClass).feeds[prio] : this.rows[prio];
  }

  /** htb_lookup_leaf: follow the round-robin pointers from a row down through the feeds to a leaf */
  private lookupLeaf(row: IdList, prio: number): HtbClass | null {
    if (row.count === 0) return null;
    const stk = this.stk;
    let sp = 0;
    stk[0] = row;
    for (let i = 0; i < 65535; i++) {
      const l = stk[sp];
      if (l.ptr === l.count && l.pid !== 0) l.ptr = l.lowerBound(l.pid);
      l.pid = 0;
      if (l.ptr === l.count) {
        // Past the end: rewind, and the turn of the class above passes on.
        if (l.count === 0) return null;
        l.ptr = 0;
        if (sp > 0) {
          sp--;
          const up = stk[sp];
          if (up.ptr === up.count) return null;
          up.advance();
        }
      } else {
        const cl = this.byMinor[l.items[l.ptr]] as HtbClass;
        if (cl.level === 0) return cl;
        stk[++sp] = cl.feeds[prio];
      }
    }
    return null;
  }

  /** htb_charge_class: charge `len` bytes to the leaf and its ancestors; `level` lent the bandwidth */
  private chargeClass(leaf: HtbClass, level: number, len: number): void {
    const now = this.now;
    let cl: HtbClass | null = leaf;
    while (cl !== null) {
      let diff = now - cl.tc;
      if (diff > cl.mbuffer) diff = cl.mbuffer;
      if (cl.level >= level) {
        if (cl.level === level) cl.lends++;
        accountTokens(cl, len, diff);
      } else {
        cl.borrows++;
        cl.tokens += diff; // t_c moves on; keep the rate bucket where it was
      }
      accountCtokens(cl, len, diff);
      cl.tc = now;

      const oldMode = cl.cmode;
      this.changeClassMode(cl); // t_c is now: no credit on top (the kernel's diff = 0 here)
      if (oldMode !== cl.cmode) {
        if (oldMode !== HTB_CAN_SEND) this.waitPq[cl.level].remove(cl);
        if (cl.cmode !== HTB_CAN_SEND) this.addToWait(cl);
      }
      if (cl.level !== 0) cl.stats.countSent(len);
      cl = cl.parent;
    }
  }

  /**
   * htb_do_events: apply the mode changes due at this level, and cache the next event time in
   * nearEv[level] (now + 1 s when none is queued, as htb_dequeue does with a 0 from htb_do_events)
   */
  private doEvents(level: number): void {
    const pq = this.waitPq[level];
    const now = this.now;
    for (;;) {
      const cl = pq.first();
      if (cl === null) {
        this.nearEv[level] = now + 1e9;
        return;
      }
      if (cl.pqKey > now) {
        this.nearEv[level] = cl.pqKey;
        return;
      }
      pq.remove(cl);
      this.changeClassMode(cl);
      if (cl.cmode !== HTB_CAN_SEND) this.addToWait(cl);
    }
  }

  /** htb_add_to_wait_tree: the class's mode changes in `modeDiff` ns (classMode's second result) */
  private addToWait(cl: HtbClass): void {
    let key = this.now + this.modeDiff;
    if (key === this.now) key++;
    cl.pqKey = key;
    if (this.nearEv[cl.level] > key) this.nearEv[cl.level] = key;
    this.waitPq[cl.level].push(cl);
  }

  /**
   * htb_class_mode with hysteresis off, counting the credit earned since the checkpoint
   * (min(now − t_c, mbuffer): none right after a charge); sets modeDiff to the ns until the mode can
   * improve. The credit is worked out here rather than passed in, and the ns come back through
   * modeDiff: a Nanos passed to or returned from a call V8 does not inline is boxed, once per call.
   */
  private classMode(cl: HtbClass): number {
    let diff = this.now - cl.tc;
    if (diff > cl.mbuffer) diff = cl.mbuffer;
    let toks = cl.ctokens + diff;
    if (toks < 0) {
      this.modeDiff = -toks;
      return HTB_CANT_SEND;
    }
    toks = cl.tokens + diff;
    if (toks >= 0) return HTB_CAN_SEND;
    this.modeDiff = -toks;
    return HTB_MAY_BORROW;
  }

  /** htb_change_class_mode: the only place a mode changes; relinks the class in rows and feeds */
  private changeClassMode(cl: HtbClass): void {
    const mode = this.classMode(cl);
    if (mode === cl.cmode) return;
    if (mode === HTB_CANT_SEND) {
      cl.stats.overlimits++;
      this.stats.overlimits++;
    }
    if (cl.prioActivity !== 0) {
      if (cl.cmode !== HTB_CANT_SEND) this.deactivatePrios(cl);
      cl.cmode = mode;
      if (mode !== HTB_CANT_SEND) this.activatePrios(cl);
    } else {
      cl.cmode = mode;
    }
  }

  private activate(cl: HtbClass): void {
    if (cl.prioActivity === 0) {
      cl.prioActivity = 1 << cl.prio;
      this.activatePrios(cl);
    }
  }

  private deactivate(cl: HtbClass): void {
    if (cl.prioActivity === 0) return;
    this.deactivatePrios(cl);
    cl.prioActivity = 0;
  }

  /** htb_activate_prios: hang the class into its parent's feeds while it may only borrow, else a row */
  private activatePrios(c: HtbClass): void {
    let cl = c;
    let p = cl.parent;
    let mask = cl.prioActivity;
    while (cl.cmode === HTB_MAY_BORROW && p !== null && mask !== 0) {
      let m = mask;
      while (m !== 0) {
        const prio = 31 - Math.clz32(m & -m);
        m &= ~(1 << prio);
        const feed = p.feeds[prio];
        if (feed.count > 0) mask &= ~(1 << prio); // the parent is already active at this prio
        feed.insert(cl.minor);
      }
      p.prioActivity |= mask;
      cl = p;
      p = cl.parent;
    }
    if (cl.cmode === HTB_CAN_SEND && mask !== 0) {
      this.rowMask[cl.level] |= mask;
      const base = cl.level * TC_HTB_NUMPRIO;
      while (mask !== 0) {
        const prio = 31 - Math.clz32(mask & -mask);
        mask &= ~(1 << prio);
        this.rows[base + prio].insert(cl.minor);
      }
    }
  }

  /** htb_deactivate_prios: the mirror of activatePrios (cl.cmode is still the old mode) */
  private deactivatePrios(c: HtbClass): void {
    let cl = c;
    let p = cl.parent;
    let mask = cl.prioActivity;
    while (cl.cmode === HTB_MAY_BORROW && p !== null && mask !== 0) {
      let m = mask;
      mask = 0;
      while (m !== 0) {
        const prio = 31 - Math.clz32(m & -m);
        m &= ~(1 << prio);
        const feed = p.feeds[prio];
        feed.removeFeed(cl.minor);
        if (feed.count === 0) mask |= 1 << prio;
      }
      p.prioActivity &= ~mask;
      cl = p;
      p = cl.parent;
    }
    if (cl.cmode === HTB_CAN_SEND && mask !== 0) {
      const base = cl.level * TC_HTB_NUMPRIO;
      let emptied = 0;
      while (mask !== 0) {
        const prio = 31 - Math.clz32(mask & -mask);
        mask &= ~(1 << prio);
        const row = this.rows[base + prio];
        row.removeRow(cl.minor);
        if (row.count === 0) emptied |= 1 << prio;
      }
      this.rowMask[cl.level] &= ~emptied;
    }
  }

  /** adds the leaf's new drops (by reason) to the qdisc's counters, and to the class's on enqueue */
  private absorbLeafDrops(cl: HtbClass, onEnqueue: boolean): void {
    const leaf = cl.leaf;
    if (!leaf) return;
    const d = absorbChildDrops(this.stats, leaf.stats, cl.seenDrops);
    if (onEnqueue) cl.stats.drops += d;
  }


  // ------------------------------------------------------------------------------------------------
  // Reports from leaves and purges.

  /**
   * A leaf dropped packets outside enqueue (limit change, purge): fix the counters, the class's
   * too, and pass it up (qdisc_tree_reduce_backlog; htb_qlen_notify when the leaf is empty).
   */
  override childReduced(child: Qdisc, packets: number, bytes: number): void {
    this.stats.qlen -= packets;
    this.stats.backlog -= bytes;
    const cl = this.getClass(child.parent);
    if (cl && cl.leaf === child) {
      this.absorbLeafDrops(cl, false);
      cl.stats.qlen = child.stats.qlen;
      cl.stats.backlog = child.stats.backlog;
      if (child.stats.qlen === 0) this.deactivate(cl); // htb_qlen_notify
    }
    reduceBacklog(this, packets, bytes);
  }

  /** htb_reset: every queue purged (counted), all classes CAN_SEND, rows and events cleared */
  reset(): void {
    for (const cl of this.classes()) {
      if (cl.leaf) cl.leaf.reset();
      cl.prioActivity = 0;
      cl.cmode = HTB_CAN_SEND;
      cl.heapIdx = -1;
      if (cl.level !== 0) for (const f of cl.feeds) f.clear();
    }
    const arena = this.env.arena;
    let packets = this.direct.length;
    let bytes = 0;
    if (this.peeked >= 0) {
      packets++;
      bytes += arena.len[this.peeked];
      qdiscDrop(this.stats, arena, this.peeked, DropReason.Purge);
    }
    this.peeked = -1;
    bytes += purgeRing(this.direct, this.stats, arena);
    for (const r of this.rows) r.clear();
    for (const w of this.waitPq) w.clear();
    this.rowMask.fill(0);
    this.wakeAt = Infinity;
    this.purged(packets, bytes);
  }
}

function validateRates(o: HtbClassOptions): void {
  if (!(o.rate > 0) || (o.ceil !== undefined && !(o.ceil > 0))) throw new Error('htb: rate and ceil must be positive');
}
