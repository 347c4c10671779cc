import { describe, expect, it } from 'vitest';
import { CLS_SHOT } from '../../src/classify/classifier';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv } from '../../src/qdisc/env';
import { Fifo } from '../../src/qdisc/fifo';
import { Prio } from '../../src/qdisc/prio';
import { Tbf, type TbfOptions } from '../../src/qdisc/tbf';
import { DropReason } from '../../src/qdisc/stats';
import { makePacket } from '../support/packets';
import { seededRandom } from '../../src/qdisc/env';

// Metrics and the forwarder's summary read the ROOT's drops by reason: a parent must carry each child
// drop up under the child's reason, not relabel it.
describe('drops by reason carried up the tree', () => {
  const tbfOpts = (o: Partial<TbfOptions>): TbfOptions => ({
    rate: 125_000,
    burst: 3000,
    limit: 100_000,
    mpu: 0,
    peakrate: 0,
    mtu: 0,
    overhead: 0,
    linklayer: 1,
    ...o,
  }) as TbfOptions;

  it('PRIO keeps a tail drop as queue_full and a too-big drop of a TBF band as too_big', () => {
    const arena = new Arena(64);
    const env = createQdiscEnv(arena, seededRandom(1));
    const prio = new Prio(0x10000, env);
    prio.graft(0x10001, new Fifo('pfifo', 0x20000, env, { limit: 1 }));
    prio.graft(0x10002, new Tbf(0x30000, env, tbfOpts({ burst: 1000 })));
    // TOS 0x10 (minimise delay) → priority 6 → band 0 (1:1); TOS 0 → band 1 (1:2)
    const interactive = (): number => {
      const id = makePacket(arena, { size: 100, tos: 0x10 });
      arena.priority[id] = 6;
      return id;
    };
    prio.enqueue(interactive(), 0);
    prio.enqueue(interactive(), 0); // pfifo limit 1: tail drop
    prio.enqueue(makePacket(arena, { size: 1400 }), 0); // larger than TBF's 1000-byte bucket
    expect(prio.stats.drops).toBe(2);
    expect(prio.stats.dropsByReason[DropReason.QueueFull]).toBe(1);
    expect(prio.stats.dropsByReason[DropReason.TooBig]).toBe(1);
  });

  it('TBF carries a policer drop of its PRIO child as police', () => {
    const arena = new Arena(64);
    const env = createQdiscEnv(arena, seededRandom(1));
    const tbf = new Tbf(0x10000, env, tbfOpts({}));
    const prio = new Prio(0x20000, env);
    prio.filters = { classify: () => CLS_SHOT };
    tbf.graft(0x10001, prio);
    tbf.enqueue(makePacket(arena), 0);
    tbf.enqueue(makePacket(arena), 0);
    expect(tbf.stats.drops).toBe(2);
    expect(tbf.stats.dropsByReason[DropReason.Police]).toBe(2);
    expect(tbf.stats.dropsByReason[DropReason.QueueFull]).toBe(0);
    expect(arena.available).toBe(64);
  });
});
