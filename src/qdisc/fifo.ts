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
import type { Nanos } from '../time/clock';
import { QdiscBase, purgeRing, qdiscDrop } from './base';
import { PacketRing } from './ring';
import { type QdiscEnv, XMIT_SUCCESS } from './qdisc';
import { DropReason } from './stats';

export interface FifoOptions {
  /** packets (pfifo) or bytes (bfifo); undefined: the default from the device */
  limit?: number;
}

export class Fifo extends QdiscBase {
  declare readonly kind: 'pfifo' | 'bfifo';
  /** packets (pfifo) or bytes (bfifo) */
  limit: number;
  private readonly ring: PacketRing;

  constructor(kind: 'pfifo' | 'bfifo', handle: number, env: QdiscEnv, opts: FifoOptions = {}) {
    super(kind, handle, env);
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
    if (full || !this.ring.push(pkt)) return qdiscDrop(this.stats, this.env.arena, pkt, DropReason.QueueFull);
    this.stats.countQueued(len);
    return XMIT_SUCCESS;
  }

  dequeue(_now: Nanos): number {
    const pkt = this.ring.shift();
    if (pkt < 0) return -1;
    this.stats.countDequeued(this.env.arena.len[pkt]);
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
    const packets = this.ring.length;
    this.purged(packets, purgeRing(this.ring, this.stats, this.env.arena));
  }
}
