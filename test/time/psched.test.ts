import { describe, expect, it } from 'vitest';
import {
  LINKLAYER_ATM,
  LINKLAYER_ETHERNET,
  U32_MAX,
  kernelL2t,
  pschedL2t,
  pschedNs2Ticks,
  pschedNsPerByte,
  tcCalcXmitsize,
  tcCalcXmitsizeSat,
  tcCalcXmittime,
  tcCalcXmittimeSat,
  tcTick2Time,
  u32,
  u32Sat,
} from '../../src/time/psched';

const ETH = LINKLAYER_ETHERNET;
const ATM = LINKLAYER_ATM;
/** the transmission time as tunqos's engines compute it, at `rate` bytes/s */
const l2t = (len: number, rate: number, overhead = 0, mpu = 0, linklayer = ETH) => pschedL2t(len, pschedNsPerByte(rate), overhead, mpu, linklayer);

describe('psched_l2t_ns', () => {
  it('is len × 1e9 / rate with overhead and mpu, as psched_l2t_ns', () => {
    expect(l2t(1500, 1_250_000)).toBe(1_200_000); // 1500 B at 10 mbit = 1.2 ms
    expect(l2t(40, 1000, 0, 64)).toBe(64e6); // mpu raises a small packet to 64 B
    expect(l2t(100, 1000, 24)).toBe(124e6);
    expect(l2t(100, 0)).toBe(Infinity);
  });

  it('ethernet: the length as it is (plus overhead, at least mpu)', () => {
    expect(pschedNsPerByte(1_250_000)).toBe(800); // 10 Mbit: 800 ns per byte
    expect(l2t(97, 1000)).toBe(97e6);
    expect(l2t(20, 1000, 4, 64)).toBe(64e6); // 20 + 4 = 24 < mpu 64
    expect(l2t(80, 1000, 4, 64)).toBe(84e6); // 84 > mpu: overhead counts
  });

  it('atm: whole 53-byte cells of 48 bytes payload, after overhead and mpu', () => {
    // Worked by hand, at 1000 B/s (1 ms per byte):
    //   96 B            → 96/48 = 2 cells   → 106 B → 106 ms
    //   97 B            → ⌈97/48⌉ = 3 cells → 159 B → 159 ms
    //   100 B + 10 over → 110 B → 3 cells   → 159 ms
    //   20 B, mpu 64    → 64 B → 2 cells    → 106 ms
    expect(l2t(96, 1000, 0, 0, ATM)).toBe(106e6);
    expect(l2t(97, 1000, 0, 0, ATM)).toBe(159e6);
    expect(l2t(100, 1000, 10, 0, ATM)).toBe(159e6);
    expect(l2t(20, 1000, 0, 64, ATM)).toBe(106e6);
  });

  it('kernelL2t is the kernel mult/shift form: at most 1 ns below, exact where 1e9/rate is', () => {
    // 10 Mbit: mult = 800·2^22 = 3355443200, shift 22, and 1500·mult >> 22 = 1_200_000 exactly.
    expect(kernelL2t(1500, 1_250_000, 0, 0, ETH)).toBe(1_200_000n);
    // 6 Mbit: 1e9/750000 = 1333.3̅ ns/B; shift 21, mult = ⌊1e9·2^21/750000⌋ = 2796202666, and
    // 1500·2796202666 / 2^21 = 1999999.9995 → 1999999 ns, where the float form gives 2e6.
    expect(kernelL2t(1500, 750_000, 0, 0, ETH)).toBe(1_999_999n);
    expect(l2t(1500, 750_000)).toBe(2_000_000);
    expect(kernelL2t(97, 1000, 0, 0, ATM)).toBe(159_000_000n);
  });
});

describe('psched ticks (tc_core.c)', () => {
  it('a tick is 64 ns; PSCHED_NS2TICKS shifts, rounding negative values down', () => {
    expect(pschedNs2Ticks(127)).toBe(1);
    expect(pschedNs2Ticks(128)).toBe(2);
    expect(pschedNs2Ticks(-1)).toBe(-1);
    expect(tcTick2Time(33328)).toBe(2132); // 33328 / 15.625 = 2132.992 µs
  });

  it('tc_calc_xmittime and tc_calc_xmitsize truncate to whole µs and ticks: 1600 B at 6 Mbit shows as 1599b', () => {
    // Worked by hand: 6 Mbit = 750000 B/s.
    //   xmittime: 1e6 · 1600 / 750000 = 2133.33 µs → 2133 µs; × 15.625 = 33328.125 → 33328 ticks
    //   xmitsize: 33328 / 15.625 = 2132.992 µs → 2132 µs; 750000 · 2132 / 1e6 = 1599 bytes
    // which is the `cburst 1599b` of test/fixtures/kernel/htb (tc 6.1 on Linux 6.18).
    expect(tcCalcXmittime(750_000, 1600)).toBe(33328);
    expect(tcCalcXmitsize(750_000, 33328)).toBe(1599);
    expect(tcCalcXmittimeSat(750_000, 1600)).toBe(33328);
    expect(tcCalcXmitsizeSat(750_000, 33328)).toBe(1599);
  });

  it('beyond 2^32 − 1 ticks tc 6.1 wraps (RED, TBF) and HTB saturates', () => {
    // 1 MiB at 1 kbit (125 B/s): 1e6 · 1048576 / 125 = 8388608000 µs, which wraps to 4093640704;
    // × 15.625 = 63963136000, which wraps to 3833593856 ticks; back: 245350006 µs → 30668 bytes,
    // what tc 6.1 prints for `htb rate 1kbit burst 1mb`. HTB keeps the largest bucket instead:
    // U32_MAX ticks → 274877906 µs → 34359 bytes.
    expect(tcCalcXmittime(125, 1048576)).toBe(3833593856);
    expect(tcCalcXmitsize(125, 3833593856)).toBe(30668);
    expect(tcCalcXmittimeSat(125, 1048576)).toBe(U32_MAX);
    expect(tcCalcXmitsizeSat(125, U32_MAX)).toBe(34359);
  });

  it('u32 is C\'s (unsigned) cast on x86-64 (wraps); u32Sat clamps', () => {
    expect(u32(3.9)).toBe(3);
    expect(u32(2 ** 32 + 5)).toBe(5);
    expect(u32(-1)).toBe(U32_MAX);
    expect(u32(-0.5)).toBe(0);
    expect(u32Sat(-1)).toBe(0);
    expect(u32Sat(2 ** 40)).toBe(U32_MAX);
    expect(u32Sat(7.5)).toBe(7);
  });
});
