import { describe, expect, it } from 'vitest';
import { MemoryLink } from '../../src/link/memory';
import { Arena } from '../../src/packet/arena';
import { ipv4Bytes } from '../support/packets';

describe('MemoryLink (the Link contract in memory)', () => {
  it('readBatch fills at most max slots with the injected bytes and lengths, in order', () => {
    const arena = new Arena(16);
    const link = new MemoryLink(arena);
    const pkts = [0, 1, 2, 3, 4].map((i) => ipv4Bytes({ sport: i, size: 40 + i }));
    for (const p of pkts) link.inject(p);
    const ids = new Int32Array(8);
    expect(link.readBatch(ids, 3)).toBe(3);
    for (let i = 0; i < 3; i++) expect(Array.from(arena.packet(ids[i]))).toEqual(Array.from(pkts[i]));
    expect(link.readBatch(ids, 8)).toBe(2);
    expect(arena.len[ids[1]]).toBe(44);
    expect(link.readBatch(ids, 8)).toBe(0);
    expect(link.counters).toMatchObject({ rxPackets: 5, rxBytes: 40 + 41 + 42 + 43 + 44 });
  });

  it('readBatch never writes past the ids array', () => {
    const arena = new Arena(16);
    const link = new MemoryLink(arena);
    for (let i = 0; i < 10; i++) link.inject(ipv4Bytes());
    expect(link.readBatch(new Int32Array(4), 100)).toBe(4);
  });

  it('with a full arena, reads a batch and drops it (rxNoSlot) instead of staying readable forever', () => {
    const arena = new Arena(2);
    const link = new MemoryLink(arena);
    for (let i = 0; i < 5; i++) link.inject(ipv4Bytes());
    const ids = new Int32Array(4);
    expect(link.readBatch(ids, 4)).toBe(2);
    expect(link.readBatch(ids, 4)).toBe(0);
    expect(link.counters.rxNoSlot).toBe(3);
    expect(link.queued).toBe(0);
  });

  it('writeBatch frees every slot, sent or failed, and records the bytes', () => {
    const arena = new Arena(8);
    const link = new MemoryLink(arena);
    const ids = new Int32Array(4);
    for (let i = 0; i < 4; i++) ids[i] = arena.allocFrom(ipv4Bytes({ sport: i, size: 50 }));
    link.failWrites(1);
    expect(link.writeBatch(ids, 4)).toBe(3);
    expect(arena.available).toBe(8);
    expect(link.counters).toMatchObject({ txPackets: 3, txBytes: 150, txErrors: 1 });
    expect(link.written.map((p) => (p[20] << 8) | p[21])).toEqual([1, 2, 3]);
  });

  it('signal() calls the readable callback only when packets wait', () => {
    const link = new MemoryLink(new Arena(4));
    let calls = 0;
    link.onReadable(() => calls++);
    link.signal();
    link.inject(ipv4Bytes());
    link.signal();
    link.close();
    link.signal();
    expect(calls).toBe(1);
  });
});
