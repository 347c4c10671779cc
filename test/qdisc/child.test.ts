import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { QdiscBase, purgeRing, qdiscDrop } from '../../src/qdisc/base';
import { absorbChildDrops, attachChild, dequeueChild, detachChild, enqueueChild, graftChild } from '../../src/qdisc/child';
import { createQdiscEnv, seededRandom } from '../../src/qdisc/env';
import { Fifo } from '../../src/qdisc/fifo';
import { type QdiscEnv, XMIT_CN, XMIT_DROP, XMIT_SUCCESS } from '../../src/qdisc/qdisc';
import { PacketRing } from '../../src/qdisc/ring';
import { DROP_REASON_NAMES, DropReason, type DropReasonCode, QdiscStats } from '../../src/qdisc/stats';
import { makePacket } from '../support/packets';

/**
 * A leaf that, once it holds `room` packets, makes room by dropping its OLDEST packet for `reason`
 * (as SFQ drops from its longest flow): the offered packet stays, so qlen does not move while
 * backlog does. Built on QdiscBase, so it is its algorithm and nothing else.
 */
class DropOldest extends QdiscBase {
  private readonly ring = new PacketRing(64);
  private readonly room: number;
  private readonly reason: DropReasonCode;
  constructor(env: QdiscEnv, room: number, reason: DropReasonCode) {
    super('dropoldest', 0, env);
    this.room = room;
    this.reason = reason;
  }
  enqueue(pkt: number, _now: number): number {
    const arena = this.env.arena;
    let ret = XMIT_SUCCESS;
    if (this.stats.qlen >= this.room) {
      const old = this.ring.shift();
      this.stats.qlen--;
      this.stats.backlog -= arena.len[old];
      qdiscDrop(this.stats, arena, old, this.reason);
      ret = XMIT_CN;
    }
    this.ring.push(pkt);
    this.stats.countQueued(arena.len[pkt]);
    return ret;
  }
  dequeue(_now: number): number {
    const pkt = this.ring.shift();
    if (pkt >= 0) this.stats.countDequeued(this.env.arena.len[pkt]);
    return pkt;
  }
  peek(_now: number): number {
    return this.ring.peek();
  }
  reset(): void {
    const packets = this.ring.length;
    this.purged(packets, purgeRing(this.ring, this.stats, this.env.arena));
  }
}

/** a parent with one child and nothing else: what child.ts does, seen from above */
class Holder extends QdiscBase {
  readonly seen = new Float64Array(DROP_REASON_NAMES.length);
  child: QdiscBase;
  constructor(env: QdiscEnv, child: QdiscBase) {
    super('holder', 0x10000, env);
    this.child = child;
    attachChild(this, child, 0x10001, this.seen);
  }
  enqueue(pkt: number, now: number): number {
    return enqueueChild(this.stats, this.child, this.seen, pkt, now);
  }
  dequeue(now: number): number {
    const pkt = dequeueChild(this.stats, this.child, now);
    if (pkt >= 0) this.stats.countSent(this.env.arena.len[pkt]);
    return pkt;
  }
  peek(now: number): number {
    return this.child.peek(now);
  }
  reset(): void {
    this.child.reset();
  }
}

function setup(slots = 64): { arena: Arena; env: QdiscEnv } {
  const arena = new Arena(slots);
  return { arena, env: createQdiscEnv(arena, seededRandom(1)) };
}

describe('qdiscDrop and purgeRing', () => {
  it('qdiscDrop counts the reason, frees the slot and answers XMIT_DROP', () => {
    const { arena } = setup();
    const stats = new QdiscStats();
    const id = makePacket(arena);
    expect(qdiscDrop(stats, arena, id, DropReason.TooBig)).toBe(XMIT_DROP);
    expect(arena.isInUse(id)).toBe(false);
    expect([stats.drops, stats.dropsByReason[DropReason.TooBig]]).toEqual([1, 1]);
  });

  it('purgeRing frees every packet as a purge and returns the bytes', () => {
    const { arena } = setup();
    const stats = new QdiscStats();
    const ring = new PacketRing(8);
    for (const size of [100, 200, 300]) ring.push(makePacket(arena, { size }));
    expect(purgeRing(ring, stats, arena)).toBe(600);
    expect(ring.length).toBe(0);
    expect(arena.available).toBe(64);
    expect(stats.dropsByReason[DropReason.Purge]).toBe(3);
    expect(stats.drops).toBe(3);
  });
});

describe('enqueueChild / dequeueChild', () => {
  it('carry the child qlen/backlog difference, not "+1", when the child drops another packet', () => {
    const { arena, env } = setup();
    const h = new Holder(env, new DropOldest(env, 2, DropReason.QueueFull));
    h.enqueue(makePacket(arena, { size: 100 }), 0);
    h.enqueue(makePacket(arena, { size: 200 }), 0);
    expect(h.enqueue(makePacket(arena, { size: 500 }), 0)).toBe(XMIT_CN); // the 100-byte one goes
    expect([h.stats.qlen, h.stats.backlog]).toEqual([2, 700]);
    expect([h.stats.qlen, h.stats.backlog]).toEqual([h.child.stats.qlen, h.child.stats.backlog]);
    const pkt = h.dequeue(0);
    expect(arena.len[pkt]).toBe(200);
    expect([h.stats.qlen, h.stats.backlog, h.stats.packets, h.stats.bytes]).toEqual([1, 500, 1, 200]);
    arena.free(pkt);
  });

  it('carry the child drops reason by reason, each once', () => {
    const { arena, env } = setup();
    const h = new Holder(env, new DropOldest(env, 1, DropReason.RedEarly));
    h.enqueue(makePacket(arena), 0);
    h.enqueue(makePacket(arena), 0);
    h.enqueue(makePacket(arena), 0);
    expect(h.stats.drops).toBe(2);
    expect(h.stats.dropsByReason[DropReason.RedEarly]).toBe(2);
    expect(h.stats.dropsByReason[DropReason.QueueFull]).toBe(0);
    expect(h.seen[DropReason.RedEarly]).toBe(2);
  });

  it('with seen = null the parent leaves the child drops out of its counters', () => {
    const { arena, env } = setup();
    const parent = new QdiscStats();
    const child = new Fifo('pfifo', 0, env, { limit: 1 });
    enqueueChild(parent, child, null, makePacket(arena), 0);
    expect(enqueueChild(parent, child, null, makePacket(arena), 0)).toBe(XMIT_DROP);
    expect(child.stats.drops).toBe(1);
    expect([parent.qlen, parent.drops]).toEqual([1, 0]);
  });

  it('dequeueChild moves nothing when the child has nothing', () => {
    const { env } = setup();
    const parent = new QdiscStats();
    expect(dequeueChild(parent, new Fifo('pfifo', 0, env), 0)).toBe(-1);
    expect([parent.qlen, parent.backlog, parent.packets]).toEqual([0, 0, 0]);
  });

  it('absorbChildDrops returns what it carried and only what is new', () => {
    const parent = new QdiscStats();
    const child = new QdiscStats();
    const seen = new Float64Array(DROP_REASON_NAMES.length);
    child.countDrop(DropReason.Police);
    child.countDrop(DropReason.TooBig);
    expect(absorbChildDrops(parent, child, seen)).toBe(2);
    expect(absorbChildDrops(parent, child, seen)).toBe(0);
    child.countDrop(DropReason.Police);
    expect(absorbChildDrops(parent, child, seen)).toBe(1);
    expect([parent.drops, parent.dropsByReason[DropReason.Police], parent.dropsByReason[DropReason.TooBig]]).toEqual([3, 2, 1]);
  });
});

describe('attach, detach, graft', () => {
  it('graftChild counts a pre-filled child in, purges the old one through childReduced, and carries only later drops', () => {
    const { arena, env } = setup();
    const first = new Fifo('pfifo', 0, env, { limit: 10 });
    const h = new Holder(env, first);
    h.enqueue(makePacket(arena, { size: 100 }), 0);
    // a replacement that already holds two packets and has a drop on its record
    const next = new Fifo('pfifo', 0x20000, env, { limit: 2 });
    next.enqueue(makePacket(arena, { size: 300 }), 0);
    next.enqueue(makePacket(arena, { size: 400 }), 0);
    next.enqueue(makePacket(arena, { size: 500 }), 0); // dropped before the graft
    graftChild(h, h.child, next, 0x10001, h.seen);
    h.child = next;
    expect([h.stats.qlen, h.stats.backlog]).toEqual([2, 700]); // 100 purged, 300 + 400 counted in
    expect(first.stats.dropsByReason[DropReason.Purge]).toBe(1);
    expect([first.owner, next.owner, next.parent]).toEqual([null, h, 0x10001]);
    expect(h.stats.drops).toBe(0); // next's earlier drop is not ours
    h.enqueue(makePacket(arena), 0); // next is full: this drop is
    expect(h.stats.dropsByReason[DropReason.QueueFull]).toBe(1);
    expect(h.stats.drops).toBe(1);
  });

  it('detachChild without purge: the packets stay in the old child and leave the holder now', () => {
    const { arena, env } = setup();
    const old = new Fifo('pfifo', 0, env);
    const h = new Holder(env, old);
    h.enqueue(makePacket(arena, { size: 100 }), 0);
    detachChild(h, old, false);
    expect([h.stats.qlen, h.stats.backlog]).toEqual([0, 0]);
    expect(old.stats.qlen).toBe(1);
    expect(old.owner).toBeNull();
    old.reset(); // the caller's purge, later: nobody above hears of it
    expect([h.stats.qlen, h.stats.backlog]).toEqual([0, 0]);
    expect(arena.available).toBe(64);
  });

  it('childReduced passes a purge up every level (qdisc_tree_reduce_backlog)', () => {
    const { arena, env } = setup();
    const leaf = new Fifo('pfifo', 0, env);
    const mid = new Holder(env, leaf);
    const top = new Holder(env, mid);
    for (const size of [100, 250]) top.enqueue(makePacket(arena, { size }), 0);
    expect([top.stats.qlen, mid.stats.qlen]).toEqual([2, 2]);
    leaf.reset();
    expect([mid.stats.qlen, mid.stats.backlog, top.stats.qlen, top.stats.backlog]).toEqual([0, 0, 0, 0]);
    expect(leaf.stats.dropsByReason[DropReason.Purge]).toBe(2);
  });
});
