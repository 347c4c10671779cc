/**
 * The Qdisc contract: what every queueing discipline offers to its parent and to the forwarder.
 *
 * A packet is a slot id in the Arena (ARCHITECTURE.md, hot-path rule 1). Ownership rules:
 *  - `enqueue(pkt, now)` hands the packet to the qdisc. The verdict says what happened to *that*
 *    packet: XMIT_SUCCESS (queued), XMIT_CN (queued, but the qdisc dropped another packet of the same
 *    flow to make room), XMIT_DROP (the offered packet was dropped). A qdisc that drops a packet counts
 *    it (stats.countDrop) and frees its slot itself (env.arena.free): the caller must not touch it.
 *  - A qdisc may drop packets other than the offered one (SFQ drops from the longest flow). So a parent
 *    never assumes "+1": it reads the child's `stats.qlen` and `stats.backlog` before and after each
 *    call and adjusts its own counters by the difference.
 *  - `dequeue(now)` returns a slot id (now owned by the caller) or -1. When it returns -1 while packets
 *    are queued, the qdisc is throttled and sets `wakeAt` to the earliest time a retry can succeed
 *    (the kernel's qdisc watchdog); `wakeAt` is Infinity when no timer is needed. Only the forwarder owns
 *    timers (hot-path rule 4); a parent takes the minimum of its children's `wakeAt`.
 *  - `peek(now)` returns the id `dequeue(now)` would return, without removing it (TBF needs it: it never
 *    reorders). Classful qdiscs may implement it by dequeuing once and stashing the packet.
 *  - Time is passed in; a qdisc never reads a clock (hot-path rule 3).
 *  - Packets dropped outside enqueue (a `change` that shrinks a limit, a purge) are reported to the
 *    parent with `reduceBacklog()`, as the kernel's qdisc_tree_reduce_backlog() does.
 *
 * Handles are tc handles as 32-bit unsigned numbers: major << 16 | minor (`1:` = 0x00010000).
 *
 * Writing a discipline: extend QdiscBase (base.ts), which holds the fields below and the default
 * childReduced; a classful one moves its children's packets through child.ts (enqueueChild,
 * dequeueChild, graftChild), which keeps the "read before and after" rule above in one place.
 */
import type { Arena } from '../packet/arena';
import type { Classifier } from '../classify/classifier';
import type { Nanos } from '../time/clock';
import type { QdiscStats } from './stats';

export const XMIT_SUCCESS = 0;
export const XMIT_DROP = 1;
export const XMIT_CN = 2;

/** tc's special parents: `root`, `ingress` (include/uapi/linux/pkt_sched.h). */
export const TC_H_ROOT = 0xffffffff;
export const TC_H_INGRESS = 0xfffffff1;
export const TC_H_UNSPEC = 0;

export const tcMajor = (h: number): number => (h >>> 16) & 0xffff;
export const tcMinor = (h: number): number => h & 0xffff;
export const tcHandle = (major: number, minor: number): number => (((major & 0xffff) << 16) | (minor & 0xffff)) >>> 0;

/** tc's print of a handle (print_tc_classid): `1:`, `1:10`, `ffff:`. The one formatter every layer uses. */
export function formatHandle(h: number): string {
  const major = (h >>> 16) & 0xffff;
  const minor = h & 0xffff;
  return minor === 0 ? `${major.toString(16)}:` : `${major.toString(16)}:${minor.toString(16)}`;
}

/** What a qdisc may use from its surroundings. Everything random or device-dependent comes from here. */
export interface QdiscEnv {
  readonly arena: Arena;
  /** MTU of the link (a TUN's is 1500 by default): SFQ quantum, HTB/TBF default sizes. */
  readonly mtu: number;
  /** the device's txqueuelen: default limit of pfifo leaves and of HTB's direct queue */
  readonly txQueueLen: number;
  /**
   * How late the scheduler may wake up (ns). Shapers size default bursts so that one wake-up's worth
   * of bytes fits in the bucket; otherwise a class cannot reach its rate at high speed.
   */
  readonly timerSlack: Nanos;
  /** setup-time warnings, e.g. "quantum of class 1:10 is big" (never called per packet) */
  warn(message: string): void;
  /** uniform in [0, 1); seeded in tests (RED marking, SFQ keys) */
  random(): number;
}

/** Implemented by a classful qdisc so that a child can report drops made outside enqueue. */
export interface QdiscOwner {
  childReduced(child: Qdisc, packets: number, bytes: number): void;
}

export interface Qdisc {
  /** tc kind: 'htb', 'sfq', 'pfifo', ... */
  readonly kind: string;
  /** major << 16; 0 for an implicit (default) qdisc */
  handle: number;
  /** the class this qdisc is attached to, or TC_H_ROOT / TC_H_INGRESS */
  parent: number;
  readonly stats: QdiscStats;
  /** filters attached to this qdisc (`tc filter add ... parent <handle>`) */
  filters: Classifier | null;
  /** set by the parent that grafted this qdisc */
  owner: QdiscOwner | null;
  /** when throttled: earliest Nanos a dequeue may succeed; Infinity otherwise */
  wakeAt: Nanos;
  enqueue(pkt: number, now: Nanos): number;
  dequeue(now: Nanos): number;
  peek(now: Nanos): number;
  /** drops and frees everything queued (counted as DropReason.Purge) and reports it to the owner */
  reset(): void;
}

/**
 * One side of a device (its egress or its ingress direction) as a tree of qdiscs: the mutable holder
 * of a root. The tc layer replaces `root` live (`tc qdisc replace`), the forwarder reads it afresh on
 * every batch, the control plane walks it; the holder itself never changes identity.
 */
export interface QdiscTree {
  root: Qdisc;
}

/** Which side of a device a tree shapes. */
export type Direction = 'egress' | 'ingress';

/** A class inside a classful qdisc (HTB class, PRIO band). */
export interface QdiscClass {
  readonly classid: number;
  /** parent class id, or the qdisc's handle for a top-level class */
  readonly parentid: number;
  /** the leaf qdisc (null for an inner class) */
  readonly leaf: Qdisc | null;
  /** filters attached to this class (`tc filter add ... parent <classid>`) */
  filters: Classifier | null;
  readonly stats: QdiscStats;
}

export interface ClassfulQdisc extends Qdisc {
  /** the classes (`tc class show` lists them in the tc layer's order, tc/class-order.ts) */
  classes(): QdiscClass[];
  getClass(classid: number): QdiscClass | undefined;
  /**
   * Replaces the leaf qdisc of class `classid` with `child` (null: the default leaf), returning the old
   * one. The parent moves nothing: the old child's packets are purged and reported (reduceBacklog).
   */
  graft(classid: number, child: Qdisc | null): Qdisc | null;
}

export function isClassful(q: Qdisc): q is ClassfulQdisc {
  return typeof (q as ClassfulQdisc).classes === 'function';
}

/** Reports `packets`/`bytes` removed from `q` outside enqueue/dequeue to its owner, which passes it up. */
export function reduceBacklog(q: Qdisc, packets: number, bytes: number): void {
  if (packets === 0 && bytes === 0) return;
  if (q.owner) q.owner.childReduced(q, packets, bytes);
}
