/**
 * Reading typed values out of tokens, with errors that name the token: rates, sizes, times, integers,
 * tc handles. Used by every option parser so that "bad rate" reads the same everywhere.
 */
import { parseRate, parseSize, parseTime } from '../time/units';
import { tcHandle } from '../qdisc/qdisc';
import { TcError, type Token } from './tokens';

export function rateOf(t: Token, what = 'rate'): number {
  const v = parseRate(t.text);
  if (Number.isNaN(v)) throw new TcError(`invalid ${what} "${t.text}" (expected e.g. 10mbit, 512kbit, 1gbit)`, t);
  return v;
}

export function sizeOf(t: Token, what = 'size'): number {
  const v = parseSize(t.text);
  if (Number.isNaN(v)) throw new TcError(`invalid ${what} "${t.text}" (expected bytes, e.g. 1600, 15k, 1mb)`, t);
  return v;
}

export function timeOf(t: Token, what = 'time'): number {
  const v = parseTime(t.text);
  if (Number.isNaN(v)) throw new TcError(`invalid ${what} "${t.text}" (expected e.g. 50ms, 10s, 800us)`, t);
  return v;
}

/**
 * strtoul(text, base) over the whole text: the one integer reader behind every number of the tc
 * language (iproute2's get_u32/get_integer/get_s32). Base 0 is C-style: 0x hex, a leading 0 octal,
 * else decimal; base 16 is hex with an optional 0x; base 10 is decimal. `signed` admits a leading
 * + or - (strtol). NaN when the text is not one whole number in that base.
 */
export function parseInteger(text: string, base: 0 | 10 | 16, signed = false): number {
  let s = text.trim();
  let negative = false;
  if (signed && (s[0] === '-' || s[0] === '+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  let radix: number = base;
  if (base !== 10 && /^0x/i.test(s)) {
    s = s.slice(2);
    radix = 16;
  } else if (base === 0) radix = s.length > 1 && s[0] === '0' ? 8 : 10;
  const digits = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!digits.test(s)) return NaN;
  const v = parseInt(s, radix);
  return negative ? -v : v;
}

/**
 * A whole number within [min, max] as the qdisc kinds read theirs: decimal, or hex with 0x (a leading
 * 0 is decimal here, not octal).
 */
export function intOf(t: Token, what: string, min = 0, max = 0xffffffff): number {
  const s = t.text.trim();
  const v = /^0x/i.test(s) ? parseInteger(s, 16) : parseInteger(s, 10);
  if (Number.isNaN(v)) throw new TcError(`invalid ${what} "${t.text}" (expected a whole number)`, t);
  if (v < min || v > max) throw new TcError(`${what} ${v} is out of range (${min}..${max})`, t);
  return v;
}

/** A hex number as tc reads majors, minors and HTB `default` (`30` is 0x30). */
export function hexOf(t: Token, what: string, max = 0xffff): number {
  const v = parseInteger(t.text, 16);
  if (Number.isNaN(v)) throw new TcError(`invalid ${what} "${t.text}" (expected hexadecimal)`, t);
  if (v > max) throw new TcError(`${what} 0x${v.toString(16)} is out of range (max 0x${max.toString(16)})`, t);
  return v;
}

/** A C-style integer as the filter language reads it, strtol(…, 0): 0x hex, leading 0 octal, else decimal; may be negative. */
export function cInt(t: Token, what: string, min = -0x80000000, max = 0xffffffff): number {
  const v = parseInteger(t.text, 0, true);
  if (Number.isNaN(v)) throw new TcError(`invalid ${what} "${t.text}"`, t);
  if (v < min || v > max) throw new TcError(`${what} ${t.text} is out of range`, t);
  return v;
}

/** A hex number as the filter language reads masks, get_u32(…, 16) (with or without 0x). */
export function hexInt(t: Token, what: string, max = 0xffffffff): number {
  const v = parseInteger(t.text, 16);
  if (Number.isNaN(v)) throw new TcError(`invalid ${what} "${t.text}" (hexadecimal expected)`, t);
  if (v > max) throw new TcError(`${what} ${t.text} is out of range`, t);
  return v;
}

/**
 * A tc handle or classid, `MAJOR:MINOR` in hex (`1:`, `1:0`, `1:10`, `ffff:`, `:1` is minor 1 of
 * major 0, which callers resolve against the parent per decision D4). `none` is 0.
 */
export function handleOf(t: Token, what = 'handle'): number {
  const s = t.text.trim().toLowerCase();
  if (s === 'none') return 0;
  const m = /^([0-9a-f]*):([0-9a-f]*)$/.exec(s);
  if (!m) {
    if (/^[0-9a-f]+$/.test(s)) {
      // a bare major (`handle 1`, as get_qdisc_handle reads it): the same range as `1:`
      const major = parseInt(s, 16);
      if (major > 0xffff) throw new TcError(`${what} "${t.text}" is out of range (max ffff:ffff)`, t);
      return tcHandle(major, 0);
    }
    throw new TcError(`invalid ${what} "${t.text}" (expected MAJOR:MINOR in hex, e.g. 1:10)`, t);
  }
  const major = m[1] === '' ? 0 : parseInt(m[1], 16);
  const minor = m[2] === '' ? 0 : parseInt(m[2], 16);
  if (major > 0xffff || minor > 0xffff) throw new TcError(`${what} "${t.text}" is out of range (max ffff:ffff)`, t);
  return tcHandle(major, minor);
}

