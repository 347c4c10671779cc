/**
 * The police action: a token-bucket meter that never delays, it only says conform or exceed.
 *
 * Algorithm (net/sched/act_police.c, tcf_police_act), in nanoseconds of credit:
 *   - with `avrate`: if the measured rate is at or above avrate → exceed (no bucket is used);
 *   - a packet longer than `mtu` always exceeds;
 *   - without a rate → conform;
 *   - otherwise toks = min(now − t_c, burst) + saved toks, capped at burst, minus the packet's
 *     transmission time at `rate` (len + overhead, at least mpu); with `peakrate` a second bucket of
 *     depth "mtu at peakrate" is charged the same way; if both are >= 0 the packet conforms and the
 *     buckets are saved with t_c = now, else it exceeds and nothing is saved.
 * So over T seconds at most burst + rate·T bytes conform (the bucket starts full).
 *
 * Parameters: rate and peakrate in bytes/s, burst/mtu/overhead/mpu in bytes, avrate in bytes/s.
 * Verdicts: conform (default ok) and exceed (default reclassify, iproute2's default) from action.ts.
 * Counters as `tc -s` shows them: packets/bytes (every packet seen), drops (exceed = drop),
 * overlimits (every exceed).
 *
 * Differences from Linux: time is passed in (`now`), float ns instead of psched ticks; the bucket
 * starts full at the first packet; avrate uses this action's own estimator: an EWMA (weight 1/4)
 * of the byte rate sampled every 40 ms (25 times a second, as the seeds describe), instead of a
 * separately configured gen_estimator. Without rate and mtu, Linux's default mtu is "unlimited";
 * with a rate and no mtu it is 2040 bytes (255 << cell_log 3, from iproute2's rate table).
 */
import { lengthToTime, type Nanos } from '../time/clock';
import { TC_ACT_OK, TC_ACT_RECLASSIFY, TC_ACT_SHOT } from './action';

export interface PoliceOptions {
  rate?: number; // bytes/s
  burst?: number; // bytes
  mtu?: number; // bytes; 0/undefined = default
  peakrate?: number; // bytes/s
  avrate?: number; // bytes/s
  overhead?: number;
  mpu?: number;
  conform?: number; // TC_ACT_*
  exceed?: number; // TC_ACT_*
  index?: number;
}

export const POLICE_DEFAULT_MTU_WITH_RATE = 2040;
const EST_INTERVAL: Nanos = 40_000_000; // 25 samples per second
const EST_WEIGHT = 0.25;

export class Police {
  readonly rate: number;
  readonly burst: number; // bytes (for show)
  readonly burstNs: Nanos;
  readonly mtu: number;
  readonly peakrate: number;
  readonly mtuPtoks: Nanos;
  readonly avrate: number;
  readonly overhead: number;
  readonly mpu: number;
  readonly conform: number;
  readonly exceed: number;
  readonly index: number;
  // bucket state
  private toks: Nanos;
  private ptoks: Nanos;
  private tC: Nanos;
  // estimator state (avrate)
  estBps = 0;
  private estStart: Nanos = -1;
  private estBytes = 0;
  // counters
  packets = 0;
  bytes = 0;
  drops = 0;
  overlimits = 0;

  constructor(o: PoliceOptions) {
    this.rate = o.rate ?? 0;
    this.burst = o.burst ?? 0;
    this.overhead = o.overhead ?? 0;
    this.mpu = o.mpu ?? 0;
    this.burstNs = this.rate > 0 ? lengthToTime(this.burst, this.rate) : 0;
    this.mtu = o.mtu && o.mtu > 0 ? o.mtu : this.rate > 0 ? POLICE_DEFAULT_MTU_WITH_RATE : 0xffffffff;
    this.peakrate = o.peakrate ?? 0;
    this.mtuPtoks = this.peakrate > 0 ? lengthToTime(this.mtu, this.peakrate, this.overhead, this.mpu) : 0;
    this.avrate = o.avrate ?? 0;
    this.conform = o.conform ?? TC_ACT_OK;
    this.exceed = o.exceed ?? TC_ACT_RECLASSIFY;
    this.index = o.index ?? 0;
    this.toks = this.burstNs;
    this.ptoks = this.mtuPtoks;
    this.tC = -1;
  }

  /** Meters one packet of `len` bytes at time `now`; returns the conform or exceed verdict. */
  act(len: number, now: Nanos): number {
    this.packets++;
    this.bytes += len;
    if (this.avrate > 0) {
      this.estimate(len, now);
      if (this.estBps >= this.avrate) return this.overLimit();
    }
    if (len <= this.mtu) {
      if (this.rate <= 0) return this.conform;
      if (this.tC < 0) this.tC = now;
      let toks = now - this.tC;
      if (toks > this.burstNs) toks = this.burstNs;
      let ptoks = 0;
      if (this.peakrate > 0) {
        ptoks = toks + this.ptoks;
        if (ptoks > this.mtuPtoks) ptoks = this.mtuPtoks;
        ptoks -= lengthToTime(len, this.peakrate, this.overhead, this.mpu);
      }
      toks += this.toks;
      if (toks > this.burstNs) toks = this.burstNs;
      toks -= lengthToTime(len, this.rate, this.overhead, this.mpu);
      if (toks >= 0 && ptoks >= 0) {
        this.tC = now;
        this.toks = toks;
        this.ptoks = ptoks;
        return this.conform;
      }
    }
    return this.overLimit();
  }

  private overLimit(): number {
    this.overlimits++;
    if (this.exceed === TC_ACT_SHOT) this.drops++;
    return this.exceed;
  }

  /** EWMA of the byte rate over 40 ms windows, fed by every packet the action sees. */
  private estimate(len: number, now: Nanos): void {
    if (this.estStart < 0) this.estStart = now;
    const dt = now - this.estStart;
    if (dt >= EST_INTERVAL) {
      const sample = (this.estBytes * 1e9) / dt;
      this.estBps += EST_WEIGHT * (sample - this.estBps);
      this.estStart = now;
      this.estBytes = 0;
    }
    this.estBytes += len;
  }

  clone(): Police {
    const p = new Police({
      rate: this.rate,
      burst: this.burst,
      mtu: this.mtu,
      peakrate: this.peakrate,
      avrate: this.avrate,
      overhead: this.overhead,
      mpu: this.mpu,
      conform: this.conform,
      exceed: this.exceed,
      index: this.index,
    });
    p.toks = this.toks;
    p.ptoks = this.ptoks;
    p.tC = this.tC;
    p.estBps = this.estBps;
    p.estStart = this.estStart;
    p.estBytes = this.estBytes;
    p.packets = this.packets;
    p.bytes = this.bytes;
    p.drops = this.drops;
    p.overlimits = this.overlimits;
    return p;
  }
}
