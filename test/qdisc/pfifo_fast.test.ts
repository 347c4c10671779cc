import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv } from '../../src/qdisc/env';
import { PfifoFast } from '../../src/qdisc/pfifo_fast';
import { XMIT_DROP } from '../../src/qdisc/qdisc';
import { makePacket } from '../support/packets';
import { seededRandom } from '../../src/qdisc/env';

/** a prepared packet with this TOS byte (makePacket prepares what it builds) */
const pkt = (arena: Arena, tos: number): number => makePacket(arena, { tos });

describe('pfifo_fast', () => {
  it('puts TOS minimise-delay in band 0, normal in band 1, bulk in band 2 (LARTC table, D6)', () => {
    const arena = new Arena(64);
    const q = new PfifoFast(0, createQdiscEnv(arena, seededRandom(1)));
    // TOS byte → expected band, from the LARTC table with modern ECN handling
    const cases: Array<[number, number]> = [
      [0x00, 1], [0x02, 1], [0x04, 1], [0x08, 2], [0x0c, 2], [0x10, 0], [0x14, 0], [0x18, 1], [0x1e, 1],
      [0x11, 0], [0x13, 0], // ECN bits never change the band
    ];
    for (const [tos, band] of cases) {
      const before = [0, 1, 2].map((b) => q.bandLength(b));
      q.enqueue(pkt(arena, tos), 0);
      const after = [0, 1, 2].map((b) => q.bandLength(b));
      expect(after.map((n, b) => n - before[b]), `tos 0x${tos.toString(16)}`).toEqual([0, 1, 2].map((b) => (b === band ? 1 : 0)));
    }
  });

  it('dequeues strictly by band, FIFO inside a band', () => {
    const arena = new Arena(64);
    const q = new PfifoFast(0, createQdiscEnv(arena, seededRandom(1)));
    const bulk = pkt(arena, 0x08);
    const normal1 = pkt(arena, 0);
    const inter = pkt(arena, 0x10);
    const normal2 = pkt(arena, 0);
    for (const id of [bulk, normal1, inter, normal2]) q.enqueue(id, 0);
    expect(q.peek(0)).toBe(inter);
    expect([q.dequeue(0), q.dequeue(0), q.dequeue(0), q.dequeue(0), q.dequeue(0)]).toEqual([inter, normal1, normal2, bulk, -1]);
  });

  it('limits each band to txqueuelen packets (S-01: txqueuelen 10)', () => {
    const arena = new Arena(64);
    const q = new PfifoFast(0, createQdiscEnv(arena, seededRandom(1), { txQueueLen: 10 }));
    let drops = 0;
    for (let i = 0; i < 12; i++) if (q.enqueue(pkt(arena, 0), 0) === XMIT_DROP) drops++;
    expect(drops).toBe(2);
    expect(q.enqueue(pkt(arena, 0x10), 0)).not.toBe(XMIT_DROP); // another band still has room
    expect(q.stats.packets + q.stats.drops + q.stats.qlen).toBe(13);
    q.reset();
    expect(arena.available).toBe(64);
  });
});
