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

  countDrop(reason: DropReasonCode): void {
    this.drops++;
    this.dropsByReason[reason]++;
  }

  countSent(bytes: number): void {
    this.bytes += bytes;
    this.packets++;
  }
}

/**
 * Carries into `parent` the drops a child counted since the last call, reason by reason, and returns
 * how many. `seen` holds the child's per-reason counts already carried: one array per child, set to
 * the child's counts when it is grafted. Called on the rare path where a child's drop count moved, so
 * a RED early drop under PRIO shows as `red_early` at the root, not as a generic queue overflow.
 */
export function absorbChildDrops(parent: QdiscStats, child: QdiscStats, seen: Float64Array): number {
  const by = child.dropsByReason;
  let total = 0;
  for (let r = 0; r < by.length; r++) {
    const d = by[r] - seen[r];
    if (d !== 0) {
      parent.dropsByReason[r] += d;
      seen[r] = by[r];
      total += d;
    }
  }
  parent.drops += total;
  return total;
}
