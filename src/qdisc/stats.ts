/**
 * Counters every qdisc and class keeps, as `tc -s` shows them (Sent bytes/pkt, dropped, overlimits,
 * requeues, backlog), plus drops broken down by reason for metrics, and a rate estimator.
 *
 * `qlen` and `backlog` are authoritative: a parent learns how a child changed by reading them before
 * and after a call (see qdisc.ts), never by assuming "+1".
 */
import type { Nanos } from '../time/clock';

/** Why a packet was dropped. Indexes `QdiscStats.dropsByReason`; names are the metrics' `reason` label. */
export const DropReason = {
  /** the queue (or a flow in it) was at its limit */
  QueueFull: 0,
  /** RED chose it with probability (prob_drop) */
  RedEarly: 1,
  /** RED average above max (forced_drop) */
  RedForced: 2,
  /** a policer's exceed action said drop */
  Police: 3,
  /** SFQ had no free flow slot */
  NoFlowSlot: 4,
  /** a classifier said drop, or classification looped */
  Classify: 5,
  /** removed by a configuration change (class deleted, limit shrunk, qdisc replaced) */
  Purge: 6,
  /** larger than the qdisc can ever send (TBF max_size, HTB giant beyond mtu) */
  TooBig: 7,
} as const;
export type DropReasonCode = (typeof DropReason)[keyof typeof DropReason];
export const DROP_REASON_NAMES = ['queue_full', 'red_early', 'red_forced', 'police', 'no_flow_slot', 'classify', 'purge', 'too_big'];

/**
 * Rate estimator: an EWMA over samples taken by `sample(now)` (the control plane calls it about once a
 * second), like the kernel's gen_estimator. Reads the counters; never touched per packet.
 */
export class RateEstimator {
  bps = 0; // bytes per second
  pps = 0;
  private lastBytes = 0;
  private lastPackets = 0;
  private lastTime = -1;
  /** true once two samples made an estimate (tc prints `rate ... pps` only when an estimator exists) */
  get active(): boolean {
    return this.samples > 1;
  }
  private samples = 0;
  /** weight of the newest sample (1 = no smoothing) */
  constructor(private readonly weight = 0.5) {}
  sample(now: Nanos, bytes: number, packets: number): void {
    if (this.lastTime >= 0 && now > this.lastTime) {
      const dt = (now - this.lastTime) / 1e9;
      const bps = (bytes - this.lastBytes) / dt;
      const pps = (packets - this.lastPackets) / dt;
      this.bps += this.weight * (bps - this.bps);
      this.pps += this.weight * (pps - this.pps);
    }
    this.lastTime = now;
    this.samples++;
    this.lastBytes = bytes;
    this.lastPackets = packets;
  }
}

export class QdiscStats {
  /** bytes and packets sent (dequeued) */
  bytes = 0;
  packets = 0;
  drops = 0;
  overlimits = 0;
  requeues = 0;
  /** packets and bytes currently queued */
  qlen = 0;
  backlog = 0;
  readonly dropsByReason = new Float64Array(DROP_REASON_NAMES.length);
  readonly rate = new RateEstimator();

  /** qdisc_qstats_drop, by reason */
  countDrop(reason: DropReasonCode): void {
    this.drops++;
    this.dropsByReason[reason]++;
  }

  /** qdisc_bstats_update: a packet of `bytes` was sent */
  countSent(bytes: number): void {
    this.bytes += bytes;
    this.packets++;
  }

  /** sch->q.qlen++ and qdisc_qstats_backlog_inc: a packet of `len` bytes joined the queue */
  countQueued(len: number): void {
    this.qlen++;
    this.backlog += len;
  }

  /** sch->q.qlen--, qdisc_qstats_backlog_dec and qdisc_bstats_update: a packet of `len` bytes left and was sent */
  countDequeued(len: number): void {
    this.qlen--;
    this.backlog -= len;
    this.countSent(len);
  }
}
