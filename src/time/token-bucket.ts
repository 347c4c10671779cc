/**
 * The dual token bucket that TBF (sch_tbf.c tbf_dequeue) and the police action (act_police.c
 * tcf_police_act) both meter with, counted in nanoseconds of credit as Linux does since 3.8.
 *
 * The rate bucket holds at most `depth` ns (the burst, sent at the rate); the optional peak bucket at
 * most `pdepth` ns (one mtu, sent at the peak rate), which bounds how fast a full rate bucket drains.
 * Credit is the time since the checkpoint `tC`. For a packet of `len` bytes, with l2t = psched_l2t_ns:
 *    toks  = min(now − tC, depth)
 *    ptoks = min(toks + ptokens, pdepth) − l2t(peak, len)        (only with a peak rate)
 *    toks  = min(toks + tokens, depth) − l2t(rate, len)
 *    both ≥ 0 → the packet conforms; once it is sent: tC = now, tokens = toks, ptokens = ptoks
 *    else     → it is max(−toks, −ptoks) ns early (TBF waits that long; police says "exceed")
 * `conforms` does the arithmetic and keeps the would-be levels without touching the bucket, so TBF
 * can look at its head packet as often as it likes and `commit` only when the packet really leaves.
 *
 * Hot path: one TokenBucket per shaper, set up once; conforms and commit read and write numbers only.
 * Their results are a boolean and fields (next*, `wait`), never a returned Nanos: a float returned
 * from a call V8 does not inline comes back as a freshly boxed number. `charge` returns the wait for
 * callers off the packet path (tests, tools).
 */
import type { Nanos } from './clock';
import { LINKLAYER_ETHERNET, pschedL2t } from './psched';

export class TokenBucket {
  /** rate bucket depth, ns */
  depth: Nanos = 0;
  /** peak bucket depth, ns (0 without a peak rate) */
  pdepth: Nanos = 0;
  /** ns per byte at the rate (pschedNsPerByte) */
  nsPerByte = 0;
  /** ns per byte at the peak rate; 0 = no peak rate */
  peakNsPerByte = 0;
  overhead = 0;
  mpu = 0;
  linklayer = LINKLAYER_ETHERNET;
  /** credit in each bucket at the checkpoint, ns */
  tokens: Nanos = 0;
  ptokens: Nanos = 0;
  /** the checkpoint: when tokens/ptokens were last brought up to date */
  tC: Nanos = 0;
  /** the levels the last conforms() computed, kept by commit() */
  nextTokens: Nanos = 0;
  nextPtokens: Nanos = 0;
  /** when the last conforms() said no: ns until that packet would conform */
  wait: Nanos = 0;

  /** new parameters (set-up time); both buckets start full, the checkpoint stays */
  configure(depth: Nanos, pdepth: Nanos, nsPerByte: number, peakNsPerByte: number, overhead: number, mpu: number, linklayer: number): void {
    this.depth = depth;
    this.pdepth = pdepth;
    this.nsPerByte = nsPerByte;
    this.peakNsPerByte = peakNsPerByte;
    this.overhead = overhead;
    this.mpu = mpu;
    this.linklayer = linklayer;
    this.fill();
  }

  /** both buckets full */
  fill(): void {
    this.tokens = this.depth;
    this.ptokens = this.pdepth;
  }

  /** ns until a packet of `len` bytes conforms, 0 if it does now; the levels after it go to next* */
  charge(len: number, now: Nanos): Nanos {
    return this.conforms(len, now) ? 0 : this.wait;
  }

  /**
   * Does a packet of `len` bytes conform at `now`? The levels after it go to next* (for commit), and
   * when it does not, `wait` is how many ns early it is.
   */
  conforms(len: number, now: Nanos): boolean {
    let toks = now - this.tC;
    if (toks > this.depth) toks = this.depth;
    let ptoks = 0;
    if (this.peakNsPerByte > 0) {
      ptoks = toks + this.ptokens;
      if (ptoks > this.pdepth) ptoks = this.pdepth;
      ptoks -= pschedL2t(len, this.peakNsPerByte, this.overhead, this.mpu, this.linklayer);
    }
    toks += this.tokens;
    if (toks > this.depth) toks = this.depth;
    toks -= pschedL2t(len, this.nsPerByte, this.overhead, this.mpu, this.linklayer);
    this.nextTokens = toks;
    this.nextPtokens = ptoks;
    if (toks >= 0 && ptoks >= 0) return true;
    this.wait = -toks > -ptoks ? -toks : -ptoks;
    return false;
  }

  /** the packet last charged was sent at `now`: keep the levels conforms() computed */
  commit(now: Nanos): void {
    this.tC = now;
    this.tokens = this.nextTokens;
    this.ptokens = this.nextPtokens;
  }
}
