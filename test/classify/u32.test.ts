import { describe, expect, it } from 'vitest';
import { CLS_NOMATCH, CLS_SHOT } from '../../src/classify/classifier';
import { ipv4, slot, u32Chain } from './support';

const C = (maj: number, min: number): number => maj * 65536 + min;

describe('u32 through tc filter commands', () => {
  it('S-07: dport 80 → 1:10, sport 25 → 1:20, the rest unmatched; ip sport/dport match any IP protocol', () => {
    const { r } = u32Chain([
      'filter add dev eth0 protocol ip parent 1:0 prio 1 u32 match ip dport 80 0xffff flowid 1:10',
      'filter add dev eth0 protocol ip parent 1:0 prio 1 u32 match ip sport 25 0xffff flowid 1:20',
    ]);
    expect(r({ dport: 80 })).toBe(C(1, 0x10));
    expect(r({ proto: 17, dport: 80 })).toBe(C(1, 0x10));
    expect(r({ sport: 25, dport: 9 })).toBe(C(1, 0x20));
    expect(r({ dport: 81 })).toBe(CLS_NOMATCH);
  });

  it('T-107: dport 16384 0xc000 matches 16384..32767 only; T-108 tos 0xb8 0xfc ignores ECN', () => {
    const { a, c } = u32Chain([
      'filter add dev e parent 1: protocol ip prio 1 u32 match ip dport 16384 0xc000 flowid 1:1',
      'filter add dev e parent 1: protocol ip prio 2 u32 match ip tos 0xb8 0xfc flowid 1:2',
    ], 16);
    const r = (p: Parameters<typeof ipv4>[0]): number => {
      const id = slot(a, ipv4(p));
      const v = c.classify(id, 0);
      a.free(id);
      return v;
    };
    expect([16383, 16384, 32767, 32768].map((d) => r({ dport: d }))).toEqual([CLS_NOMATCH, C(1, 1), C(1, 1), CLS_NOMATCH]);
    expect([0xb8, 0xb9, 0xba, 0xbb, 0xb4, 0x88].map((t) => r({ tos: t, dport: 1 }))).toEqual([C(1, 2), C(1, 2), C(1, 2), C(1, 2), CLS_NOMATCH, CLS_NOMATCH]);
  });

  it('prio order beats insertion order; within a prio the first added wins; protocol ip skips IPv6', () => {
    const { a, c, r } = u32Chain([
      'filter add dev e parent 1: protocol ip prio 5 u32 match ip dst 10.0.1.1/32 flowid 1:5',
      'filter add dev e parent 1: protocol ip prio 2 u32 match ip dst 10.0.0.0/16 flowid 1:2',
      'filter add dev e parent 1: protocol ip prio 2 u32 match ip dst 10.0.1.0/24 flowid 1:3',
      'filter add dev e parent 1: protocol ipv6 prio 1 u32 match u32 0 0 flowid 1:6',
    ], 16);
    expect(r({ dst: 0x0a000101 })).toBe(C(1, 2));
    const v6 = new Uint8Array(48);
    v6[0] = 0x60;
    v6[5] = 8;
    v6[6] = 17;
    expect(c.classify(slot(a, v6), 0)).toBe(C(1, 6));
  });

  it('T-106: the small-ACK idiom matches IHL=5 TCP packets < 64 bytes whose flags byte is exactly ACK', () => {
    const { r } = u32Chain([
      'filter add dev e parent 1: protocol ip prio 1 u32 match ip protocol 6 0xff match u8 0x05 0x0f at 0 match u16 0x0000 0xffc0 at 2 match u8 0x10 0xff at 33 flowid 1:1',
    ], 32);
    expect(r({ tcpFlags: 0x10 })).toBe(C(1, 1)); // 40 bytes
    expect(r({ tcpFlags: 0x10, payload: 12 })).toBe(C(1, 1)); // 52 bytes
    expect(r({ tcpFlags: 0x10, payload: 24 })).toBe(CLS_NOMATCH); // 64 bytes
    expect(r({ tcpFlags: 0x18 })).toBe(CLS_NOMATCH); // ACK+PSH
    expect(r({ tcpFlags: 0x02 })).toBe(CLS_NOMATCH); // SYN
    expect(r({ tcpFlags: 0x10, options: 4 })).toBe(CLS_NOMATCH); // IHL 6
    expect(r({ proto: 17 })).toBe(CLS_NOMATCH);
  });

  it('D3: tcp dst is nexthdr-relative (IHL×4): it still finds the port behind IP options, ip dport (fixed 22) does not', () => {
    const { r } = u32Chain([
      'filter add dev e parent 1: protocol ip prio 1 u32 match tcp dst 53 0xffff match ip protocol 0x6 0xff flowid 1:2',
      'filter add dev e parent 1: protocol ip prio 2 u32 match ip dport 53 0xffff flowid 1:3',
    ], 16);
    expect(r({ dport: 53, options: 8 })).toBe(C(1, 2));
    expect(r({ dport: 53 })).toBe(C(1, 2));
    expect(r({ proto: 17, dport: 53, options: 8 })).toBe(CLS_NOMATCH); // UDP with options: ip dport reads an option byte
    expect(r({ proto: 17, dport: 53 })).toBe(C(1, 3));
  });

  it('non-first fragments have no transport header: nexthdr keys do not match them', () => {
    const { r } = u32Chain(['filter add dev e parent 1: protocol ip prio 1 u32 match tcp dst 80 0xffff flowid 1:2'], 8);
    expect(r({ dport: 80, mf: true })).toBe(C(1, 2)); // first fragment (MF, offset 0)
    expect(r({ dport: 80, fragOffset: 5 })).toBe(CLS_NOMATCH);
  });

  it('kernel-style variable offset: link with offset at 0 mask 0f00 shift 6 finds TCP flags behind IP options', () => {
    const { r } = u32Chain([
      'filter add dev e parent 1: protocol ip prio 6 handle 3: u32 divisor 1',
      'filter add dev e parent 1: protocol ip prio 6 u32 ht 3: match tcp src 80 0xffff match u8 0x10 0xff at nexthdr+13 flowid 1:3',
      'filter add dev e parent 1: protocol ip prio 6 u32 match ip protocol 6 0xff match u16 0 0x1fff at 6 offset at 0 mask 0f00 shift 6 link 3:',
    ], 16);
    for (const opt of [0, 4, 12, 40]) expect(r({ sport: 80, tcpFlags: 0x10, options: opt })).toBe(C(1, 3));
    expect(r({ sport: 80, tcpFlags: 0x11, options: 4 })).toBe(CLS_NOMATCH);
    expect(r({ sport: 81, tcpFlags: 0x10 })).toBe(CLS_NOMATCH);
  });

  it('offset plus 20 eat: keys of the linked table are relative to the eaten offset', () => {
    const { r } = u32Chain([
      'filter add dev e parent 1: protocol ip prio 1 handle 4: u32 divisor 1',
      'filter add dev e parent 1: protocol ip prio 1 u32 ht 4: match u16 443 0xffff at 2 flowid 1:4',
      'filter add dev e parent 1: protocol ip prio 1 u32 match ip protocol 6 0xff offset plus 20 eat link 4:',
    ], 8);
    expect(r({ dport: 443 })).toBe(C(1, 4));
    expect(r({ dport: 444 })).toBe(CLS_NOMATCH);
  });

  it('a linking knode with a classid is terminal when nothing below matches (pop → check terminal)', () => {
    const { r } = u32Chain([
      'filter add dev e parent 1: protocol ip prio 1 handle 2: u32 divisor 1',
      'filter add dev e parent 1: protocol ip prio 1 u32 ht 2: match ip dport 22 0xffff flowid 1:22',
      'filter add dev e parent 1: protocol ip prio 1 u32 match ip protocol 6 0xff link 2: flowid 1:6',
    ], 8);
    expect(r({ dport: 22 })).toBe(C(1, 0x22));
    expect(r({ dport: 23 })).toBe(C(1, 6));
  });

  it('hashkey fold is a shift of the masked word (no XOR): mask 0x0000ff00 buckets on the 3rd octet', () => {
    const { r } = u32Chain([
      'filter add dev e parent 1: protocol ip prio 99 handle 1: u32 divisor 256',
      'filter add dev e parent 1: protocol ip prio 99 u32 ht 1:7: match ip src 192.168.7.0/24 flowid 1:7',
      'filter add dev e parent 1: protocol ip prio 99 u32 link 1: hashkey mask 0x0000ff00 at 12 match ip src 192.168.0.0/16',
    ], 8);
    expect(r({ src: 0xc0a80709 })).toBe(C(1, 7));
    // 192.168.8.7: bucket 8 is empty; an XOR-fold would have mixed the octets
    expect(r({ src: 0xc0a80807 })).toBe(CLS_NOMATCH);
  });

  it('a key that reads past the packet ends the instance with no match; the next prio still runs', () => {
    const { r } = u32Chain([
      'filter add dev e parent 1: protocol ip prio 1 u32 match u32 0 0 at 200 flowid 1:1',
      'filter add dev e parent 1: protocol ip prio 1 u32 match u32 0 0 flowid 1:9',
      'filter add dev e parent 1: protocol ip prio 2 u32 match u32 0 0 flowid 1:2',
    ], 8);
    expect(r({})).toBe(C(1, 2));
  });

  it('links deeper than 8 levels stop (dead loop) instead of spinning', () => {
    const lines = ['filter add dev e parent 1: protocol ip prio 1 handle 5: u32 divisor 1', 'filter add dev e parent 1: protocol ip prio 1 u32 ht 5: match u32 0 0 link 5:'];
    const { r } = u32Chain([...lines, 'filter add dev e parent 1: protocol ip prio 1 u32 match u32 0 0 link 5:', 'filter add dev e parent 2: protocol ip prio 1 u32 match u32 0 0 flowid 2:1'], 8);
    expect(r({})).toBe(CLS_NOMATCH);
  });

  it('action drop → CLS_SHOT; action continue → next filter; D4 flowid-only catch-all and flowid :N', () => {
    const warnings: string[] = [];
    const { r } = u32Chain(
      [
        'filter add dev e parent 10: protocol ip prio 1 u32 match ip dport 9 0xffff action drop',
        'filter add dev e parent 10: protocol ip prio 1 u32 match ip dport 8 0xffff action continue',
        'filter add dev e parent 10: protocol ip prio 1 u32 match ip dport 22 0xffff flowid :1',
        'filter add dev e protocol ip parent 10: prio 2 flowid 10:2',
      ],
      8,
      0x100000,
      warnings,
    );
    expect(r({ dport: 9 })).toBe(CLS_SHOT);
    expect(r({ dport: 8 })).toBe(C(0x10, 2));
    expect(r({ dport: 22 })).toBe(C(0x10, 1));
    expect(warnings.some((w) => w.includes('D4'))).toBe(true);
  });
});
