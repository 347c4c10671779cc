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
import { CLS_SHOT, type Classifier } from '../classify/classifier';
import type { Nanos } from '../time/clock';
import { Fifo } from './fifo';
import { type Qdisc, type QdiscEnv, type QdiscOwner, TC_H_INGRESS, XMIT_DROP, reduceBacklog } from './qdisc';
import { DropReason, QdiscStats } from './stats';

export const INGRESS_HANDLE = 0xffff0000;

export class IngressQdisc implements Qdisc, QdiscOwner {
  readonly kind = 'ingress';
  handle: number;
  parent = TC_H_INGRESS;
  readonly stats = new QdiscStats();
  filters: Classifier | null = null;
  owner: QdiscOwner | null = null;
  wakeAt: Nanos = Infinity;
  /** the qdisc packets go to after the filters: a grafted tree, or the pass-through FIFO */
  child: Qdisc;
  /** true when `child` is the built-in pass-through FIFO (not shown by `tc qdisc show`) */
  childIsDefault = true;
  private readonly env: QdiscEnv;

  constructor(handle: number, env: QdiscEnv) {
    this.handle = handle;
    this.env = env;
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
      this.stats.countDrop(DropReason.Police);
      this.env.arena.free(pkt);
      return XMIT_DROP;
    }
    const child = this.child;
    const qlen = child.stats.qlen;
    const backlog = child.stats.backlog;
    const verdict = child.enqueue(pkt, now);
    this.stats.qlen += child.stats.qlen - qlen;
    this.stats.backlog += child.stats.backlog - backlog;
    return verdict;
  }

  dequeue(now: Nanos): number {
    const child = this.child;
    const pkt = child.dequeue(now);
    if (pkt < 0) {
      this.wakeAt = child.wakeAt;
      return -1;
    }
    const len = this.env.arena.len[pkt];
    this.stats.qlen--;
    this.stats.backlog -= len;
    this.stats.countSent(len);
    this.wakeAt = Infinity;
    return pkt;
  }

  peek(now: Nanos): number {
    return this.child.peek(now);
  }

  reset(): void {
    this.child.reset();
    this.stats.qlen = 0;
    this.stats.backlog = 0;
  }

  childReduced(_child: Qdisc, packets: number, bytes: number): void {
    this.stats.qlen -= packets;
    this.stats.backlog -= bytes;
    reduceBacklog(this, packets, bytes);
  }

  /**
   * Grafts `q` as the child (null: back to the pass-through FIFO) and returns the old child. The old
   * child keeps its packets: the caller purges it (reset) once the change is committed.
   */
  setChild(q: Qdisc | null): Qdisc {
    const old = this.child;
    // the old child's packets leave our counters now; the caller purges them
    this.stats.qlen -= old.stats.qlen;
    this.stats.backlog -= old.stats.backlog;
    old.owner = null;
    this.child = q ?? IngressQdisc.passThrough(this.env, this.handle);
    this.childIsDefault = q === null;
    this.child.owner = this;
    this.child.parent = this.handle;
    this.stats.qlen += this.child.stats.qlen;
    this.stats.backlog += this.child.stats.backlog;
    return old;
  }
}
