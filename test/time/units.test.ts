import { describe, expect, it } from 'vitest';
import { formatRate, formatSize, formatTime, parseRate, parseSize, parseTime } from '../../src/time/units';

describe('tc units (decision D1: SI rates as modern iproute2)', () => {
  it('parses rates into bytes per second', () => {
    expect(parseRate('10mbit')).toBe(1_250_000);
    expect(parseRate('10Mbit')).toBe(1_250_000); // case-insensitive, as tc
    expect(parseRate('1kibit')).toBe(128);
    expect(parseRate('1gbit')).toBe(125_000_000);
    expect(parseRate('100kbps')).toBe(100_000); // bps are BYTES per second
    expect(parseRate('8000')).toBe(1000); // a bare rate is bit/s
    expect(parseRate('0.6Mbit')).toBe(75_000);
    expect(parseRate('10 mbit')).toBeNaN();
    expect(parseRate('fast')).toBeNaN();
  });

  it('parses sizes (k = 1024 bytes) and times (bare = µs)', () => {
    expect(parseSize('15k')).toBe(15_360);
    expect(parseSize('1600')).toBe(1600);
    expect(parseSize('1mb')).toBe(1_048_576);
    expect(parseSize('8kbit')).toBe(1024);
    expect(parseTime('50ms')).toBe(50_000_000);
    expect(parseTime('10')).toBe(10_000);
    expect(parseTime('1s')).toBe(1e9);
    expect(parseSize('-1')).toBeNaN();
  });

  it('prints rates, sizes and times the way tc does', () => {
    expect(formatRate(750_000)).toBe('6Mbit');
    expect(formatRate(187_500)).toBe('1500Kbit');
    expect(formatRate(125)).toBe('1Kbit');
    expect(formatRate(100)).toBe('800bit');
    expect(formatSize(1600)).toBe('1600b');
    expect(formatSize(15_360)).toBe('15Kb');
    expect(formatSize(2 * 1024 * 1024)).toBe('2Mb');
    expect(formatTime(560_000_000)).toBe('560ms');
    expect(formatTime(1_500_000_000)).toBe('1.5s');
    expect(formatTime(800_000)).toBe('800us');
    expect(formatTime(12_345_000)).toBe('12.3ms');
  });
});
