import { describe, expect, it } from 'vitest';
import { CLS_NOMATCH, CLS_SHOT, type Classifier } from '../../src/classify/classifier';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv } from '../../src/qdisc/env';
import { Fifo } from '../../src/qdisc/fifo';
import { Prio } from '../../src/qdisc/prio';
import { XMIT_DROP } from '../../src/qdisc/qdisc';
import { DropReason } from '../../src/qdisc/stats';
import { LINKLAYER_ETHERNET, Tbf } from '../../src/qdisc/tbf';
import { makePacket } from '../support/packets';
import { seededRandom } from '../../src/qdisc/env';

/** a prepared packet with this TOS byte and size (makePacket prepares what it builds) */
const pkt = (arena: Arena, tos = 0, size = 100): number => makePacket(arena, { tos, size });

describe('prio', () => {
  it('creates classes 1:1..1:3 at once with pfifo leaves; maps TOS through the priomap (S-04)', () => {
    const arena = new Arena(64);
    const q = new Prio(0x10000, createQdiscEnv(arena, seededRandom(1)));
    expect(q.classes().map((c) => c.classid)).toEqual([0x10001, 0x10002, 0x10003]);
    expect(q.classes().every((c) => c.leaf?.kind === 'pfifo' && c.parentid === 0x10000)).toBe(true);
    q.enqueue(pkt(arena, 0x08), 0); // bulk → band 2 (30:)
    q.enqueue(pkt(arena, 0x10), 0); // interactive → band 0 (10:)
    q.enqueue(pkt(arena, 0), 0); // best effort → band 1 (20:)
    expect(q.classes().map((c) => c.stats.qlen)).toEqual([1, 1, 1]);
    expect(q.stats.qlen).toBe(3);
  });

  it('is strict: a lower band is served only when every higher one is empty', () => {
    const arena = new Arena(64);
    const q = new Prio(0x10000, createQdiscEnv(arena, seededRandom(1)));
    const b2 = [pkt(arena, 0x08), pkt(arena, 0x08)];
    const b1 = pkt(arena, 0);
    for (const id of b2) q.enqueue(id, 0);
    q.enqueue(b1, 0);
    expect(q.dequeue(0)).toBe(b1);
    const b0 = pkt(arena, 0x10);
    q.enqueue(b0, 0);
    expect([q.dequeue(0), q.dequeue(0), q.dequeue(0), q.dequeue(0)]).toEqual([b0, b2[0], b2[1], -1]);
    expect(q.stats.packets).toBe(4);
    expect(q.stats.qlen).toBe(0);
    expect(q.stats.backlog).toBe(0);
  });

  it('routes by filters (minor → band), drops on shot, falls back to the priomap; out-of-range → priomap[0]', () => {
    const arena = new Arena(64);
    const q = new Prio(0x10000, createQdiscEnv(arena, seededRandom(1)));
    const verdict = new Map<number, number>();
    const f: Classifier = { classify: (p) => verdict.get(p) ?? CLS_NOMATCH };
    q.filters = f;
    const a = pkt(arena);
    verdict.set(a, 0x10003);
    const b = pkt(arena);
    verdict.set(b, CLS_SHOT);
    const c = pkt(arena, 0x10); // no match → priomap → band 0
    const d = pkt(arena);
    verdict.set(d, 0x10009); // band 8 ≥ bands → priomap[0] = 1
    q.enqueue(a, 0);
    expect(q.enqueue(b, 0)).toBe(XMIT_DROP);
    q.enqueue(c, 0);
    q.enqueue(d, 0);
    expect(q.classes().map((x) => x.stats.qlen)).toEqual([1, 1, 1]);
    expect(q.stats.dropsByReason[DropReason.Police]).toBe(1);
    expect(q.stats.packets + q.stats.drops + q.stats.qlen).toBe(4);
  });

  it('a throttled band does not block lower bands, and wakeAt is the earliest child wake-up', () => {
    const arena = new Arena(64);
    const env = createQdiscEnv(arena, seededRandom(1));
    const q = new Prio(0x10000, env);
    const tbf = new Tbf(0x200000, env, { rate: 1000, burst: 200, limit: 10000, peakrate: 0, mtu: 0, mpu: 0, overhead: 0, linklayer: LINKLAYER_ETHERNET });
    q.graft(0x10001, tbf);
    const t1 = pkt(arena, 0x10, 200);
    const t2 = pkt(arena, 0x10, 200);
    const bulk = pkt(arena, 0x08, 100);
    for (const id of [t1, t2, bulk]) q.enqueue(id, 0);
    expect(q.dequeue(0)).toBe(t1);
    expect(q.dequeue(0)).toBe(bulk); // band 0 throttled: band 2 goes
    expect(q.dequeue(0)).toBe(-1);
    expect(q.wakeAt).toBeCloseTo(0.2e9, 0); // 200 B at 1000 B/s
    expect(q.dequeue(q.wakeAt)).toBe(t2);
  });

  it('graft purges the old leaf and reports it; reset and bands change free every slot', () => {
    const arena = new Arena(64);
    const env = createQdiscEnv(arena, seededRandom(1));
    const q = new Prio(0x10000, env, { bands: 4, priomap: [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3] });
    for (let i = 0; i < 5; i++) q.enqueue(pkt(arena), 0);
    expect(q.classes()[3].stats.qlen).toBe(5);
    const old = q.graft(0x10004, new Fifo('bfifo', 0x400000, env, { limit: 1000 }));
    expect(old?.stats.dropsByReason[DropReason.Purge]).toBe(5);
    expect(q.stats.qlen).toBe(0);
    expect(arena.available).toBe(64);
    for (let i = 0; i < 3; i++) q.enqueue(pkt(arena), 0);
    q.tune({ bands: 2, priomap: new Array(16).fill(1) });
    expect(q.classes().length).toBe(2);
    expect(q.stats.qlen).toBe(0);
    expect(arena.available).toBe(64);
  });
});
