/**
 * QdiscBase: what every discipline has that is not its algorithm (the kernel's `struct Qdisc`), and
 * the per-packet helpers of include/net/sch_generic.h that go with it.
 *
 * A discipline extends QdiscBase and writes its own state and the four operations of the Qdisc
 * contract (qdisc.ts); the base owns the rest:
 *  - the seven fields of the contract (kind, handle, parent, stats, filters, owner, wakeAt) and the
 *    environment, declared once and in one order, so every discipline's objects start alike;
 *  - `childReduced`, as most parents must answer it: take the packets off the own counters and pass
 *    the report up (one level of qdisc_tree_reduce_backlog). A parent that keeps per-class counters
 *    (HTB) overrides it;
 *  - `purged`, the end of every reset(): empty counters, and what went reported to the owner.
 * A classful parent's bookkeeping around one child (enqueue/dequeue deltas, drops by reason, graft)
 * is in child.ts.
 *
 * The per-packet helpers (qdiscDrop here, QdiscStats.countQueued/countDequeued) are plain functions
 * over QdiscStats and Arena, not methods reading `this`: one method shared by every discipline would
 * see one hidden class per discipline and go megamorphic, while QdiscStats and Arena have one each.
 *
 * Reference: include/net/sch_generic.h (struct Qdisc, qdisc_drop, qdisc_tree_reduce_backlog).
 */
import type { Arena } from '../packet/arena';
import type { Classifier } from '../classify/classifier';
import type { Nanos } from '../time/clock';
import { type Qdisc, type QdiscEnv, type QdiscOwner, TC_H_ROOT, XMIT_DROP, reduceBacklog } from './qdisc';
import type { PacketRing } from './ring';
import { DropReason, type DropReasonCode, QdiscStats } from './stats';

export abstract class QdiscBase implements Qdisc, QdiscOwner {
  /** tc kind: 'htb', 'sfq', 'pfifo', ... */
  readonly kind: string;
  /** major << 16; 0 for an implicit (default) qdisc */
  handle: number;
  /** the class this qdisc is attached to, or TC_H_ROOT / TC_H_INGRESS */
  parent: number;
  readonly stats = new QdiscStats();
  /** filters attached to this qdisc (`tc filter add ... parent <handle>`) */
  filters: Classifier | null = null;
  /** set by the parent that grafted this qdisc */
  owner: QdiscOwner | null = null;
  /** when throttled: earliest Nanos a dequeue may succeed; Infinity otherwise */
  wakeAt: Nanos = Infinity;
  readonly env: QdiscEnv;

  constructor(kind: string, handle: number, env: QdiscEnv, parent: number = TC_H_ROOT) {
    this.kind = kind;
    this.handle = handle;
    this.parent = parent;
    this.env = env;
  }

  abstract enqueue(pkt: number, now: Nanos): number;
  abstract dequeue(now: Nanos): number;
  abstract peek(now: Nanos): number;
  abstract reset(): void;

  /** qdisc_tree_reduce_backlog, one level: a child dropped packets outside enqueue/dequeue */
  childReduced(_child: Qdisc, packets: number, bytes: number): void {
    this.stats.qlen -= packets;
    this.stats.backlog -= bytes;
    reduceBacklog(this, packets, bytes);
  }

  /** the end of a reset(): nothing is queued any more, and the `packets`/`bytes` purged go up */
  protected purged(packets: number, bytes: number): void {
    this.stats.qlen = 0;
    this.stats.backlog = 0;
    reduceBacklog(this, packets, bytes);
  }
}

/** qdisc_drop: counts `pkt` as dropped for `reason`, frees its slot and returns XMIT_DROP */
export function qdiscDrop(stats: QdiscStats, arena: Arena, pkt: number, reason: DropReasonCode): number {
  stats.countDrop(reason);
  arena.free(pkt);
  return XMIT_DROP;
}

/**
 * Empties `ring` for a reset: every packet counted as DropReason.Purge and freed, oldest first.
 * Returns the bytes purged (the packets are the ring's length before the call).
 */
export function purgeRing(ring: PacketRing, stats: QdiscStats, arena: Arena): number {
  let bytes = 0;
  for (let pkt = ring.shift(); pkt >= 0; pkt = ring.shift()) {
    bytes += arena.len[pkt];
    qdiscDrop(stats, arena, pkt, DropReason.Purge);
  }
  return bytes;
}
