import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv } from '../../src/qdisc/env';
import { Fifo } from '../../src/qdisc/fifo';
import { XMIT_DROP, XMIT_SUCCESS } from '../../src/qdisc/qdisc';
import { DropReason } from '../../src/qdisc/stats';
import { LINKLAYER_ETHERNET, Tbf, type TbfOptions } from '../../src/qdisc/tbf';
import { ManualClock } from '../../src/time/clock';
import { makePacket } from '../support/packets';
import { seededRandom } from '../../src/qdisc/env';

const opts = (o: Partial<TbfOptions>): TbfOptions => ({
  rate: 125_000, // 1 Mbit/s
  burst: 10_000,
  limit: 1_000_000,
  peakrate: 0,
  mtu: 0,
  mpu: 0,
  overhead: 0,
  linklayer: LINKLAYER_ETHERNET,
  ...o,
});

/** Runs the qdisc like the forwarder: dequeue everything eligible, then sleep until wakeAt. */
function drain(q: Tbf, clock: ManualClock, until: number, onSend: (pkt: number, t: number) => void): void {
  for (;;) {
    const t = clock.now();
    for (let p = q.dequeue(t); p >= 0; p = q.dequeue(t)) onSend(p, t);
    if (q.stats.qlen === 0 || q.wakeAt > until) return;
    expect(q.wakeAt).toBeGreaterThan(t);
    clock.set(q.wakeAt);
  }
}

describe('tbf', () => {
  it('sends the burst at once, then at rate: bytes in [0,T] within one packet of burst + rate·T', () => {
    const arena = new Arena(4096);
    const q = new Tbf(0x10000, createQdiscEnv(arena, seededRandom(1)), opts({}));
    const clock = new ManualClock(0);
    const ids: number[] = [];
    for (let i = 0; i < 400; i++) {
      const id = makePacket(arena, { size: 1000, sport: i });
      ids.push(id);
      expect(q.enqueue(id, 0)).toBe(XMIT_SUCCESS);
    }
    const sent: Array<[number, number]> = [];
    const order: number[] = [];
    drain(q, clock, 2e9, (p, t) => {
      sent.push([t, arena.len[p]]);
      order.push(p);
      arena.free(p);
    });
    // the burst (10 packets of 1000 B) leaves at t = 0
    expect(sent.filter(([t]) => t === 0).length).toBe(10);
    for (const T of [0.1e9, 0.5e9, 1e9, 2e9]) {
      const bytes = sent.filter(([t]) => t <= T).reduce((a, [, l]) => a + l, 0);
      const ideal = 10_000 + 125_000 * (T / 1e9);
      expect(bytes).toBeLessThanOrEqual(ideal + 1e-6);
      expect(bytes).toBeGreaterThan(ideal - 1000);
    }
    // never reorders
    expect(order).toEqual(ids.slice(0, order.length));
    expect(q.stats.overlimits).toBeGreaterThan(0);
  });

  it('never lets a short packet overtake a long one waiting for tokens', () => {
    const arena = new Arena(64);
    const q = new Tbf(0x10000, createQdiscEnv(arena, seededRandom(1)), opts({ burst: 1500 }));
    const a = makePacket(arena, { size: 1500 });
    const b = makePacket(arena, { size: 1500 });
    const c = makePacket(arena, { size: 60 });
    for (const id of [a, b, c]) q.enqueue(id, 0);
    expect(q.dequeue(0)).toBe(a);
    // 60 B would fit in the tokens earned after 0.5 ms, b needs 12 ms: nothing goes before then
    expect(q.dequeue(0.5e6)).toBe(-1);
    expect(q.peek(0.5e6)).toBe(-1);
    expect(q.wakeAt).toBeCloseTo(0.5e6 + (1500 / 125_000) * 1e9 - 0.5e6, 3);
    expect(q.dequeue(12e6)).toBe(b);
    expect(q.dequeue(12e6 + (60 / 125_000) * 1e9)).toBe(c);
  });

  it('peakrate bounds the drain of a full bucket: consecutive packets spaced by len/peak', () => {
    const arena = new Arena(256);
    const peak = 1_250_000; // 10 Mbit/s
    const q = new Tbf(0x10000, createQdiscEnv(arena, seededRandom(1)), opts({ burst: 20_000, peakrate: peak, mtu: 1500 }));
    const clock = new ManualClock(0);
    for (let i = 0; i < 10; i++) q.enqueue(makePacket(arena, { size: 1000 }), 0);
    const times: number[] = [];
    drain(q, clock, 1e9, (p, t) => {
      times.push(t);
      arena.free(p);
    });
    expect(times.length).toBe(10);
    // The peak bucket holds 1500 B: after the first packet, each next one waits until 1000 B of
    // peak tokens are back, so sending never runs faster than the peak rate.
    for (let i = 2; i < times.length; i++) {
      expect(times[i] - times[i - 1]).toBeCloseTo((1000 / peak) * 1e9, 3);
    }
    const span = times[9] - times[0];
    expect(9000 / (span / 1e9)).toBeLessThanOrEqual(peak * 1.0001 * (10 / 9) + 1);
  });

  it('drops packets larger than the burst (max_size) and counts offered = sent + dropped + backlog', () => {
    const arena = new Arena(64);
    const env = createQdiscEnv(arena, seededRandom(1));
    const q = new Tbf(0x10000, env, opts({ burst: 1000, limit: 3000 }));
    expect(q.enqueue(makePacket(arena, { size: 1200 }), 0)).toBe(XMIT_DROP);
    expect(q.stats.dropsByReason[DropReason.TooBig]).toBe(1);
    let offered = 1;
    for (let i = 0; i < 5; i++, offered++) q.enqueue(makePacket(arena, { size: 900 }), 0);
    // bfifo of 3000 bytes holds 3 of them
    expect(q.stats.qlen).toBe(3);
    const p = q.dequeue(0);
    arena.free(p);
    expect(q.stats.packets + q.stats.drops + q.stats.qlen).toBe(offered);
    q.reset();
    expect(arena.available).toBe(64);
  });

  it('takes a grafted child and purges the old one', () => {
    const arena = new Arena(64);
    const env = createQdiscEnv(arena, seededRandom(1));
    const q = new Tbf(0x10000, env, opts({}));
    q.enqueue(makePacket(arena), 0);
    q.enqueue(makePacket(arena), 0);
    const child = new Fifo('pfifo', 0x50000, env, { limit: 1 });
    const old = q.graft(0x10001, child);
    expect(old?.kind).toBe('bfifo');
    expect(q.stats.qlen).toBe(0);
    expect(arena.available).toBe(64);
    q.enqueue(makePacket(arena), 0);
    expect(q.enqueue(makePacket(arena), 0)).toBe(XMIT_DROP);
    expect(q.classes()[0].leaf).toBe(child);
    expect(q.dequeue(0)).toBeGreaterThanOrEqual(0);
  });
});
