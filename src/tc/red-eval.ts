/**
 * The RED constants tc derives from what the user writes (iproute2 tc/tc_red.c), for `tc qdisc add
 * ... red` and for every later discipline that takes RED parameters (gred, choke, sfq's redflowlimit):
 *   - Wlog, the EWMA weight W = 2^−Wlog, from min, burst and avpkt (tc_red_eval_ewma): the smallest
 *     Wlog for which a burst of `burst` packets arriving at an empty queue does not push the average
 *     above min;
 *   - Plog, max_P = 2^−Plog as the probability at max (tc_red_eval_P, used when max_P is not sent);
 *   - Stab and Scell_log, the idle-decay table (tc_red_eval_idle_damping): after an idle time t the
 *     kernel shifts the average right by Stab[t >> Scell_log], as if empty packets of avpkt bytes had
 *     been sent at `bandwidth` meanwhile (tc counts t in psched ticks, the kernel in µs, as Linux does).
 * These are userland computations: the kernel (qdisc/red.ts) only receives their results.
 * Reference: iproute2 6.1 tc/tc_red.c, tc/q_red.c.
 */
import { tcCalcXmittime } from '../time/psched';

/** tc_red_eval_ewma: smallest Wlog with burst + 1 − min/avpkt ≤ (1 − (1−W)^burst)/W; −1 if none */
export function redEvalEwma(qmin: number, burst: number, avpkt: number): number {
  const a = burst + 1 - qmin / avpkt;
  if (a < 1.0) return -1;
  let W = 0.5;
  for (let wlog = 1; wlog < 32; wlog++, W /= 2) {
    if (a <= (1 - Math.pow(1 - W, burst)) / W) return wlog;
  }
  return -1;
}

/** tc_red_eval_P: smallest i with (prob/(max−min))·2^i > 1; −1 if none */
export function redEvalP(qmin: number, qmax: number, prob: number): number {
  let i = qmax - qmin;
  if (i <= 0) return -1;
  prob /= i;
  for (i = 0; i < 32; i++) {
    if (prob > 1.0) break;
    prob *= 2;
  }
  return i >= 32 ? -1 : i;
}

/** tc_red_eval_idle_damping: fills `stab` and returns Scell_log (−1 if none) */
export function redEvalIdleDamping(Wlog: number, avpkt: number, bps: number, stab: Uint8Array): number {
  const xmitTime = tcCalcXmittime(bps, avpkt);
  const lW = -Math.log(1.0 - 1.0 / 2 ** Wlog) / xmitTime;
  const maxtime = 31 / lW;
  let clog = 0;
  for (; clog < 32; clog++) {
    if (maxtime / 2 ** clog < 512) break;
  }
  if (clog >= 32) return -1;
  stab[0] = 0;
  for (let i = 1; i < 255; i++) {
    const v = Math.trunc(i * 2 ** clog * lW) & 255;
    stab[i] = v > 31 ? 31 : v;
  }
  stab[255] = 31;
  return clog;
}
