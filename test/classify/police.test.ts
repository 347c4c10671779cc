import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Police } from '../../src/classify/police';
import { TC_ACT_OK, TC_ACT_RECLASSIFY, TC_ACT_SHOT, TC_ACT_UNSPEC } from '../../src/classify/action';
import { ManualClock } from '../../src/time/clock';

describe('police', () => {
  it('over T seconds the conformant bytes are the burst plus rate × T (to within one packet)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 1_000_000 }), fc.integer({ min: 1600, max: 100_000 }), fc.integer({ min: 64, max: 1500 }), (rate, burst, size) => {
        const p = new Police({ rate, burst, mtu: 65535, exceed: TC_ACT_SHOT });
        const clock = new ManualClock(5e9);
        const T = 2e9;
        const step = 1e5; // offer a packet every 100 µs (always more than the rate)
        let ok = 0;
        for (let t = 0; t <= T; t += step) {
          if (p.act(size, clock.now()) === TC_ACT_OK) ok += size;
          clock.advance(step);
        }
        const limit = burst + (rate * T) / 1e9;
        if (size * ((T / step) + 1) < limit) return; // offered less than the limit: nothing to check
        expect(ok).toBeLessThanOrEqual(limit + 1e-6);
        expect(ok).toBeGreaterThan(limit - 2 * size - (rate * step) / 1e9);
        expect(p.overlimits).toBe(p.drops);
        expect(p.packets).toBe(T / step + 1);
      }),
      { numRuns: 40 },
    );
  });

  it('T-96: SYNs of 40 bytes at 1 kbit, burst 40: 10 s of 100 SYN/s lets ≈ 32 through', () => {
    const p = new Police({ rate: 125, burst: 40, mtu: 9216, exceed: TC_ACT_SHOT });
    let ok = 0;
    for (let i = 0; i < 1000; i++) if (p.act(40, i * 1e7) === TC_ACT_OK) ok++;
    // 1 (burst) + 125 B/s × 9.99 s / 40 B
    expect(ok).toBe(1 + Math.floor((125 * 9.99) / 40));
    expect(p.drops).toBe(1000 - ok);
  });

  it('T-93: packets above mtu always exceed; default exceed is reclassify, default mtu with a rate is 2040', () => {
    const p = new Police({ rate: 1e6, burst: 100_000 });
    expect(p.mtu).toBe(2040);
    expect(p.act(1500, 0)).toBe(TC_ACT_OK);
    expect(p.act(2041, 0)).toBe(TC_ACT_RECLASSIFY);
    const q = new Police({ rate: 1e6, burst: 100_000, mtu: 100, exceed: TC_ACT_UNSPEC });
    expect(q.act(1500, 0)).toBe(TC_ACT_UNSPEC);
  });

  it('peakrate caps the burst: back-to-back packets conform only at peakrate', () => {
    const p = new Police({ rate: 1e6, burst: 1e6, mtu: 1500, peakrate: 10_000, exceed: TC_ACT_SHOT });
    expect(p.act(1000, 0)).toBe(TC_ACT_OK); // the peak bucket starts with one mtu
    expect(p.act(1000, 0)).toBe(TC_ACT_SHOT);
    expect(p.act(1000, 1e8)).toBe(TC_ACT_OK); // 100 ms at 10 kB/s = 1000 bytes
  });

  it('avrate: below the average rate packets conform, above it they exceed', () => {
    const p = new Police({ avrate: 100_000, exceed: TC_ACT_SHOT });
    let t = 0;
    for (let i = 0; i < 200; i++, t += 1e7) expect(p.act(500, t)).toBe(TC_ACT_OK); // 50 kB/s
    let dropped = 0;
    for (let i = 0; i < 400; i++, t += 1e6) if (p.act(500, t) === TC_ACT_SHOT) dropped++; // 500 kB/s
    expect(dropped).toBeGreaterThan(300);
  });
});
