/**
 * pfifo and bfifo: first in, first out, with a tail-drop limit.
 *
 * The simplest discipline, and the reference for the Qdisc contract (src/qdisc/qdisc.ts). A packet
 * that would take the queue past its limit is dropped on arrival (tail drop) and counted.
 *  - pfifo: `limit` in packets; default the device's txqueuelen.
 *  - bfifo: `limit` in bytes; default txqueuelen × MTU, as Linux's fifo_init computes it.
 * Differences from Linux: none in behaviour; `pfifo_head_drop` is not offered.
 * Reference: net/sched/sch_fifo.c, tc-pfifo(8), LARTC §14.1.
 */
import type { Classifier } from '../classify/classifier';
import type { Nanos } from '../time/clock';
import { PacketRing } from './ring';
import { type Qdisc, type QdiscEnv, type QdiscOwner, TC_H_ROOT, XMIT_DROP, XMIT_SUCCESS, reduceBacklog } from './qdisc';
import { DropReason, QdiscStats } from './stats';

export interface FifoOptions {
  /** packets (pfifo) or bytes (bfifo); undefined: the default from the device */
  limit?: number;
}

export class Fifo implements Qdisc {
  readonly kind: 'pfifo' | 'bfifo';
  handle: number;
  parent = TC_H_ROOT;
  readonly stats = new QdiscStats();
  filters: Classifier | null = null;
  owner: QdiscOwner | null = null;
  wakeAt: Nanos = Infinity;
  /** packets (pfifo) or bytes (bfifo) */
  limit: number;
  private readonly ring: PacketRing;
  private readonly env: QdiscEnv;

  constructor(kind: 'pfifo' | 'bfifo', handle: number, env: QdiscEnv, opts: FifoOptions = {}) {
    this.kind = kind;
    this.handle = handle;
    this.env = env;
    this.limit = opts.limit ?? Fifo.defaultLimit(kind, env);
    // Even a bfifo never holds more packets than the arena has slots.
    this.ring = new PacketRing(kind === 'pfifo' ? Math.max(1, this.limit) : env.arena.slotCount);
  }

  static defaultLimit(kind: 'pfifo' | 'bfifo', env: QdiscEnv): number {
    return kind === 'pfifo' ? Math.max(1, env.txQueueLen) : Math.max(1, env.txQueueLen) * env.mtu;
  }

  enqueue(pkt: number, _now: Nanos): number {
    const len = this.env.arena.len[pkt];
    const full = this.kind === 'pfifo' ? this.stats.qlen >= this.limit : this.stats.backlog + len > this.limit;
    if (full || !this.ring.push(pkt)) {
      this.stats.countDrop(DropReason.QueueFull);
      this.env.arena.free(pkt);
      return XMIT_DROP;
    }
    this.stats.qlen++;
    this.stats.backlog += len;
    return XMIT_SUCCESS;
  }

  dequeue(_now: Nanos): number {
    const pkt = this.ring.shift();
    if (pkt < 0) return -1;
    const len = this.env.arena.len[pkt];
    this.stats.qlen--;
    this.stats.backlog -= len;
    this.stats.countSent(len);
    return pkt;
  }

  peek(_now: Nanos): number {
    return this.ring.peek();
  }

  /**
   * New limit on a live queue (`tc qdisc change`). As in Linux, packets already queued beyond the new
   * limit stay and drain normally; only new arrivals see the lower limit.
   */
  setLimit(limit: number): void {
    this.limit = limit;
    if (this.kind === 'pfifo') this.ring.grow(limit);
  }

  reset(): void {
    let packets = 0;
    let bytes = 0;
    for (let pkt = this.ring.shift(); pkt >= 0; pkt = this.ring.shift()) {
      const len = this.env.arena.len[pkt];
      this.stats.countDrop(DropReason.Purge);
      this.env.arena.free(pkt);
      packets++;
      bytes += len;
    }
    this.stats.qlen = 0;
    this.stats.backlog = 0;
    reduceBacklog(this, packets, bytes);
  }
}
