/**
 * pfifo_fast: the classic default discipline — three FIFO bands served in strict priority order.
 *
 * Each packet goes to band `priomap[priority & 15]`, where `priority` is the Linux skb->priority the
 * forwarder derived from the TOS byte (preparePacket, decision D6: minimise-delay → 6 → band 0,
 * best effort → 0 → band 1, bulk → 2 → band 2). Dequeue always takes band 0 first, then 1, then 2:
 * while band 0 has a packet, band 1 waits.
 * Parameters (fixed, not settable with tc, as in Linux): 3 bands, priomap
 * `1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1`, and a limit of txqueuelen packets PER BAND (modern Linux keeps
 * one skb_array of tx_queue_len per band; kernels before 4.16 limited the total to txqueuelen).
 * Differences from Linux: none in behaviour; statistics are kept (modern kernels keep them too).
 * Reference: net/sched/sch_generic.c (pfifo_fast_enqueue/dequeue), tc-pfifo_fast(8), LARTC §9.2.1.
 */
import type { Nanos } from '../time/clock';
import { QdiscBase, purgeRing, qdiscDrop } from './base';
import { PacketRing } from './ring';
import { type QdiscEnv, XMIT_SUCCESS } from './qdisc';
import { DropReason } from './stats';

export const PFIFO_FAST_BANDS = 3;
/** prio2band of sch_generic.c: priority → band */
export const DEFAULT_PRIOMAP: readonly number[] = [1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];

export class PfifoFast extends QdiscBase {
  /** packets per band */
  readonly limit: number;
  readonly priomap = new Uint8Array(DEFAULT_PRIOMAP);
  private readonly bands: PacketRing[];

  constructor(handle: number, env: QdiscEnv) {
    super('pfifo_fast', handle, env);
    this.limit = Math.max(1, env.txQueueLen);
    this.bands = [new PacketRing(this.limit), new PacketRing(this.limit), new PacketRing(this.limit)];
  }

  /** packets waiting in band `i` (tests, stats) */
  bandLength(i: number): number {
    return this.bands[i].length;
  }

  enqueue(pkt: number, _now: Nanos): number {
    const arena = this.env.arena;
    const band = this.priomap[arena.priority[pkt] & 15];
    if (!this.bands[band].push(pkt)) return qdiscDrop(this.stats, arena, pkt, DropReason.QueueFull);
    this.stats.countQueued(arena.len[pkt]);
    return XMIT_SUCCESS;
  }

  dequeue(_now: Nanos): number {
    for (let band = 0; band < PFIFO_FAST_BANDS; band++) {
      const pkt = this.bands[band].shift();
      if (pkt >= 0) {
        this.stats.countDequeued(this.env.arena.len[pkt]);
        return pkt;
      }
    }
    return -1;
  }

  peek(_now: Nanos): number {
    for (let band = 0; band < PFIFO_FAST_BANDS; band++) {
      const pkt = this.bands[band].peek();
      if (pkt >= 0) return pkt;
    }
    return -1;
  }

  reset(): void {
    let packets = 0;
    let bytes = 0;
    for (const ring of this.bands) {
      packets += ring.length;
      bytes += purgeRing(ring, this.stats, this.env.arena);
    }
    this.purged(packets, bytes);
  }
}
