/**
 * The police action: a token-bucket meter that never delays, it only says conform or exceed.
 *
 * Algorithm (net/sched/act_police.c, tcf_police_act), in nanoseconds of credit:
 *   - with `avrate`: if the measured rate is at or above avrate → exceed (no bucket is used);
 *   - a packet longer than `mtu` always exceeds;
 *   - without a rate → conform;
 *   - otherwise the packet is charged to the dual token bucket TBF uses (time/token-bucket.ts): a
 *     bucket of `burst` at `rate` (the packet costs len + overhead, at least mpu), and with `peakrate`
 *     a second one of depth "mtu at peakrate"; if both hold enough the packet conforms and the bucket
 *     keeps the new levels with t_c = now, else it exceeds and nothing is kept.
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
import type { Nanos } from '../time/clock';
import { LINKLAYER_ETHERNET, pschedL2t, pschedNsPerByte } from '../time/psched';
import { TokenBucket } from '../time/token-bucket';
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
  readonly mtu: number;
  readonly peakrate: number;
  readonly avrate: number;
  readonly overhead: number;
  readonly mpu: number;
  readonly conform: number;
  readonly exceed: number;
  readonly index: number;
  /** depth: `burst` at `rate`; peak depth: `mtu` at `peakrate`; t_c < 0 until the first packet */
  private readonly bucket = new TokenBucket();
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
    this.mtu = o.mtu && o.mtu > 0 ? o.mtu : this.rate > 0 ? POLICE_DEFAULT_MTU_WITH_RATE : 0xffffffff;
    this.peakrate = o.peakrate ?? 0;
    this.avrate = o.avrate ?? 0;
    this.conform = o.conform ?? TC_ACT_OK;
    this.exceed = o.exceed ?? TC_ACT_RECLASSIFY;
    this.index = o.index ?? 0;
    // The burst is converted without overhead, as tc converts it (tc_calc_xmittime); the peak
    // bucket's mtu with it, as the kernel does (psched_l2t_ns).
    const rateNs = this.rate > 0 ? pschedNsPerByte(this.rate) : 0;
    const burstNs = this.rate > 0 ? pschedL2t(this.burst, rateNs, 0, 0, LINKLAYER_ETHERNET) : 0;
    const peakNs = this.peakrate > 0 ? pschedNsPerByte(this.peakrate) : 0;
    const mtuPtoks = this.peakrate > 0 ? pschedL2t(this.mtu, peakNs, this.overhead, this.mpu, LINKLAYER_ETHERNET) : 0;
    this.bucket.configure(burstNs, mtuPtoks, rateNs, peakNs, this.overhead, this.mpu, LINKLAYER_ETHERNET);
    this.bucket.tC = -1;
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
      const b = this.bucket;
      if (b.tC < 0) b.tC = now;
      if (b.conforms(len, now)) {
        b.commit(now);
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
    p.bucket.tokens = this.bucket.tokens;
    p.bucket.ptokens = this.bucket.ptokens;
    p.bucket.tC = this.bucket.tC;
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
