/**
 * RED: Random Early Detection, an active queue manager in front of a byte FIFO.
 *
 * On every arrival RED updates an exponentially weighted moving average of the queue's byte backlog,
 * avg ← avg + W·(backlog − avg) with W = 2^−Wlog (kept, as in the kernel, as a fixed-point number
 * `qavg` = avg·2^Wlog, updated with integer shifts). Below `min` nothing happens. At or above `max`
 * every packet is dropped (or, with `ecn`, CE-marked unless `harddrop`). In between a packet is
 * dropped/marked with probability p_b = max_P·(avg − min)/(max − min), spread out with the
 * Floyd–Jacobson count: the n-th packet since the last mark is marked when
 * (avg − min)·n ≥ R, R uniform in [0, (max − min)/max_P) drawn after each mark (red_action).
 * After an idle period the average decays as if empty packets of `avpkt` bytes had been sent at
 * `bandwidth` during it, through the userland table Stab/Scell_log (red_calc_qavg_from_idle_time).
 * `adaptive` retunes max_P every 500 ms toward keeping avg in the middle of [min, max] (Floyd,
 * Gummadi & Shenker 2001). `nodrop` with ecn queues non-ECT packets instead of dropping them.
 * The queue behind RED is a bfifo of `limit` bytes: its overflow drops count as `pdrop`.
 * Parameters (all bytes unless said): limit, min (qth_min), max (qth_max), Wlog, Plog, Scell_log,
 * Stab (256 shifts), max_P (probability × 2^32), flags.
 * Differences from Linux: the adaptive timer and the idle clock run on `now` passed to
 * enqueue/dequeue (no timer); `tc qdisc change` keeps queued packets (Linux swaps in a new empty
 * bfifo) but resets the average, as Linux does.
 * Reference: include/net/red.h, net/sched/sch_red.c, tc/q_red.c, tc/tc_red.c, tc-red(8), LARTC §14.5.
 */
import { setCe } from '../packet/ecn';
import { NS_PER_MS, type Nanos } from '../time/clock';
import { QdiscBase, qdiscDrop } from './base';
import { dequeueChild, enqueueChild } from './child';
import { Fifo } from './fifo';
import { type QdiscEnv, XMIT_DROP } from './qdisc';
import { DropReason } from './stats';

export const TC_RED_ECN = 1;
export const TC_RED_HARDDROP = 2;
export const TC_RED_ADAPTATIVE = 4;
export const TC_RED_NODROP = 8;

const TWO32 = 4294967296;
/** RED_ONE_PERCENT = DIV_ROUND_CLOSEST(2^32, 100) */
const RED_ONE_PERCENT = Math.round(TWO32 / 100);
const MAX_P_MIN = RED_ONE_PERCENT;
const MAX_P_MAX = 50 * RED_ONE_PERCENT;
export const RED_ADAPT_PERIOD = 500 * NS_PER_MS;

/** What tc sends to the kernel (struct tc_red_qopt + TCA_RED_STAB/MAX_P/FLAGS). */
export interface RedParams {
  limit: number;
  qthMin: number;
  qthMax: number;
  Wlog: number;
  Plog: number;
  ScellLog: number;
  /** 256 idle-decay shifts */
  stab: Uint8Array;
  /** Q0.32 probability; 0 = derive from Plog */
  maxP: number;
  flags: number;
}

export const RED_DONT_MARK = 0;
export const RED_PROB_MARK = 1;
export const RED_HARD_MARK = 2;

export class Red extends QdiscBase {
  params: RedParams;
  child: Fifo;
  // red_parms (derived)
  qthMinW = 0; // qth_min << Wlog
  qthMaxW = 0;
  qthDelta = 1;
  maxP = 0;
  maxPDelta = 1; // max_P / qth_delta, divisor of the random number
  targetMin = 0;
  targetMax = 0;
  ScellMax = 0;
  // red_vars
  qavg = 0; // fixed point, point at Wlog
  qcount = -1;
  qR = 0;
  /** ns when the queue went idle; NaN when not idling */
  qidlestart: Nanos = NaN;
  /** next adaptive step (ns); NaN until armed */
  nextAdapt: Nanos = NaN;
  // xstats
  probDrop = 0;
  forcedDrop = 0;
  probMark = 0;
  forcedMark = 0;
  pdrop = 0;
  other = 0;

  constructor(handle: number, env: QdiscEnv, params: RedParams) {
    super('red', handle, env);
    this.params = params;
    this.child = new Fifo('bfifo', 0, env, { limit: params.limit });
    this.child.owner = this;
    this.setParams(params);
    this.startIdle(0);
  }

  /** red_set_parms + red_set_vars */
  private setParams(p: RedParams): void {
    const W = 2 ** p.Wlog;
    this.qthMinW = p.qthMin * W;
    this.qthMaxW = p.qthMax * W;
    let delta = p.qthMax - p.qthMin;
    if (delta <= 0) delta = 1;
    this.qthDelta = delta;
    let maxP = p.maxP;
    if (!maxP) maxP = Math.floor(TWO32 / 2 ** p.Plog) * delta; // red_maxp(Plog) * delta
    this.maxP = maxP >>> 0;
    this.maxPDelta = Math.max(Math.floor(this.maxP / delta), 1);
    const d5 = Math.floor(delta / 5);
    this.targetMin = p.qthMin + 2 * d5;
    this.targetMax = p.qthMin + 3 * d5;
    this.ScellMax = 255 * 2 ** p.ScellLog;
    this.qavg = 0;
    this.qcount = -1;
  }

  /** `tc qdisc change`: new parameters, queued packets stay, the average restarts from 0. */
  change(p: RedParams, now: Nanos = 0): void {
    this.params = p;
    this.child.setLimit(p.limit);
    this.setParams(p);
    this.nextAdapt = NaN;
    if (this.child.stats.qlen === 0) this.startIdle(now);
  }

  private startIdle(now: Nanos): void {
    this.qidlestart = now;
  }

  /** red_calc_qavg_from_idle_time */
  private qavgFromIdle(now: Nanos): number {
    const deltaUs = Math.floor((now - this.qidlestart) / 1000);
    const usIdle = deltaUs < this.ScellMax ? deltaUs : this.ScellMax;
    const ScellW = 2 ** this.params.ScellLog;
    const shift = this.params.stab[Math.floor(usIdle / ScellW) & 255];
    if (shift) return Math.floor(this.qavg / 2 ** shift);
    // linear approximation of (1 − W)^m for short idle times, never below half
    const dec = Math.floor((this.qavg * usIdle) / ScellW);
    const half = Math.floor(this.qavg / 2);
    return dec < half ? this.qavg - dec : half;
  }

  /** the current average queue in bytes (fixed point undone) */
  averageBytes(): number {
    return this.qavg / 2 ** this.params.Wlog;
  }

  /** red_action on `qavg`: DONT_MARK, PROB_MARK or HARD_MARK; updates qcount/qR */
  action(qavg: number): number {
    if (qavg < this.qthMinW) {
      this.qcount = -1;
      return RED_DONT_MARK;
    }
    if (qavg >= this.qthMaxW) {
      this.qcount = -1;
      return RED_HARD_MARK;
    }
    if (++this.qcount) {
      // !(((qavg - qth_min) >> Wlog) * qcount < qR)
      if (Math.floor((qavg - this.qthMinW) / 2 ** this.params.Wlog) * this.qcount >= this.qR) {
        this.qcount = 0;
        this.qR = this.random();
        return RED_PROB_MARK;
      }
    } else {
      this.qR = this.random();
    }
    return RED_DONT_MARK;
  }

  /** red_random: a 32-bit random number divided by max_P/delta */
  private random(): number {
    const r = Math.floor(this.env.random() * TWO32);
    return Math.floor(r / this.maxPDelta);
  }

  /** red_adaptative_algo, run every 500 ms of `now` */
  private adapt(now: Nanos): void {
    let qavg = this.qavg;
    if (!Number.isNaN(this.qidlestart)) qavg = this.qavgFromIdle(now);
    qavg = Math.floor(qavg / 2 ** this.params.Wlog);
    if (qavg > this.targetMax && this.maxP <= MAX_P_MAX) {
      this.maxP += Math.min(MAX_P_MIN, Math.floor(this.maxP / 4));
    } else if (qavg < this.targetMin && this.maxP >= MAX_P_MIN) {
      this.maxP = Math.floor(this.maxP / 10) * 9;
    }
    this.maxPDelta = Math.max(Math.round(this.maxP / this.qthDelta), 1);
  }

  private tick(now: Nanos): void {
    if ((this.params.flags & TC_RED_ADAPTATIVE) === 0) return;
    if (Number.isNaN(this.nextAdapt)) {
      this.nextAdapt = now + RED_ADAPT_PERIOD;
      return;
    }
    // catch up on missed periods (bounded: after a long pause the outcome no longer changes much)
    for (let i = 0; now >= this.nextAdapt && i < 64; i++) {
      this.adapt(now);
      this.nextAdapt += RED_ADAPT_PERIOD;
    }
    if (now >= this.nextAdapt) this.nextAdapt = now + RED_ADAPT_PERIOD;
  }

  enqueue(pkt: number, now: Nanos): number {
    this.tick(now);
    const arena = this.env.arena;
    const flags = this.params.flags;
    if (Number.isNaN(this.qidlestart)) {
      // qavg + (backlog - (qavg >> Wlog))
      this.qavg = this.qavg + (this.child.stats.backlog - Math.floor(this.qavg / 2 ** this.params.Wlog));
    } else {
      this.qavg = this.qavgFromIdle(now);
      this.qidlestart = NaN;
    }
    const verdict = this.action(this.qavg);
    if (verdict === RED_PROB_MARK) {
      this.stats.overlimits++;
      if ((flags & TC_RED_ECN) === 0) {
        this.probDrop++;
        return qdiscDrop(this.stats, arena, pkt, DropReason.RedEarly);
      }
      if (setCe(arena, pkt)) this.probMark++;
      else if ((flags & TC_RED_NODROP) === 0) {
        this.probDrop++;
        return qdiscDrop(this.stats, arena, pkt, DropReason.RedEarly);
      }
    } else if (verdict === RED_HARD_MARK) {
      this.stats.overlimits++;
      if ((flags & TC_RED_HARDDROP) !== 0 || (flags & TC_RED_ECN) === 0) {
        this.forcedDrop++;
        return qdiscDrop(this.stats, arena, pkt, DropReason.RedForced);
      }
      if (setCe(arena, pkt)) this.forcedMark++;
      else if ((flags & TC_RED_NODROP) === 0) {
        this.forcedDrop++;
        return qdiscDrop(this.stats, arena, pkt, DropReason.RedForced);
      }
    }
    // The bfifo's overflow is RED's pdrop, counted here as one queue_full drop (sch_red.c), so the
    // child's drops are not carried (seen null).
    const ret = enqueueChild(this.stats, this.child, null, pkt, now);
    if (ret === XMIT_DROP) {
      this.pdrop++;
      this.stats.countDrop(DropReason.QueueFull);
    }
    return ret;
  }

  dequeue(now: Nanos): number {
    this.tick(now);
    const pkt = dequeueChild(this.stats, this.child, now);
    if (pkt >= 0) {
      this.stats.countSent(this.env.arena.len[pkt]);
      return pkt;
    }
    if (Number.isNaN(this.qidlestart)) this.startIdle(now);
    return -1;
  }

  peek(now: Nanos): number {
    return this.child.peek(now);
  }

  reset(): void {
    this.child.reset();
    this.qavg = 0;
    this.qcount = -1;
    this.qidlestart = NaN;
  }

  /** tc's xstats: early = prob_drop + forced_drop, marked = prob_mark + forced_mark */
  get early(): number {
    return this.probDrop + this.forcedDrop;
  }
  get marked(): number {
    return this.probMark + this.forcedMark;
  }
}
