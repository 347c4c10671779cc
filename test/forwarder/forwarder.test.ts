import { describe, expect, it } from 'vitest';
import { dropsByReason } from '../../src/control/drops';
import { Forwarder, defaultTree } from '../../src/forwarder/forwarder';
import type { QdiscTree } from '../../src/qdisc/qdisc';
import { MemoryLink } from '../../src/link/memory';
import { Arena } from '../../src/packet/arena';
import { PREP_BAD_HEADER, PREP_BAD_VERSION, PREP_TRUNCATED } from '../../src/packet/prepare';
import { createQdiscEnv } from '../../src/qdisc/env';
import { Fifo } from '../../src/qdisc/fifo';
import { QdiscBase, purgeRing } from '../../src/qdisc/base';
import { XMIT_SUCCESS } from '../../src/qdisc/qdisc';
import { PacketRing } from '../../src/qdisc/ring';
import { ManualClock, type Nanos } from '../../src/time/clock';
import { ManualTimer } from '../../src/time/timer';
import { ip, ipv4Bytes } from '../support/packets';
import { seededRandom } from '../../src/qdisc/env';

const MS = 1_000_000;

/**
 * A throttling qdisc for tests: FIFO that releases at most one packet per `interval` ns, and nothing
 * before `openAt`. When it holds packets it cannot send yet it sets wakeAt, as the Qdisc contract says.
 */
class PacedQdisc extends QdiscBase {
  nextSend: Nanos;
  private readonly ring = new PacketRing(1 << 16);
  private readonly arena: Arena;
  constructor(
    arena: Arena,
    readonly interval: Nanos,
    openAt: Nanos = 0,
  ) {
    super('paced', 0, createQdiscEnv(arena, seededRandom(1)));
    this.arena = arena;
    this.nextSend = openAt;
  }
  enqueue(pkt: number): number {
    this.ring.push(pkt);
    this.stats.qlen++;
    this.stats.backlog += this.arena.len[pkt];
    return XMIT_SUCCESS;
  }
  dequeue(now: Nanos): number {
    if (this.stats.qlen === 0) {
      this.wakeAt = Infinity;
      return -1;
    }
    if (now < this.nextSend) {
      this.wakeAt = this.nextSend;
      return -1;
    }
    const pkt = this.ring.shift();
    this.stats.qlen--;
    this.stats.backlog -= this.arena.len[pkt];
    this.stats.countSent(this.arena.len[pkt]);
    this.nextSend = Math.max(now, this.nextSend) + this.interval;
    this.wakeAt = Infinity;
    return pkt;
  }
  peek(): number {
    return this.ring.peek();
  }
  reset(): void {
    purgeRing(this.ring, this.stats, this.arena);
    this.stats.qlen = 0;
    this.stats.backlog = 0;
  }
}

function setup(
  opts: { slots?: number; tree?: (arena: Arena) => QdiscTree; rxBatch?: number; txBatch?: number; keepWarm?: Nanos; keepWarmWindow?: Nanos } = {},
) {
  const arena = new Arena(opts.slots ?? 256);
  const link = new MemoryLink(arena);
  const clock = new ManualClock(1000 * MS);
  const timer = new ManualTimer();
  const tree = opts.tree ? opts.tree(arena) : defaultTree(createQdiscEnv(arena, seededRandom(1)));
  const fwd = new Forwarder({
    rx: link,
    clock,
    timer,
    tree,
    rxBatch: opts.rxBatch,
    txBatch: opts.txBatch,
    keepWarm: opts.keepWarm,
    keepWarmWindow: opts.keepWarmWindow,
  });
  fwd.start();
  return { arena, link, clock, timer, tree, fwd };
}

/** the UDP source port of a written packet: how the tests tell packets apart */
const sportOf = (p: Uint8Array): number => (p[20] << 8) | p[21];

describe('Forwarder', () => {
  it('forwards through the default pfifo in arrival order and returns every slot', () => {
    const { arena, link, fwd, timer } = setup();
    for (let i = 0; i < 100; i++) link.inject(ipv4Bytes({ sport: 1000 + i, size: 60 + i }));
    link.signal();
    expect(link.written.map(sportOf)).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
    expect(link.written.map((p) => p.length)).toEqual(Array.from({ length: 100 }, (_, i) => 60 + i));
    const bytes = Array.from({ length: 100 }, (_, i) => 60 + i).reduce((a, b) => a + b, 0);
    expect(fwd.counters).toMatchObject({ rxPackets: 100, rxBytes: bytes, txPackets: 100, txBytes: bytes, txErrors: 0 });
    expect(timer.arms).toEqual([]); // a work-conserving fifo never needs the timer
    expect(arena.available).toBe(arena.slotCount);
  });

  it('counts malformed packets by reason, drops them and keeps forwarding the good ones', () => {
    const { arena, link, fwd } = setup();
    const good = ipv4Bytes({ sport: 1 });
    const badVersion = ipv4Bytes({ sport: 2 });
    badVersion[0] = 0x75; // version 7
    const badIhl = ipv4Bytes({ sport: 3 });
    badIhl[0] = 0x44; // IHL 4 words = 16 bytes < 20
    const truncated = ipv4Bytes({ size: 100, sport: 4 }).slice(0, 60); // total length says 100
    const empty = new Uint8Array(0);
    for (const p of [good, badVersion, badIhl, truncated, empty, ipv4Bytes({ sport: 5 })]) link.inject(p);
    expect(() => link.signal()).not.toThrow();
    expect(link.written.map(sportOf)).toEqual([1, 5]);
    expect(fwd.counters.malformed[PREP_BAD_VERSION]).toBe(1);
    expect(fwd.counters.malformed[PREP_BAD_HEADER]).toBe(1);
    expect(fwd.counters.malformed[PREP_TRUNCATED]).toBe(2);
    expect(dropsByReason(fwd)).toEqual({ malformed_truncated: 2, malformed_bad_version: 1, malformed_bad_header: 1 });
    expect(arena.available).toBe(arena.slotCount);
  });

  it('arms the timer at the root wakeAt of a throttled qdisc and sends each packet when due', () => {
    let q!: PacedQdisc;
    const { link, clock, timer, fwd } = setup({ tree: (a) => ({ root: (q = new PacedQdisc(a, 2 * MS)) }) });
    const t0 = clock.now();
    for (let i = 0; i < 3; i++) link.inject(ipv4Bytes({ sport: i }));
    link.signal();
    // the first goes at once; the second may go at t0 + 2ms: that is where the timer must be armed
    expect(link.written.map(sportOf)).toEqual([0]);
    expect(timer.armedAt).toBe(t0 + 2 * MS);
    expect(timer.armedAt).toBe(q.wakeAt);
    clock.set(t0 + 2 * MS);
    expect(timer.runDue(clock.now())).toBe(true);
    expect(link.written.map(sportOf)).toEqual([0, 1]);
    expect(timer.armedAt).toBe(t0 + 4 * MS);
    // a late wake-up still sends (tokens from the actual now), and the queue empties: timer disarmed
    clock.set(t0 + 5 * MS);
    timer.runDue(clock.now());
    expect(link.written.map(sportOf)).toEqual([0, 1, 2]);
    expect(timer.armed).toBe(false);
    expect(fwd.counters.wakeups).toBe(2);
  });

  it('re-arms when the OS timer fires early', () => {
    const { link, clock, timer, fwd } = setup({ tree: (a) => ({ root: new PacedQdisc(a, 2 * MS) }) });
    const t0 = clock.now();
    link.inject(ipv4Bytes({ sport: 0 }));
    link.inject(ipv4Bytes({ sport: 1 }));
    link.signal();
    clock.set(t0 + 1 * MS); // half-way to the deadline
    timer.fire();
    expect(link.written.length).toBe(1);
    expect(timer.armedAt).toBe(t0 + 2 * MS);
    expect(fwd.counters.idleWakeups).toBe(1);
  });

  it('on a wake-up sends every eligible packet at once, in tx batches', () => {
    const { link, clock, timer } = setup({ tree: (a) => ({ root: new PacedQdisc(a, 0, 1010 * MS) }), txBatch: 64 });
    for (let i = 0; i < 100; i++) link.inject(ipv4Bytes({ sport: i }));
    link.signal();
    expect(link.written.length).toBe(0);
    expect(timer.armedAt).toBe(1010 * MS);
    clock.set(1010 * MS);
    timer.runDue(clock.now());
    expect(link.written.map(sportOf)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(link.writeBatches).toEqual([64, 36]);
  });

  it('counts arena exhaustion and gets every slot back', () => {
    const { arena, link, clock, timer, fwd } = setup({ slots: 8, tree: (a) => ({ root: new PacedQdisc(a, 0, 1010 * MS) }) });
    for (let i = 0; i < 12; i++) link.inject(ipv4Bytes({ sport: i }));
    link.signal(); // 8 fit in the arena
    expect(arena.available).toBe(0);
    expect(link.queued).toBe(4);
    link.signal(); // still readable (uv_poll is level-triggered): no slot, so they are read and dropped
    expect(link.queued).toBe(0);
    expect(dropsByReason(fwd)).toEqual({ arena_full: 4 });
    clock.set(1010 * MS);
    timer.runDue(clock.now());
    expect(link.written.map(sportOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(arena.available).toBe(8);
  });

  it('reports the qdisc drops (pfifo tail drop within one read batch)', () => {
    const { arena, link, fwd } = setup({ tree: (a) => ({ root: new Fifo('pfifo', 0, createQdiscEnv(a, seededRandom(1)), { limit: 5 }) }) });
    for (let i = 0; i < 10; i++) link.inject(ipv4Bytes({ sport: i }));
    link.signal();
    expect(link.written.map(sportOf)).toEqual([0, 1, 2, 3, 4]);
    expect(dropsByReason(fwd)).toEqual({ queue_full: 5 });
    expect(arena.available).toBe(arena.slotCount);
  });

  it('counts tx errors and still frees the slots', () => {
    const { arena, link, fwd } = setup();
    link.failWrites(2);
    for (let i = 0; i < 5; i++) link.inject(ipv4Bytes({ sport: i }));
    link.signal();
    expect(link.written.map(sportOf)).toEqual([2, 3, 4]);
    expect(fwd.counters.txPackets).toBe(3);
    expect(dropsByReason(fwd)).toEqual({ tx_error: 2 });
    expect(arena.available).toBe(arena.slotCount);
  });

  it('drops a packet longer than a slot', () => {
    const { arena, link, fwd } = setup();
    link.inject(ipv4Bytes({ size: arena.slotSize + 1 }));
    link.inject(ipv4Bytes({ sport: 9 }));
    link.signal();
    expect(link.written.map(sportOf)).toEqual([9]);
    expect(dropsByReason(fwd)).toEqual({ oversize: 1 });
  });

  it('reads the tree root afresh: a root swapped live is used, kick() sends what it releases', () => {
    const { arena, link, clock, tree, fwd } = setup({ tree: (a) => ({ root: new PacedQdisc(a, 0, 2000 * MS) }) });
    link.inject(ipv4Bytes({ sport: 1 }));
    link.signal();
    expect(link.written.length).toBe(0);
    // the tc layer replaces the root with a fifo, moving nothing (Linux purges the old qdisc)
    const old = tree.root;
    tree.root = new Fifo('pfifo', 0x10000, createQdiscEnv(arena, seededRandom(1)));
    old.reset();
    link.inject(ipv4Bytes({ sport: 2 }));
    link.signal();
    expect(link.written.map(sportOf)).toEqual([2]);
    // kick: a throttled root whose gate opens by configuration, not by time
    const paced = new PacedQdisc(arena, 0, 3000 * MS);
    tree.root = paced;
    link.inject(ipv4Bytes({ sport: 3 }));
    link.signal();
    expect(link.written.length).toBe(1);
    paced.nextSend = clock.now();
    fwd.kick();
    expect(link.written.map(sportOf)).toEqual([2, 3]);
    expect(arena.available).toBe(arena.slotCount);
  });

  it('stop() closes the link and the timer and purges what is queued: no slot leaks', () => {
    const { arena, link, timer, fwd } = setup({ tree: (a) => ({ root: new PacedQdisc(a, 0, 5000 * MS) }) });
    for (let i = 0; i < 20; i++) link.inject(ipv4Bytes({ sport: i, dst: ip(10, 9, 9, 9) }));
    link.signal();
    expect(arena.available).toBe(arena.slotCount - 20);
    fwd.stop();
    expect(link.closed).toBe(true);
    expect(timer.closed).toBe(true);
    expect(arena.available).toBe(arena.slotCount);
    expect(dropsByReason(fwd)).toEqual({ purge: 20 });
  });

  it('yields to the event loop after maxReadBatches and continues on the next readable event', () => {
    const { link } = setup({ rxBatch: 4 });
    for (let i = 0; i < 100; i++) link.inject(ipv4Bytes({ sport: i }));
    link.signal(); // 16 batches of 4
    expect(link.written.length).toBe(64);
    link.signal();
    expect(link.written.length).toBe(100);
  });
});

describe('Forwarder keep-warm', () => {
  /** advances the manual clock in `step` ns increments up to `until`, firing the timer when due */
  function runUntil(clock: ManualClock, timer: ManualTimer, until: Nanos, step: Nanos, each?: () => void): void {
    while (clock.now() + step <= until) {
      clock.set(clock.now() + step);
      timer.runDue(clock.now());
      if (each) each();
    }
  }

  it('ticks every keepWarm while traffic is recent, armed once, and stops after the window', () => {
    const { link, clock, timer, fwd } = setup({ keepWarm: 1 * MS, keepWarmWindow: 10 * MS });
    const t0 = clock.now();
    link.inject(ipv4Bytes({ sport: 1 }));
    link.signal();
    expect(link.written.map(sportOf)).toEqual([1]); // forwarding itself is unchanged: sent at once
    expect(timer.armedAt).toBe(t0 + 1 * MS);
    expect(timer.period).toBe(1 * MS);
    runUntil(clock, timer, t0 + 30 * MS, 0.25 * MS);
    // ticks at t0+1..t0+10 ms; the one at +10 ms finds the link quiet for the whole window and disarms
    expect(fwd.counters.warmTicks).toBe(10);
    expect(timer.armed).toBe(false);
    expect(timer.arms).toEqual([t0 + 1 * MS]); // one timerfd_settime for the whole episode
    expect(fwd.counters.wakeups).toBe(0); // ticks are not counted as tree wake-ups
  });

  it('a tick reads the link: a packet whose readable event was not delivered still goes, and extends the window', () => {
    const { link, clock, timer, fwd } = setup({ keepWarm: 1 * MS, keepWarmWindow: 10 * MS });
    const t0 = clock.now();
    link.inject(ipv4Bytes({ sport: 1 }));
    link.signal();
    clock.set(t0 + 0.5 * MS);
    link.inject(ipv4Bytes({ sport: 2 })); // no signal(): only the tick at t0+1ms can find it
    runUntil(clock, timer, t0 + 1 * MS, 0.5 * MS);
    expect(link.written.map(sportOf)).toEqual([1, 2]);
    runUntil(clock, timer, t0 + 30 * MS, 0.5 * MS);
    // the packet read at t0+1ms moved the window's start: ticks at t0+1..t0+11 ms
    expect(fwd.counters.warmTicks).toBe(11);
    expect(timer.armed).toBe(false);
    expect(fwd.counters.rxPackets).toBe(2);
  });

  it('does not delay a throttled tree: each packet still leaves at its wakeAt, to the nanosecond', () => {
    const { link, clock, timer, fwd } = setup({ keepWarm: 1 * MS, keepWarmWindow: 100 * MS, tree: (a) => ({ root: new PacedQdisc(a, 2.5 * MS) }) });
    const t0 = clock.now();
    for (let i = 0; i < 4; i++) link.inject(ipv4Bytes({ sport: i }));
    link.signal();
    const sentAt: Nanos[] = [t0];
    let seen = 1;
    runUntil(clock, timer, t0 + 20 * MS, 0.1 * MS, () => {
      while (link.written.length > seen) {
        seen++;
        sentAt.push(clock.now());
      }
    });
    expect(link.written.map(sportOf)).toEqual([0, 1, 2, 3]);
    // step is 0.1 ms; compare in whole 0.1 ms units (the manual clock sums floats)
    expect(sentAt.map((t) => Math.round((t - t0) / (0.1 * MS)))).toEqual([0, 25, 50, 75]);
    // the tree's deadlines were armed exactly (one-shot), the ticks in between are periodic
    expect(timer.arms.filter((at) => Math.round((at - t0) / (0.1 * MS)) % 25 === 0 && at > t0).length).toBe(3);
    expect(fwd.counters.wakeups).toBe(3);
    expect(fwd.counters.warmTicks).toBeGreaterThan(0);
  });

  it('keepWarm 0 (the default) never arms the timer for an empty tree', () => {
    const { link, clock, timer, fwd } = setup();
    link.inject(ipv4Bytes({ sport: 1 }));
    link.signal();
    runUntil(clock, timer, clock.now() + 5 * MS, 1 * MS);
    expect(timer.arms).toEqual([]);
    expect(fwd.counters.warmTicks).toBe(0);
  });

  it('rejects a negative keepWarm', () => {
    const arena = new Arena(8);
    const link = new MemoryLink(arena);
    const tree = defaultTree(createQdiscEnv(arena, seededRandom(1)));
    expect(() => new Forwarder({ rx: link, clock: new ManualClock(0), timer: new ManualTimer(), tree, keepWarm: -1 })).toThrow(/keepWarm/);
  });
});

