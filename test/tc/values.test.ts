/** The number readers and the keyword matcher of the tc language (src/tc/values.ts, tokens.ts). */
import { describe, expect, it } from 'vitest';
import { matches, type Token } from '../../src/tc/tokens';
import { cInt, hexInt, hexOf, intOf, parseInteger } from '../../src/tc/values';

const tok = (text: string): Token => ({ text, file: 't', line: 1, col: 1 });

describe('parseInteger (strtoul over the whole word)', () => {
  it('base 0: 0x hex, a leading 0 octal, else decimal', () => {
    expect(parseInteger('0x1F', 0)).toBe(31);
    expect(parseInteger('010', 0)).toBe(8);
    expect(parseInteger('0', 0)).toBe(0);
    expect(parseInteger('10', 0)).toBe(10);
    expect(parseInteger('08', 0)).toBeNaN();
    expect(parseInteger('0x', 0)).toBeNaN();
  });

  it('base 16 takes an optional 0x; base 10 takes neither 0x nor octal', () => {
    expect(parseInteger('30', 16)).toBe(0x30);
    expect(parseInteger('0xff', 16)).toBe(0xff);
    expect(parseInteger('0x', 16)).toBeNaN();
    expect(parseInteger('010', 10)).toBe(10);
    expect(parseInteger('0x10', 10)).toBeNaN();
    expect(parseInteger('1e3', 10)).toBeNaN();
  });

  it('a sign only when signed; spaces around are ignored', () => {
    expect(parseInteger('-0x10', 0, true)).toBe(-16);
    expect(parseInteger('+7', 0, true)).toBe(7);
    expect(parseInteger('-7', 0)).toBeNaN();
    expect(parseInteger(' 12 ', 10)).toBe(12);
    expect(parseInteger('', 0)).toBeNaN();
  });
});

describe('the token readers keep each call site base', () => {
  it('intOf (qdisc kinds): decimal or 0x hex, a leading 0 is decimal', () => {
    expect(intOf(tok('010'), 'limit')).toBe(10);
    expect(intOf(tok('0x10'), 'limit')).toBe(16);
    expect(() => intOf(tok('-1'), 'limit')).toThrow('invalid limit "-1" (expected a whole number)');
    expect(() => intOf(tok('17'), 'bands', 2, 16)).toThrow('bands 17 is out of range (2..16)');
  });

  it('hexOf (handles, htb default): hex without or with 0x', () => {
    expect(hexOf(tok('30'), 'default')).toBe(0x30);
    expect(() => hexOf(tok('zz'), 'default')).toThrow('invalid default "zz" (expected hexadecimal)');
    expect(() => hexOf(tok('10000'), 'minor')).toThrow('minor 0x10000 is out of range (max 0xffff)');
  });

  it('cInt (filter language): strtol base 0, signed', () => {
    expect(cInt(tok('010'), 'offset')).toBe(8);
    expect(cInt(tok('-4'), 'offset')).toBe(-4);
    expect(() => cInt(tok('08'), 'offset')).toThrow('invalid offset "08"');
    expect(() => cInt(tok('0x1000'), 'order', 0, 0xfff)).toThrow('order 0x1000 is out of range');
  });

  it('hexInt (filter masks): hex without or with 0x', () => {
    expect(hexInt(tok('ffff'), 'mask')).toBe(0xffff);
    expect(hexInt(tok('0xFF'), 'mask')).toBe(0xff);
    expect(() => hexInt(tok('0x'), 'mask')).toThrow('invalid mask "0x" (hexadecimal expected)');
    expect(() => hexInt(tok('10000'), 'mask', 0xffff)).toThrow('mask 10000 is out of range');
  });
});

describe('matches (iproute2 matches(): an abbreviation of the keyword)', () => {
  it('accepts any prefix of at least min letters, nothing longer or different', () => {
    expect(matches('q', 'qdisc')).toBe(true);
    expect(matches('qdisc', 'qdisc')).toBe(true);
    expect(matches('cl', 'class', 2)).toBe(true);
    expect(matches('c', 'class', 2)).toBe(false);
    expect(matches('classes', 'class')).toBe(false);
    expect(matches('', 'class')).toBe(false);
    expect(matches('qx', 'qdisc')).toBe(false);
  });
});
