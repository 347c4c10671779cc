/**
 * The ingress qdisc: the download side of a device, fed by its own TUN (see src/tc/device.ts).
 *
 * In Linux the ingress qdisc (`tc qdisc add dev X ingress`, handle ffff:, parent ffff:fff1) queues
 * nothing: it runs the filters attached to `ffff:` on every arriving packet; a policer whose action
 * is drop (the classifier answers CLS_SHOT) drops the packet, anything else passes through unshaped.
 * tunqos does the same, and goes one step further: a qdisc tree may be grafted under it
 * (`tc qdisc add dev X parent ffff: handle 2: htb ...`), so downloads can be shaped too. Without such
 * a child, packets pass through a FIFO with a generous limit (10 × txqueuelen), i.e. unshaped.
 *
 * Parameters: none (tc accepts none). Counters: Sent counts what left the child; drops count policed
 * packets (DropReason.Police) plus the child's own drops are in the child's counters.
 * Differences from Linux: the child tree (a tunqos extension); Linux's ingress holds no packets.
 * Reference: net/sched/sch_ingress.c, tc-ingress in tc(8), LARTC §14.4.
 */
import { CLS_SHOT } from '../classify/classifier';
import type { Nanos } from '../time/clock';
import { QdiscBase, qdiscDrop } from './base';
import { attachChild, dequeueChild, detachChild, enqueueChild } from './child';
import { Fifo } from './fifo';
import { type Qdisc, type QdiscEnv, TC_H_INGRESS } from './qdisc';
import { DropReason } from './stats';

export const INGRESS_HANDLE = 0xffff0000;

export class IngressQdisc extends QdiscBase {
  /** the qdisc packets go to after the filters: a grafted tree, or the pass-through FIFO */
  child: Qdisc;
  /** true when `child` is the built-in pass-through FIFO (not shown by `tc qdisc show`) */
  childIsDefault = true;

  constructor(handle: number, env: QdiscEnv) {
    super('ingress', handle, env, TC_H_INGRESS);
    this.child = IngressQdisc.passThrough(env, handle);
    this.child.owner = this;
  }

  static passThrough(env: QdiscEnv, parent: number): Qdisc {
    const f = new Fifo('pfifo', 0, env, { limit: Math.max(1, env.txQueueLen) * 10 });
    f.parent = parent;
    return f;
  }

  enqueue(pkt: number, now: Nanos): number {
    if (this.filters !== null && this.filters.classify(pkt, now) === CLS_SHOT) {
      return qdiscDrop(this.stats, this.env.arena, pkt, DropReason.Police);
    }
    // The child's drops stay in the child's counters (see the header): not carried (seen null).
    return enqueueChild(this.stats, this.child, null, pkt, now);
  }

  dequeue(now: Nanos): number {
    const child = this.child;
    const pkt = dequeueChild(this.stats, child, now);
    if (pkt < 0) {
      this.wakeAt = child.wakeAt;
      return -1;
    }
    this.stats.countSent(this.env.arena.len[pkt]);
    this.wakeAt = Infinity;
    return pkt;
  }

  peek(now: Nanos): number {
    return this.child.peek(now);
  }

  reset(): void {
    this.child.reset(); // reports through childReduced
    this.purged(0, 0);
  }

  /**
   * Grafts `q` as the child (null: back to the pass-through FIFO) and returns the old child. The old
   * child keeps its packets: the caller purges it (reset) once the change is committed.
   */
  setChild(q: Qdisc | null): Qdisc {
    const old = this.child;
    detachChild(this, old, false); // its packets leave our counters now; the caller purges them
    this.child = q ?? IngressQdisc.passThrough(this.env, this.handle);
    this.childIsDefault = q === null;
    attachChild(this, this.child, this.handle, null);
    return old;
  }
}
