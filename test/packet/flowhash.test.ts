import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { computeFlowHash } from '../../src/packet/flowhash';
import { allocPacket, ipv4Addr as ip } from '../../src/packet/synth';


const key = { k0: 0x01234567, k1: 0x89abcdef };

describe('flow hash (HalfSipHash-2-4)', () => {
  it('spreads flows uniformly over 1024 buckets (chi-square)', () => {
    const arena = new Arena(4);
    const buckets = new Array(1024).fill(0);
    const n = 102_400;
    for (let i = 0; i < n; i++) {
      const id = allocPacket(arena, { src: ip(10, 0, (i >> 8) & 255, i & 255), dst: ip(192, 168, 1, 1), sport: 40000 + (i % 7), dport: 443 });
      buckets[computeFlowHash(arena, id, key) & 1023]++;
      arena.free(id);
    }
    const e = n / 1024;
    const chi2 = buckets.reduce((a, o) => a + (o - e) ** 2 / e, 0);
    // 1023 degrees of freedom: mean 1023, sd ≈ 45; 1023 + 5 sd ≈ 1250
    expect(chi2).toBeLessThan(1250);
    expect(chi2).toBeGreaterThan(800);
  });

  it('depends on every tuple field and on the key; the same flow hashes the same', () => {
    const arena = new Arena(16);
    const base = { src: ip(10, 0, 0, 1), dst: ip(10, 0, 0, 2), sport: 1000, dport: 80, proto: 6 };
    const h = (spec: object, k = key) => {
      const id = allocPacket(arena, { ...base, ...spec });
      const v = computeFlowHash(arena, id, k);
      arena.free(id);
      return v;
    };
    const h0 = h({});
    expect(h({ size: 1400 })).toBe(h0); // length and payload are not part of the flow
    for (const spec of [{ src: ip(10, 0, 0, 3) }, { dst: ip(10, 0, 0, 4) }, { sport: 1001 }, { dport: 81 }, { proto: 17 }]) {
      expect(h(spec)).not.toBe(h0);
    }
    // key sensitivity: flipping one key bit changes about half of the output bits
    let flipped = 0;
    for (let bit = 0; bit < 32; bit++) {
      const d = (h({}, { k0: key.k0 ^ (1 << bit), k1: key.k1 }) ^ h0) >>> 0;
      flipped += d.toString(2).split('1').length - 1;
    }
    expect(flipped / 32).toBeGreaterThan(12);
    expect(flipped / 32).toBeLessThan(20);
  });

  it('ignores ports of fragments so every fragment of a datagram stays in one flow', () => {
    const arena = new Arena(8);
    const a = allocPacket(arena, { sport: 1, dport: 2, mf: true });
    const b = allocPacket(arena, { sport: 3, dport: 4, mf: true });
    expect(computeFlowHash(arena, a, key)).toBe(computeFlowHash(arena, b, key));
  });

  it('hashes IPv6 addresses and ports', () => {
    const arena = new Arena(8);
    const v6 = (last: number, sport: number) => allocPacket(arena, { version: 6, size: 60, src6: [0, 0, 0, last], dst6: [0, 0, 0, 9], sport });
    const a = v6(1, 1000);
    const b = v6(2, 1000);
    const c = v6(1, 1001);
    const ha = computeFlowHash(arena, a, key);
    expect(computeFlowHash(arena, b, key)).not.toBe(ha);
    expect(computeFlowHash(arena, c, key)).not.toBe(ha);
  });
});
