import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/packet/format';
import { synthPacket } from '../../src/packet/synth';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((x) => parseInt(x, 16)));

// A real SYN-ACK captured on the wire: 10.0.0.1:80 → 10.0.0.2:51000, IHL 5, DF, TTL 64
const SYNACK = hex('4500 003c 0000 4000 4006 26ba 0a00 0001 0a00 0002 0050 c738 0000 0001 0000 0002 a012 fe88 0000 0000 0204 05b4 0402 080a 0000 0001 0000 0001 0103 0307');

const v6 = (nh: number): Uint8Array => {
  const p = new Uint8Array(48);
  p.set([0x6b, 0x81, 0x23, 0x45, 0, 8, nh, 64]);
  p[8] = 0x20;
  p[9] = 0x01;
  p[39] = 1;
  p.set([0x00, 0x35, 0x01, 0xbb, 0, 8], 40);
  return p;
};

describe('summarize (one line per packet, tunqos classify)', () => {
  it('names the transport, addresses, ports, length and TOS of IPv4 packets', () => {
    expect(summarize(SYNACK)).toBe('tcp 10.0.0.1:80 > 10.0.0.2:51000 len 60 tos 0x00');
    expect(summarize(synthPacket({}))).toBe('udp 10.0.0.1:1234 > 10.0.1.1:5201 len 100 tos 0x00');
    expect(summarize(synthPacket({ proto: 6, size: 60, tos: 0xb8 }))).toBe('tcp 10.0.0.1:1234 > 10.0.1.1:5201 len 60 tos 0xb8');
    expect(summarize(synthPacket({ proto: 1, icmpType: 3, icmpCode: 1, payload: 20 }))).toBe('icmp 10.0.0.1 > 10.0.1.1 type 3 code 1 len 48 tos 0x00');
    expect(summarize(synthPacket({ proto: 6, options: 8, sport: 443, dport: 80, payload: 0 }))).toBe('tcp 10.0.0.1:443 > 10.0.1.1:80 len 48 tos 0x00');
    expect(summarize(synthPacket({ proto: 47 }))).toBe('ip proto 47 10.0.0.1 > 10.0.1.1 len 100 tos 0x00');
  });

  it('prints no ports for a non-first fragment', () => {
    expect(summarize(synthPacket({ fragOffset: 16, payload: 0 }))).toBe('ip proto 17 10.0.0.1 > 10.0.1.1 len 28 tos 0x00');
  });

  it('is lenient: a capture cut short, or a bad IHL, still shows what the bytes say', () => {
    expect(summarize(SYNACK.subarray(0, 30))).toBe('tcp 10.0.0.1:80 > 10.0.0.2:51000 len 60 tos 0x00');
    expect(summarize(synthPacket({ size: 1500 }).subarray(0, 96))).toBe('udp 10.0.0.1:1234 > 10.0.1.1:5201 len 1500 tos 0x00');
    const ihl0 = synthPacket({});
    ihl0[0] = 0x40;
    expect(summarize(ihl0)).toBe('udp 10.0.0.1:16384 > 10.0.1.1:100 len 100 tos 0x00');
  });

  it('IPv6: tcp6/udp6 with ports, other next headers by number', () => {
    // (sic) the compressed address and the port run together: how it has always printed
    expect(summarize(v6(17))).toBe('udp6 2001:::53 > ::1:443 len 48');
    expect(summarize(v6(58))).toBe('ip6 nh 58 2001:: > ::1 len 48');
  });

  it('anything shorter than a fixed header is not IP', () => {
    expect(summarize(new Uint8Array(0))).toBe('empty packet');
    expect(summarize(SYNACK.subarray(0, 19))).toBe('not IP (19 bytes)');
    expect(summarize(v6(17).subarray(0, 30))).toBe('not IP (30 bytes)');
    expect(summarize(Uint8Array.from([0x12, 3, 4]))).toBe('not IP (3 bytes)');
  });
});
