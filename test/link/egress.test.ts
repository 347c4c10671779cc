import { describe, expect, it } from 'vitest';
import { parseEgress } from '../../src/cli/run';

describe('--egress', () => {
  it('accepts tun and raw:IFACE, and rejects anything else naming the value', () => {
    expect(parseEgress('tun')).toEqual({ kind: 'tun' });
    expect(parseEgress('raw:gs')).toEqual({ kind: 'raw', iface: 'gs' });
    expect(() => parseEgress('raw:')).toThrow(/raw:/);
    expect(() => parseEgress('udp')).toThrow(/"udp"/);
  });
});
