import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Arena } from '../../src/packet/arena';
import { Ipv4View } from '../../src/packet/ipv4';
import { PKT_BAD_HEADER, PKT_BAD_VERSION, PKT_NO_TRANSPORT, PKT_OK, PKT_TRUNCATED } from '../../src/packet/view';
import { Ipv6View } from '../../src/packet/ipv6';
import { TcpView } from '../../src/packet/tcp';
import { UdpView } from '../../src/packet/udp';
import { IcmpView } from '../../src/packet/icmp';
import { internetChecksum } from '../../src/packet/checksum';
import { filters, ipv4 } from '../classify/support';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((x) => parseInt(x, 16)));

// A real SYN-ACK captured on the wire: 10.0.0.1:80 → 10.0.0.2:51000, IHL 5, DF, TTL 64
const SYNACK = hex('4500 003c 0000 4000 4006 26ba 0a00 0001 0a00 0002 0050 c738 0000 0001 0000 0002 a012 fe88 0000 0000 0204 05b4 0402 080a 0000 0001 0000 0001 0103 0307');

describe('IPv4 and TCP views', () => {
  it('read every field of a captured SYN-ACK', () => {
    const a = new Arena(4);
    const id = a.allocFrom(SYNACK);
    const ip = new Ipv4View(a);
    expect(ip.reset(id)).toBe(PKT_OK);
    expect([ip.version, ip.ihl, ip.tos, ip.totalLength, ip.identification, ip.dontFragment, ip.moreFragments, ip.fragmentOffset, ip.ttl, ip.protocol]).toEqual([4, 5, 0, 60, 0, true, false, 0, 64, 6]);
    expect(ip.src).toBe(0x0a000001);
    expect(ip.dst).toBe(0x0a000002);
    expect(ip.checksumOk()).toBe(internetChecksum(SYNACK, 0, 20) === 0);
    const tcp = new TcpView(a.bytes);
    expect(tcp.reset(ip)).toBe(PKT_OK);
    expect([tcp.sport, tcp.dport, tcp.seq, tcp.ack, tcp.dataOffset, tcp.flags, tcp.window, tcp.payloadLength]).toEqual([80, 51000, 1, 2, 10, 0x12, 0xfe88, 0]);
    expect(tcp.isPureAck).toBe(false); // SYN set
  });

  it('IP options shift the transport header; pure ACK needs ACK, no SYN/FIN/RST and no payload', () => {
    const a = new Arena(8);
    const ip = new Ipv4View(a);
    const tcp = new TcpView(a.bytes);
    ip.reset(a.allocFrom(ipv4({ options: 8, sport: 443, tcpFlags: 0x10 })));
    expect([ip.ihl, ip.optionsLength, ip.option(0), ip.transportOffset]).toEqual([7, 8, 1, 28]);
    tcp.reset(ip);
    expect([tcp.sport, tcp.isPureAck]).toEqual([443, true]);
    ip.reset(a.allocFrom(ipv4({ tcpFlags: 0x10, payload: 1 })));
    tcp.reset(ip);
    expect(tcp.isPureAck).toBe(false);
    ip.reset(a.allocFrom(ipv4({ tcpFlags: 0x11 })));
    tcp.reset(ip);
    expect(tcp.isPureAck).toBe(false);
  });

  it('UDP and ICMP; non-first fragments have no transport header', () => {
    const a = new Arena(8);
    const ip = new Ipv4View(a);
    const udp = new UdpView(a.bytes);
    const icmp = new IcmpView(a.bytes);
    ip.reset(a.allocFrom(ipv4({ proto: 17, sport: 53, dport: 5353, payload: 10 })));
    expect(udp.reset(ip)).toBe(PKT_OK);
    expect([udp.sport, udp.dport, udp.length, udp.payloadLength]).toEqual([53, 5353, 18, 10]);
    ip.reset(a.allocFrom(ipv4({ proto: 1, icmpType: 3, icmpCode: 1 })));
    expect(icmp.reset(ip)).toBe(PKT_OK);
    expect([icmp.type, icmp.code]).toEqual([3, 1]);
    ip.reset(a.allocFrom(ipv4({ proto: 17, fragOffset: 16 })));
    expect([ip.isFragment, ip.fragmentOffset]).toEqual([true, 16]);
    expect(udp.reset(ip)).toBe(PKT_NO_TRANSPORT);
    expect(udp.sport).toBe(0);
  });

  it('truncated and inconsistent headers are reported, and getters read nothing', () => {
    const a = new Arena(8);
    const ip = new Ipv4View(a);
    expect(ip.reset(a.allocFrom(SYNACK.subarray(0, 19)))).toBe(PKT_TRUNCATED);
    expect(ip.src).toBe(0);
    expect(ip.reset(a.allocFrom(SYNACK.subarray(0, 50)))).toBe(PKT_TRUNCATED); // total length 60 > 50
    const bad = SYNACK.slice();
    bad[0] = 0x44;
    expect(ip.reset(a.allocFrom(bad))).toBe(PKT_BAD_HEADER);
    bad[0] = 0x75;
    expect(ip.reset(a.allocFrom(bad))).toBe(PKT_BAD_VERSION);
    const tcpShort = SYNACK.slice(0, 30);
    tcpShort[3] = 30;
    ip.reset(a.allocFrom(tcpShort));
    expect(new TcpView(a.bytes).reset(ip)).toBe(PKT_TRUNCATED);
  });

  it('setDscp keeps ECN and patches the checksum incrementally (equal to a full recomputation)', () => {
    const a = new Arena(4);
    const p = SYNACK.slice();
    p[1] = 0x01; // ECT(1)
    p[10] = 0;
    p[11] = 0;
    const sum = internetChecksum(p, 0, 20);
    p[10] = sum >> 8;
    p[11] = sum & 0xff;
    const id = a.allocFrom(p);
    const ip = new Ipv4View(a);
    ip.reset(id);
    ip.setDscp(46);
    expect([ip.tos, ip.dscp, ip.ecn]).toEqual([0xb9, 46, 1]);
    expect(internetChecksum(a.bytes, a.offset(id), 20)).toBe(0);
  });
});

describe('IPv6 view', () => {
  it('traffic class, flow label, next header, addresses and ports', () => {
    const a = new Arena(4);
    const p = new Uint8Array(48);
    p.set([0x6b, 0x81, 0x23, 0x45, 0, 8, 17, 64]);
    p[8] = 0x20;
    p[9] = 0x01;
    p[39] = 1;
    p.set([0x00, 0x35, 0x01, 0xbb, 0, 8], 40);
    const v = new Ipv6View(a);
    v.reset(a.allocFrom(p));
    expect([v.trafficClass, v.dscp, v.ecn, v.flowLabel, v.payloadLength, v.nextHeader, v.hopLimit]).toEqual([0xb8, 46, 0, 0x12345, 8, 17, 64]);
    expect([v.srcWord(0), v.dstWord(3)]).toEqual([0x20010000, 1]);
    const u = new UdpView(a.bytes);
    expect(u.reset(v)).toBe(PKT_OK);
    expect([u.sport, u.dport]).toEqual([53, 443]);
    p[6] = 44; // a fragment header first: no transport
    v.reset(a.allocFrom(p));
    expect(u.reset(v)).toBe(PKT_NO_TRANSPORT);
  });
});

describe('robustness', () => {
  it('random and truncated bytes never throw, never read past the packet, never match out of bounds', () => {
    const a = new Arena(4, 256);
    const set = filters(a, [
      'filter add dev e parent 1: protocol all prio 1 u32 match u32 0 0 at 60 flowid 1:1',
      'filter add dev e parent 1: protocol all prio 2 handle 3: u32 divisor 16',
      'filter add dev e parent 1: protocol all prio 2 u32 ht 3: match tcp dst 80 0xffff flowid 1:3',
      'filter add dev e parent 1: protocol all prio 2 u32 match u8 0 0 at 0 hashkey mask 0x0000000f at 12 offset at 0 mask 0f00 shift 6 link 3:',
    ]);
    const chain = set.chainFor(0x10000)!;
    const ip = new Ipv4View(a);
    const v6 = new Ipv6View(a);
    const tcp = new TcpView(a.bytes);
    const udp = new UdpView(a.bytes);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 120, size: 'max' }), fc.boolean(), (bytes, v4) => {
        if (bytes.length > 0 && v4) bytes[0] = 0x40 | (bytes[0] & 0x0f);
        const id = a.alloc();
        // poison the rest of the slot: a read past the packet would see 0xff
        a.bytes.fill(0xff, a.offset(id), a.offset(id) + 256);
        a.bytes.set(bytes, a.offset(id));
        a.len[id] = bytes.length;
        a.flags[id] = 2;
        const r = chain.classify(id, 0);
        // 1:1 reads bytes 60..63: it matches exactly the packets of 64 bytes or more
        expect(r).toBe(bytes.length >= 64 ? 0x10001 : r === 0x10003 ? 0x10003 : -1);
        for (const s of [ip.reset(id), v6.reset(id)]) expect(s).toBeGreaterThanOrEqual(0);
        tcp.reset(ip);
        udp.reset(ip);
        if (ip.status === PKT_OK) expect(ip.headerLength).toBeLessThanOrEqual(bytes.length);
        if (tcp.status === PKT_OK) expect(ip.transportOffset + tcp.headerLength).toBeLessThanOrEqual(bytes.length);
        a.free(id);
      }),
      { numRuns: 2000 },
    );
  });
});
