/**
 * Rates, sizes and times in tc units, parsed and printed the way modern iproute2 does
 * (tc/tc_util.c: get_rate64, get_size, get_time, sprint_rate, sprint_size, sprint_time).
 *
 * Decision D1 (ARCHITECTURE.md): rates are SI, as tc(8) says today: `kbit` = 1000 bit/s, `mbit` = 10^6,
 * `gbit` = 10^9; the binary forms are `kibit`/`mibit`/`gibit`; `bps`/`kbps`/`mbps` are BYTES per second.
 * The seeds' 1024-based rates are historical. A bare rate is bit/s; a bare size is bytes (`k`/`kb` =
 * 1024 bytes); a bare time is microseconds. Suffixes are case-insensitive, as in tc.
 *
 * Internally rates are bytes per second, sizes bytes, times nanoseconds (Nanos).
 * Every parser returns NaN for a malformed value so the caller can report the token.
 */

const RATE_SUFFIX_BITS: Record<string, number> = {
  '': 1,
  bit: 1,
  kibit: 1024,
  kbit: 1e3,
  mibit: 1024 ** 2,
  mbit: 1e6,
  gibit: 1024 ** 3,
  gbit: 1e9,
  tibit: 1024 ** 4,
  tbit: 1e12,
  bps: 8,
  kibps: 8 * 1024,
  kbps: 8e3,
  mibps: 8 * 1024 ** 2,
  mbps: 8e6,
  gibps: 8 * 1024 ** 3,
  gbps: 8e9,
  tibps: 8 * 1024 ** 4,
  tbps: 8e12,
};

const SIZE_SUFFIX_BYTES: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  kbit: 1024 / 8,
  mbit: 1024 ** 2 / 8,
  gbit: 1024 ** 3 / 8,
};

const TIME_SUFFIX_NS: Record<string, number> = {
  '': 1e3, // a bare time is microseconds
  s: 1e9,
  sec: 1e9,
  secs: 1e9,
  ms: 1e6,
  msec: 1e6,
  msecs: 1e6,
  us: 1e3,
  usec: 1e3,
  usecs: 1e3,
  ns: 1,
  nsec: 1,
  nsecs: 1,
};

const NUMBER_THEN_SUFFIX = /^([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)([a-z]*)$/i;

function parseWithTable(text: string, table: Record<string, number>): number {
  const m = NUMBER_THEN_SUFFIX.exec(text.trim());
  if (!m) return NaN;
  const factor = table[m[2].toLowerCase()];
  if (factor === undefined) return NaN;
  const value = Number(m[1]) * factor;
  return Number.isFinite(value) && value >= 0 ? value : NaN;
}

/** `10mbit` → 1_250_000 (bytes/s). NaN when malformed. */
export function parseRate(text: string): number {
  const bits = parseWithTable(text, RATE_SUFFIX_BITS);
  return Number.isNaN(bits) ? NaN : bits / 8;
}

/** `15k` → 15360 (bytes). Rounded to whole bytes as tc does. NaN when malformed. */
export function parseSize(text: string): number {
  const bytes = parseWithTable(text, SIZE_SUFFIX_BYTES);
  return Number.isNaN(bytes) ? NaN : Math.round(bytes);
}

/** `50ms` → 50_000_000 (ns); `10` → 10_000 (a bare time is µs). NaN when malformed. */
export function parseTime(text: string): number {
  return parseWithTable(text, TIME_SUFFIX_NS);
}

/** tc's sprint_rate: bytes/s → `6Mbit`, `1500Kbit`, `800bit` (SI, no fractional digits). */
export function formatRate(bytesPerSec: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let rate = Math.round(bytesPerSec * 8);
  let i = 0;
  for (; i < units.length - 1; i++) {
    if (rate < 1000) break;
    if (rate % 1000 !== 0 && rate < 1000 * 1000) break;
    rate /= 1000;
  }
  return `${Math.round(rate)}${units[i]}bit`;
}

/** tc's sprint_size: `1600b`, `15Kb`, `2Mb`. */
export function formatSize(bytes: number): string {
  const sz = Math.round(bytes);
  if (sz >= 1024 * 1024 && Math.abs(1024 * 1024 * Math.round(sz / (1024 * 1024)) - sz) < 1024) {
    return `${Math.round(sz / (1024 * 1024))}Mb`;
  }
  if (sz >= 1024 && Math.abs(1024 * Math.round(sz / 1024) - sz) < 16) return `${Math.round(sz / 1024)}Kb`;
  return `${sz}b`;
}

/**
 * tc's sprint_time (iproute2 6.x): `%.3gs`, `%.3gms` or `%uus` of a time in whole µs: `560ms`,
 * `1.5s`, `800us`, `1e+03s`.
 */
export function formatTime(ns: number): string {
  const us = Math.floor(ns / 1e3) >>> 0;
  const g3 = (x: number): string => {
    if (x >= 1000) {
      const e = Math.floor(Math.log10(x));
      return `${Number((x / 10 ** e).toPrecision(3))}e+${String(e).padStart(2, '0')}`;
    }
    return String(Number(x.toPrecision(3)));
  };
  if (us >= 1e6) return `${g3(us / 1e6)}s`;
  if (us >= 1e3) return `${g3(us / 1e3)}ms`;
  return `${us}us`;
}
