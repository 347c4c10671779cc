import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { internetChecksum } from '../../src/packet/checksum';
import { createQdiscEnv, seededRandom } from '../../src/qdisc/env';
import { XMIT_DROP, XMIT_SUCCESS } from '../../src/qdisc/qdisc';
import { Red, type RedParams, TC_RED_ADAPTATIVE, TC_RED_ECN, TC_RED_HARDDROP } from '../../src/qdisc/red';
import { redEvalEwma, redEvalIdleDamping } from '../../src/tc/red-eval';
import { makePacket } from '../support/packets';

function params(o: Partial<RedParams>): RedParams {
  return {
    limit: 1_000_000,
    qthMin: 30_000,
    qthMax: 90_000,
    Wlog: 9,
    Plog: 0,
    ScellLog: 10,
    stab: new Uint8Array(256),
    maxP: Math.floor(0.1 * 2 ** 32),
    flags: 0,
    ...o,
  };
}

describe('red', () => {
  it('the average follows the EWMA avg ← avg + W·(backlog − avg) of the byte backlog', () => {
    const arena = new Arena(1024);
    const q = new Red(0x10000, createQdiscEnv(arena, seededRandom(1)), params({ Wlog: 4, qthMin: 900_000, qthMax: 950_000 }));
    const W = 1 / 16;
    let avg = 0;
    for (let i = 0; i < 300; i++) {
      const backlog = q.child.stats.backlog;
      avg += W * (backlog - avg);
      q.enqueue(makePacket(arena, { size: 500 }), 0);
      // fixed point keeps the kernel's floor(): within one byte of the real-valued EWMA
      expect(Math.abs(q.averageBytes() - avg)).toBeLessThanOrEqual(1);
    }
  });

  it('at a steady average drops with p_b = max_P·(avg−min)/(max−min), spread by the count', () => {
    const arena = new Arena(256);
    const q = new Red(0x10000, createQdiscEnv(arena, seededRandom(42)), params({}));
    // 60 kB queued (average still below min while filling), then keep the backlog at 60 kB
    for (let i = 0; i < 60; i++) expect(q.enqueue(makePacket(arena, { size: 1000 }), 0)).toBe(XMIT_SUCCESS);
    const step = (): boolean => {
      const r = q.enqueue(makePacket(arena, { size: 1000 }), 0);
      if (r === XMIT_DROP) return true;
      arena.free(q.dequeue(0));
      return false;
    };
    for (let i = 0; i < 8000; i++) step(); // the average converges to 60 kB
    expect(q.averageBytes()).toBeCloseTo(60_000, -1);
    const pb = 0.1 * (60_000 - 30_000) / (90_000 - 30_000); // 0.05
    const N = 100_000;
    let drops = 0;
    let gap = 0;
    let maxGap = 0;
    for (let i = 0; i < N; i++) {
      gap++;
      if (step()) {
        drops++;
        maxGap = Math.max(maxGap, gap);
        gap = 0;
      }
    }
    // The gap between marks is uniform on 1..1/p_b (qR uniform, marked when (avg−min)·count ≥ qR),
    // so the mark rate is 1/E[gap] = 2·p_b/(1+p_b) and no gap exceeds 1/p_b.
    const expected = (2 * pb) / (1 + pb);
    // sd of the count of marks ≈ sqrt(N·Var(gap)/E[gap]^3) ≈ 54 here; allow 5 sd
    const sd = Math.sqrt((N * ((20 * 20 - 1) / 12)) / 10.5 ** 3);
    expect(Math.abs(drops - expected * N)).toBeLessThan(5 * sd);
    expect(maxGap).toBeLessThanOrEqual(Math.round(1 / pb));
    expect(q.early).toBe(q.probDrop);
    expect(q.stats.packets + q.stats.drops + q.stats.qlen).toBe(60 + 8000 + N);
  });

  it('with ecn marks ECT packets CE (checksum still valid) and drops not-ECT ones', () => {
    const arena = new Arena(256);
    const q = new Red(0x10000, createQdiscEnv(arena, seededRandom(7)), params({ Wlog: 1, qthMin: 2000, qthMax: 4000, flags: TC_RED_ECN }));
    for (let i = 0; i < 5; i++) q.enqueue(makePacket(arena, { size: 1000, tos: 0x02 }), 0);
    // the average is now above max: every packet is a HARD_MARK
    const ect = makePacket(arena, { size: 1000, tos: 0x02 });
    expect(q.enqueue(ect, 0)).toBe(XMIT_SUCCESS);
    const b = arena.packet(ect);
    expect(b[1] & 3).toBe(3);
    expect(internetChecksum(b, 0, 20)).toBe(0);
    const notEct = makePacket(arena, { size: 1000, tos: 0 });
    expect(q.enqueue(notEct, 0)).toBe(XMIT_DROP);
    expect(q.forcedMark).toBeGreaterThanOrEqual(1);
    expect(q.forcedDrop).toBe(1);
  });

  it('harddrop drops above max even ECT packets', () => {
    const arena = new Arena(256);
    const q = new Red(0x10000, createQdiscEnv(arena, seededRandom(1)), params({ Wlog: 1, qthMin: 2000, qthMax: 4000, flags: TC_RED_ECN | TC_RED_HARDDROP }));
    let drops = 0;
    for (let i = 0; i < 10; i++) if (q.enqueue(makePacket(arena, { size: 1000, tos: 0x02 }), 0) === XMIT_DROP) drops++;
    expect(drops).toBeGreaterThan(0);
    expect(q.forcedMark).toBe(0);
    expect(q.forcedDrop).toBe(drops);
  });

  it('child overflow counts as pdrop', () => {
    const arena = new Arena(64);
    const q = new Red(0x10000, createQdiscEnv(arena, seededRandom(1)), params({ limit: 2500, qthMin: 100_000, qthMax: 200_000 }));
    const r = [0, 1, 2].map(() => q.enqueue(makePacket(arena, { size: 1000 }), 0));
    expect(r).toEqual([XMIT_SUCCESS, XMIT_SUCCESS, XMIT_DROP]);
    expect(q.pdrop).toBe(1);
  });

  it('after idle time the average decays through the Stab table', () => {
    const arena = new Arena(256);
    const stab = new Uint8Array(256);
    const Wlog = redEvalEwma(30_000, 55, 1000);
    const ScellLog = redEvalIdleDamping(Wlog, 1000, 1_250_000, stab);
    const q = new Red(0x10000, createQdiscEnv(arena, seededRandom(1)), params({ Wlog, ScellLog, stab, qthMin: 1e6, qthMax: 2e6 }));
    for (let i = 0; i < 50; i++) q.enqueue(makePacket(arena, { size: 1000 }), 0);
    while (q.stats.qlen > 0) arena.free(q.dequeue(0));
    expect(q.dequeue(0)).toBe(-1); // idle from t = 0
    const before = q.qavg;
    const idleUs = 40 << ScellLog;
    q.enqueue(makePacket(arena, { size: 1000 }), idleUs * 1000);
    // the table says how many halvings 40 cells of idle time are worth: qavg >> Stab[40]
    expect(stab[40]).toBeGreaterThan(0);
    expect(q.qavg).toBe(Math.floor(before / 2 ** stab[40]));
  });

  it('adaptive: raises max_P by min(1%, max_P/4) every 500 ms while the average sits above target', () => {
    const arena = new Arena(256);
    const q = new Red(0x10000, createQdiscEnv(arena, seededRandom(1)), params({ Wlog: 1, qthMin: 10_000, qthMax: 200_000, maxP: Math.floor(0.02 * 2 ** 32), flags: TC_RED_ADAPTATIVE }));
    for (let i = 0; i < 150; i++) q.enqueue(makePacket(arena, { size: 1000 }), 0); // avg ≈ 150 kB > target_max
    const onePct = Math.round(2 ** 32 / 100);
    let expected = q.maxP;
    for (let k = 1; k <= 4; k++) {
      const t = k * 500e6;
      const id = makePacket(arena, { size: 40 });
      q.enqueue(id, t);
      expected += Math.min(onePct, Math.floor(expected / 4));
      expect(q.maxP).toBe(expected);
      const p = q.dequeue(t);
      arena.free(p);
    }
  });
});
