import { describe, expect, it } from 'vitest';
import { DEFAULT_KEEP_WARM_NS, parseEgress, parseKeepWarm } from '../../src/cli/run';

describe('--egress', () => {
  it('accepts tun and raw:IFACE, and rejects anything else naming the value', () => {
    expect(parseEgress('tun')).toEqual({ kind: 'tun' });
    expect(parseEgress('raw:gs')).toEqual({ kind: 'raw', iface: 'gs' });
    expect(() => parseEgress('raw:')).toThrow(/raw:/);
    expect(() => parseEgress('udp')).toThrow(/"udp"/);
  });
});

describe('--keep-warm', () => {
  it('takes a tc time or off, within 100us..1s, and names a bad value', () => {
    expect(parseKeepWarm('1ms')).toBe(1e6);
    expect(parseKeepWarm('500us')).toBe(500e3);
    expect(parseKeepWarm('250')).toBe(250e3); // bare numbers are µs, as in tc
    expect(parseKeepWarm('off')).toBe(0);
    expect(parseKeepWarm('0')).toBe(0);
    expect(DEFAULT_KEEP_WARM_NS).toBe(parseKeepWarm('1ms'));
    expect(() => parseKeepWarm('fast')).toThrow(/"fast"/);
    expect(() => parseKeepWarm('10us')).toThrow(/between 100us and 1s/);
    expect(() => parseKeepWarm('2s')).toThrow(/between 100us and 1s/);
  });
});
