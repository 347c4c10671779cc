/**
 * psched: how Linux and tc count transmission time, in one place.
 *
 * Every shaper in tunqos (TBF, HTB, police) charges a packet the time it takes to send it at a rate:
 * the kernel's psched_l2t_ns() ("length to time"). The packet's length is first adjusted as the
 * link would carry it: `overhead` bytes are added, the result is raised to the minimum packet unit
 * `mpu`, and on an ATM link it is rounded up to whole 53-byte cells of 48 bytes of payload. Then
 *    time (ns) = wire bytes × ns-per-byte,   ns-per-byte = 1e9 / rate (bytes/s)
 * The kernel precomputes ns-per-byte once per rate as a fixed-point pair (psched_ratecfg_precompute:
 * ns = (len·mult) >> shift); tunqos precomputes it as a float64 (`pschedNsPerByte`) and multiplies,
 * so a packet costs one multiplication, like the kernel's. `kernelL2t` below is the exact mult/shift
 * form, in BigInt: only `tc qdisc show` uses it, to print what the kernel would dump.
 *
 * tc userland (iproute2 tc/tc_core.c) talks to the kernel in psched *ticks*: 64 ns each on a kernel
 * with a 1 ns clock (/proc/net/psched reads `000003e8 00000040 000f4240 3b9aca00`, so tc's
 * tick_in_usec = 1000/64 = 15.625). tc converts a burst in bytes to ticks with tc_calc_xmittime and
 * a dumped bucket back to bytes with tc_calc_xmitsize, truncating to whole µs and whole ticks on the
 * way (the C casts to `unsigned int`). That is why `tc class show` prints `cburst 1599b` for a
 * 1600-byte cburst at 6 Mbit: tunqos reproduces those truncations, not better arithmetic.
 *
 * Who calls what: the qdisc engines use pschedNsPerByte/pschedL2t (hot path) and HTB's default
 * bursts use tcCalcXmittimeSat (set-up); the tc layer uses the rest to parse and print. The module
 * depends on nothing, so packet-level code in classify/ (police) may use it too.
 *
 * Reference: include/net/sch_generic.h (psched_ratecfg, psched_l2t_ns), net/sched/sch_generic.c
 * (psched_ratecfg_precompute), include/net/pkt_sched.h (PSCHED_SHIFT), iproute2 6.1 tc/tc_core.c.
 */
import { NS_PER_SEC, type Nanos } from './clock';

/** TC_LINKLAYER_ETHERNET / TC_LINKLAYER_ATM (linux/pkt_sched.h) */
export const LINKLAYER_ETHERNET = 1;
export const LINKLAYER_ATM = 2;

/** ns per psched tick: PSCHED_SHIFT = 6 */
export const PSCHED_TICK_NS = 64;
/** tc's tick_in_usec on a 1 ns-clock kernel: 1000 / 64 */
const TICK_IN_USEC = 1000 / 64;
export const U32_MAX = 0xffffffff;

// ---- transmission time (the kernel's side) ----

/** ns per byte at `rate` bytes/s, the float64 form of psched_ratecfg_precompute; rate ≤ 0 → Infinity (never) */
export function pschedNsPerByte(rate: number): number {
  return rate > 0 ? NS_PER_SEC / rate : Infinity;
}

/**
 * psched_l2t_ns: ns to send `len` bytes at `nsPerByte` (from pschedNsPerByte), after adding `overhead`,
 * raising to `mpu` and, on LINKLAYER_ATM, rounding up to whole cells (53 bytes per 48 of payload).
 */
export function pschedL2t(len: number, nsPerByte: number, overhead: number, mpu: number, linklayer: number): Nanos {
  let l = len + overhead;
  if (l < mpu) l = mpu;
  if (linklayer === LINKLAYER_ATM) l = Math.ceil(l / 48) * 53;
  return l * nsPerByte;
}

/** psched_ratecfg_precompute exactly: the largest shift whose mult still fits 31 bits, ns = (len·mult) >> shift */
function kernelRatecfg(rate: number): { mult: bigint; shift: bigint } {
  const r = BigInt(Math.floor(rate));
  let factor = 1_000_000_000n;
  let shift = 0n;
  let mult = 1n;
  if (r > 0n) {
    for (;;) {
      mult = factor / r;
      if (mult & (1n << 31n) || factor & (1n << 63n)) break;
      factor <<= 1n;
      shift++;
    }
  }
  return { mult, shift };
}

/**
 * psched_l2t_ns as the kernel computes it (mult/shift, ≤ 1 ns below pschedL2t), in ns. Display only:
 * `tc qdisc show` prints TBF's buckets from what the kernel dumps, and the kernel's rounding shows.
 */
export function kernelL2t(len: number, rate: number, overhead: number, mpu: number, linklayer: number): bigint {
  let l = len + overhead;
  if (l < mpu) l = mpu;
  if (linklayer === LINKLAYER_ATM) l = Math.ceil(l / 48) * 53;
  const { mult, shift } = kernelRatecfg(rate);
  return (BigInt(l) * mult) >> shift;
}

// ---- psched ticks (tc's side, tc/tc_core.c) ----

/**
 * C's `(unsigned int)` conversion of a double, as gcc compiles it on x86-64 and so as iproute2 6.1
 * behaves: toward zero, keeping the low 32 bits (a value of 2^32 or more wraps around).
 */
export function u32(x: number): number {
  return Math.trunc(x) >>> 0;
}

/** the same conversion saturating at 0 and 2^32 − 1 instead of wrapping (see tcCalcXmittimeSat) */
export function u32Sat(x: number): number {
  if (x >= U32_MAX) return U32_MAX;
  return x <= 0 ? 0 : Math.trunc(x);
}

/** PSCHED_NS2TICKS: ns → whole ticks (an arithmetic shift right by 6, so negative values round down) */
export function pschedNs2Ticks(ns: Nanos): number {
  return Math.floor(ns / PSCHED_TICK_NS);
}

/** tc_core_tick2time: ticks → whole µs */
export function tcTick2Time(ticks: number): number {
  return u32(ticks / TICK_IN_USEC);
}

/**
 * tc_calc_xmittime: ticks to send `size` bytes at `rate` bytes/s, truncated to whole µs and then to
 * whole ticks, each wrapping as an unsigned int (what RED's idle-damping table is computed from).
 */
export function tcCalcXmittime(rate: number, size: number): number {
  return u32(u32((1e6 * size) / rate) * TICK_IN_USEC);
}

/**
 * tc_calc_xmittime for HTB's bursts: the same truncations, but a burst longer than 2^32 − 1 ticks
 * (≈ 275 s at the rate) saturates instead of wrapping. iproute2 6.1 wraps (burst 1mb at 1kbit shows
 * as 30668b), which gives a class a tiny bucket for a huge burst; tunqos keeps the largest bucket the
 * kernel can hold, as later iproute2 releases do (tc_calc_xmittime there clamps to UINT_MAX).
 */
export function tcCalcXmittimeSat(rate: number, size: number): number {
  return u32Sat(Math.trunc((1e6 * size) / rate) * TICK_IN_USEC);
}

/** tc_calc_xmitsize: the bytes tc prints for a bucket of `ticks` at `rate` bytes/s (wrapping, as 6.1) */
export function tcCalcXmitsize(rate: number, ticks: number): number {
  return u32((rate * tcTick2Time(ticks)) / 1e6);
}

/** tc_calc_xmitsize for HTB's bursts: nothing wraps (the µs neither), the bytes saturate */
export function tcCalcXmitsizeSat(rate: number, ticks: number): number {
  return u32Sat((rate * Math.trunc(ticks / TICK_IN_USEC)) / 1e6);
}
