/**
 * Every file in configs/ passes `check` (loads with no error), and representative packets classify
 * to the class its header comment promises.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePcap } from '../src/packet/pcap';
import { loadConfig } from '../src/tc/system';
import { findKind } from '../src/tc/kinds';
import { tracePacket } from '../src/tc/trace';
import { runCheck } from '../src/cli/check';
import { runClassify } from '../src/cli/classify';
import { ip, ipv4Bytes } from './support/packets';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { seededRandom } from '../src/qdisc/env';

const dir = join(__dirname, '../configs');
const files = readdirSync(dir).filter((f) => f.endsWith('.tc') || f.endsWith('.sh'));
const load = (f: string) => loadConfig(f.endsWith('.sh') ? { script: join(dir, f) } : { file: join(dir, f) }, { random: seededRandom(1) });

describe('configs/', () => {
  for (const f of files) {
    const needs = f.includes('cbq') ? 'cbq' : undefined;
    it.skipIf(needs !== undefined && !findKind(needs))(`${f} passes check`, () => {
      let out = '';
      let err = '';
      const code = runCheck(f.endsWith('.sh') ? { script: join(dir, f) } : { config: join(dir, f) }, { out: (t) => (out += t), err: (t) => (err += t) });
      expect(err).not.toMatch(/:\d+:\d+: (?!warning)/);
      expect(code).toBe(0);
      expect(out).toMatch(/dev tq0 (egress|ingress):/);
    });
  }

  const classify = (f: string, pkts: Parameters<typeof ipv4Bytes>[0][], ingress = false): string[] => {
    const { devices } = load(f);
    const d = devices.get('tq0')!;
    return pkts.map((p, i) => tracePacket(d, ingress ? d.ingress : d.egress, ipv4Bytes(p), 1e9 + i * 1e6).verdict);
  };
  const TCP = 6;
  const UDP = 17;

  it('demo.tc: EF voice, icmp/ssh/small packets interactive, 5202 RED, the rest bulk by default', () => {
    expect(
      classify('demo.tc', [
        { tos: 0xb8, size: 200 },
        { tos: 0xb9, size: 200 },
        { proto: 1, size: 84 },
        { proto: TCP, dport: 22, size: 600 },
        { proto: TCP, size: 60, dport: 443 },
        { proto: TCP, dport: 5202, size: 1500 },
        { proto: TCP, dport: 443, size: 1500 },
      ]),
    ).toEqual(['1:10', '1:10', '1:20', '1:20', '1:20', '1:40', 'default 1:30']);
  });

  it('s07-htb.tc: dport 80 → 1:10, sport 25 → 1:20, else default 1:30', () => {
    expect(classify('s07-htb.tc', [{ proto: TCP, dport: 80, size: 500 }, { proto: TCP, sport: 25, size: 500 }, { proto: UDP, dport: 53 }])).toEqual([
      '1:10',
      '1:20',
      'default 1:30',
    ]);
  });

  it('s04-prio.tc: TOS picks the band through the priomap', () => {
    expect(classify('s04-prio.tc', [{ tos: 0x10 }, { tos: 0 }, { tos: 0x08 }])).toEqual(['default 1:1', 'default 1:2', 'default 1:3']);
  });

  it('s08/s09: ports and addresses to 10:1, the catch-all to 10:2', () => {
    expect(classify('s08-prio-ports.tc', [{ proto: TCP, dport: 22 }, { proto: TCP, sport: 80 }, { proto: TCP, dport: 25 }])).toEqual(['10:1', '10:1', '10:2']);
    expect(
      classify('s09-prio-addresses.tc', [{ dst: ip(4, 3, 2, 1) }, { src: ip(1, 2, 3, 4) }, { src: ip(4, 3, 2, 1), sport: 80 }, { src: ip(4, 3, 2, 1), sport: 81 }]),
    ).toEqual(['10:1', '10:1', '10:1', '10:2']);
  });

  it('s19-tcp-dns.tc: TCP DNS → 1:2, UDP DNS → default 1:3', () => {
    expect(classify('s19-tcp-dns.tc', [{ proto: TCP, dport: 53, size: 60 }, { proto: UDP, dport: 53 }])).toEqual(['1:2', 'default 1:3']);
  });

  it('s21-22-hashing.sh: the hashed table sends each client to its class', () => {
    expect(
      classify('s21-22-hashing.sh', [{ src: ip(1, 2, 0, 123) }, { src: ip(1, 2, 1, 123) }, { src: ip(1, 2, 2, 7) }, { src: ip(1, 2, 3, 255) }, { src: ip(9, 9, 9, 9) }]),
    ).toEqual(['1:1', '1:2', '1:3', '1:2', 'default 1:4']);
  });

  it('s32-app-limit.sh: the app → 1:1; the rest goes direct (default 10 names no class)', () => {
    expect(classify('s32-app-limit.sh', [{ dst: ip(192, 168, 1, 100) }, { dst: ip(192, 168, 1, 7) }])).toEqual(['1:1', 'direct']);
  });

  it('s34-quick-start.sh: EF, AF41, AF21 and the default 1:99', () => {
    expect(classify('s34-quick-start.sh', [{ tos: 0xb8 }, { tos: 0xbb }, { tos: 0x88 }, { tos: 0x48 }, { tos: 0x28 }, { tos: 0 }])).toEqual([
      '1:10',
      '1:10',
      '1:20',
      '1:30',
      'default 1:99',
      'default 1:99',
    ]);
  });

  it('s25-ingress-police.tc: a burst of SYNs beyond 1 kbit is dropped on the ingress side', () => {
    const { devices } = load('s25-ingress-police.tc');
    const d = devices.get('tq0')!;
    const syn = (): Uint8Array => {
      const b = ipv4Bytes({ proto: TCP, size: 40, dport: 80 });
      b[33] = 0x02;
      return b;
    };
    const verdicts = [0, 1, 2, 3].map((i) => tracePacket(d, d.ingress, syn(), 1e9 + i).verdict);
    expect(verdicts[0]).toBe('direct');
    expect(verdicts.slice(1)).toEqual(['dropped (police)', 'dropped (police)', 'dropped (police)']);
  });

  it('ingress-htb.tc: downloads are classified by the tree under the ingress qdisc', () => {
    expect(classify('ingress-htb.tc', [{ src: ip(10, 0, 1, 5), sport: 80, proto: TCP, size: 1000 }, { src: ip(10, 0, 2, 5) }], true)).toEqual(['2:10', 'default 2:20']);
  });

  it('tunqos classify prints one line per packet from hex and from pcap', () => {
    let out = '';
    const io = { out: (t: string) => (out += t), err: (t: string) => (out += t) };
    const hex = Buffer.from(ipv4Bytes({ proto: TCP, dport: 80, size: 60, src: ip(10, 0, 0, 1), dst: ip(10, 0, 1, 1), sport: 1234 })).toString('hex');
    expect(runClassify({ config: join(dir, 's07-htb.tc'), hex: [hex] }, io)).toBe(0);
    expect(out).toMatch(/^#1 tcp 10\.0\.0\.1:1234 > 10\.0\.1\.1:80 len 60 tos 0x00 \[1: prio 1 ip 800::800 .*→ 1:10\] -> 1:10\n$/);
    // an Ethernet pcap with an ARP frame that is skipped
    const eth = (type: number, payload: Uint8Array): Uint8Array => {
      const f = new Uint8Array(14 + payload.length);
      f[12] = type >> 8;
      f[13] = type & 0xff;
      f.set(payload, 14);
      return f;
    };
    const tmp = mkdtempSync(join(tmpdir(), 'tq-h5-pcap-'));
    const pcap = join(tmp, 'x.pcap');
    writeFileSync(pcap, writePcap([eth(0x0806, new Uint8Array(28)), eth(0x0800, ipv4Bytes({ proto: TCP, sport: 25, size: 100 }))], 1));
    out = '';
    expect(runClassify({ config: join(dir, 's07-htb.tc'), pcap }, io)).toBe(0);
    expect(out).toMatch(/1 frame\(s\) without an IP packet skipped/);
    expect(out).toMatch(/#2 tcp .*:25 > .* -> 1:20\n/);
  });
});
