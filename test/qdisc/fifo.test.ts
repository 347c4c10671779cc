import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv } from '../../src/qdisc/env';
import { Fifo } from '../../src/qdisc/fifo';
import { XMIT_DROP, XMIT_SUCCESS } from '../../src/qdisc/qdisc';
import { DropReason } from '../../src/qdisc/stats';
import { makePacket } from '../support/packets';
import { seededRandom } from '../../src/qdisc/env';

describe('pfifo', () => {
  it('delivers in arrival order and tail-drops beyond its packet limit', () => {
    const arena = new Arena(64);
    const q = new Fifo('pfifo', 0x10000, createQdiscEnv(arena, seededRandom(1)), { limit: 3 });
    const ids = [0, 1, 2, 3].map((i) => makePacket(arena, { size: 100 + i }));
    expect(ids.map((id) => q.enqueue(id, 0))).toEqual([XMIT_SUCCESS, XMIT_SUCCESS, XMIT_SUCCESS, XMIT_DROP]);
    expect(arena.isInUse(ids[3])).toBe(false); // the dropped packet's slot went back to the arena
    expect(q.stats.qlen).toBe(3);
    expect(q.stats.backlog).toBe(100 + 101 + 102);
    expect([q.dequeue(0), q.dequeue(0), q.dequeue(0), q.dequeue(0)]).toEqual([ids[0], ids[1], ids[2], -1]);
    expect(q.stats.packets).toBe(3);
    expect(q.stats.bytes).toBe(303);
    expect(q.stats.drops).toBe(1);
    expect(q.stats.dropsByReason[DropReason.QueueFull]).toBe(1);
    // offered = sent + dropped + backlog
    expect(q.stats.packets + q.stats.drops + q.stats.qlen).toBe(4);
  });

  it('defaults its limit to the device txqueuelen', () => {
    const arena = new Arena(8);
    expect(new Fifo('pfifo', 0, createQdiscEnv(arena, seededRandom(1), { txQueueLen: 500 })).limit).toBe(500);
  });

  it('reset frees every queued slot and counts them as purged', () => {
    const arena = new Arena(8);
    const q = new Fifo('pfifo', 0, createQdiscEnv(arena, seededRandom(1)), { limit: 10 });
    for (let i = 0; i < 5; i++) q.enqueue(makePacket(arena), 0);
    q.reset();
    expect(arena.available).toBe(8);
    expect(q.stats.qlen).toBe(0);
    expect(q.stats.dropsByReason[DropReason.Purge]).toBe(5);
  });
});

describe('bfifo', () => {
  it('limits by bytes: a packet that would pass the limit is dropped, a smaller one still fits', () => {
    const arena = new Arena(16);
    const q = new Fifo('bfifo', 0, createQdiscEnv(arena, seededRandom(1)), { limit: 1000 });
    expect(q.enqueue(makePacket(arena, { size: 600 }), 0)).toBe(XMIT_SUCCESS);
    expect(q.enqueue(makePacket(arena, { size: 500 }), 0)).toBe(XMIT_DROP);
    expect(q.enqueue(makePacket(arena, { size: 400 }), 0)).toBe(XMIT_SUCCESS);
    expect(q.stats.backlog).toBe(1000);
  });

  it('defaults to txqueuelen × MTU bytes', () => {
    expect(new Fifo('bfifo', 0, createQdiscEnv(new Arena(4), seededRandom(1), { txQueueLen: 100, mtu: 1500 })).limit).toBe(150000);
  });
});
