import { describe, expect, it } from 'vitest';
import { CLS_NOMATCH, CLS_SHOT, type Classifier } from '../../src/classify/classifier';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv, seededRandom } from '../../src/qdisc/env';
import { Fifo } from '../../src/qdisc/fifo';
import { HTB_CAN_SEND, HTB_CANT_SEND, HTB_MAY_BORROW, Htb, burstToBuffer, defaultBurst } from '../../src/qdisc/htb';
import { type QdiscEnv, TC_H_ROOT, XMIT_DROP, XMIT_SUCCESS, tcHandle } from '../../src/qdisc/qdisc';
import { DropReason } from '../../src/qdisc/stats';
import { kbit, mbit, simulate } from './htb-sim';

const H = tcHandle(1, 0);
const C = (minor: number): number => tcHandle(1, minor);

function make(opts: { defcls?: number; r2q?: number; directQlen?: number; slots?: number; env?: Partial<QdiscEnv> } = {}) {
  const arena = new Arena(opts.slots ?? 4096, 2048);
  const warnings: string[] = [];
  const env = createQdiscEnv(arena, seededRandom(1), { warn: (m) => warnings.push(m), ...opts.env });
  const q = new Htb(H, env, { defcls: opts.defcls, r2q: opts.r2q, directQlen: opts.directQlen });
  return { arena, env, q, warnings };
}

/** a packet of `size` bytes aimed at `classid` through skb->priority (htb_classify's first step) */
function pkt(arena: Arena, size: number, priority = 0): number {
  const id = arena.alloc();
  arena.len[id] = size;
  arena.priority[id] = priority;
  return id;
}

const within = (actual: number, expected: number, tolerance: number): void => {
  expect(Math.abs(actual - expected) / expected).toBeLessThan(tolerance);
};

describe('htb: defaults (D2 and the default burst)', () => {
  it('ceil defaults to rate; quantum = rate/r2q clamped with the kernel warning', () => {
    const { q, warnings } = make();
    const a = q.addClass(C(1), H, { rate: mbit(100) }); // 12.5 MB/s / 10 = 1.25 MB → 200000
    const b = q.addClass(C(2), H, { rate: kbit(64) }); // 8000 B/s / 10 = 800 → 1000
    const c = q.addClass(C(3), H, { rate: mbit(10) }); // 125000, inside the range
    const d = q.addClass(C(4), H, { rate: mbit(100), quantum: 1514 });
    expect(a.ceil).toBe(a.rate);
    expect([a.quantum, b.quantum, c.quantum, d.quantum]).toEqual([200000, 1000, 125000, 1514]);
    expect(warnings).toEqual([
      'quantum of class 1:1 is big. Consider r2q change.',
      'quantum of class 1:2 is small. Consider r2q change.',
    ]);
  });

  it('default burst holds a late wake-up: rate × timerSlack + mtu, never below tc’s 1600 bytes', () => {
    const env = createQdiscEnv(new Arena(4), seededRandom(1), { timerSlack: 1e6 });
    expect(defaultBurst(mbit(1), env)).toBe(1600 + 125); // 1 ms at 1 Mbit = 125 bytes
    expect(defaultBurst(mbit(100), env)).toBe(1600 + 12500);
    expect(defaultBurst(mbit(100), createQdiscEnv(new Arena(4), seededRandom(1), { timerSlack: 0 }))).toBe(1600);
    const { q } = make();
    const cl = q.addClass(C(1), H, { rate: mbit(100) });
    expect(cl.buffer).toBe(burstToBuffer(mbit(100), 14100));
    expect(cl.tokens).toBe(cl.buffer); // classes start full
  });

  it('tc’s burst → time conversion truncates twice (1600 bytes at 6 Mbit → 33328 ticks)', () => {
    expect(burstToBuffer(mbit(6), 1600)).toBe(33328 * 64);
    expect(burstToBuffer(mbit(5), 15 * 1024)).toBe(384000 * 64);
  });

  it('refuses a tree deeper than 8 levels, like the kernel', () => {
    const { q } = make();
    q.addClass(C(1), H, { rate: mbit(1) });
    let parent = C(1);
    for (let i = 2; i <= 7; i++) {
      q.addClass(C(i), parent, { rate: mbit(1) });
      parent = C(i);
    }
    // levels are now 7..2 for 1:1..1:6, and 1:7 is a leaf. The kernel's rule: a new class's grandparent
    // must be at level >= 2, so 1:7 may still get a child (1:7 → level 1), but that child may not.
    q.addClass(C(8), C(7), { rate: mbit(1) });
    expect(q.getClass(C(7))?.level).toBe(1);
    expect(() => q.addClass(C(9), C(8), { rate: mbit(1) })).toThrow(/too deep/);
  });
});

describe('htb: rates, borrowing and sharing (simulated, saturated sources)', () => {
  it('a class gets its guaranteed rate', () => {
    const { q, arena } = make();
    q.addClass(C(1), H, { rate: mbit(10) });
    q.addClass(C(10), C(1), { rate: mbit(2) });
    const r = simulate(q, arena, [{ priority: C(10), size: 1000 }], { duration: 6e9 });
    within(r.rates[0], mbit(2), 0.005);
  });

  it('borrows up to its ceil when the parent has spare, and never exceeds ceil over any window', () => {
    const { q, arena } = make();
    q.addClass(C(1), H, { rate: mbit(6), buffer: burstToBuffer(mbit(6), 15360) });
    const cl = q.addClass(C(10), C(1), { rate: mbit(1), ceil: mbit(4), cbuffer: burstToBuffer(mbit(4), 3000) });
    const r = simulate(q, arena, [{ priority: C(10), size: 1500 }], { duration: 6e9, window: 10e6 });
    within(r.rates[0], mbit(4), 0.005);
    // A window of 10 ms is longer than cburst/ceil (3000 B at 500 kB/s = 6 ms): at most ceil × window
    // plus the bucket plus one packet (a packet may start with the bucket just above zero).
    const cap = mbit(4) * 0.01 + 3000 + 1500;
    for (const w of r.windows[0].slice(1, -1)) expect(w).toBeLessThanOrEqual(cap);
    expect(cl.borrows).toBeGreaterThan(0);
  });

  it('excess bandwidth goes to the lower prio first', () => {
    const { q, arena } = make();
    q.addClass(C(1), H, { rate: mbit(10) });
    q.addClass(C(10), C(1), { rate: mbit(2), ceil: mbit(10), prio: 0 });
    q.addClass(C(20), C(1), { rate: mbit(2), ceil: mbit(10), prio: 1 });
    const r = simulate(
      q,
      arena,
      [
        { priority: C(10), size: 1500 },
        { priority: C(20), size: 1500 },
      ],
      { duration: 6e9 },
    );
    within(r.rates[0], mbit(8), 0.01); // its own 2 plus all 6 of the excess
    within(r.rates[1], mbit(2), 0.01); // only its guarantee
  });

  it('at equal prio the excess is shared by quantum (DRR ratio)', () => {
    const { q, arena } = make();
    q.addClass(C(1), H, { rate: mbit(10) });
    q.addClass(C(10), C(1), { rate: mbit(2), ceil: mbit(10), quantum: 3000 });
    q.addClass(C(20), C(1), { rate: mbit(2), ceil: mbit(10), quantum: 1500 });
    const r = simulate(
      q,
      arena,
      [
        { priority: C(10), size: 1500 },
        { priority: C(20), size: 1500 },
      ],
      { duration: 6e9 },
    );
    // 6 Mbit of excess split 2:1 (two 1500-byte packets per turn against one)
    within(r.rates[0], mbit(2 + 4), 0.02);
    within(r.rates[1], mbit(2 + 2), 0.02);
    within(r.rates[0] + r.rates[1], mbit(10), 0.005);
  });

  it('3-level tree: a leaf borrows from its inner parent first, and siblings keep their guarantees', () => {
    const { q, arena } = make();
    q.addClass(C(1), H, { rate: mbit(10) });
    const a = q.addClass(C(0xa), C(1), { rate: mbit(6), ceil: mbit(10) });
    q.addClass(C(0xb), C(1), { rate: mbit(4), ceil: mbit(10) });
    const a1 = q.addClass(C(0xa1), C(0xa), { rate: mbit(3), ceil: mbit(10) });
    q.addClass(C(0xa2), C(0xa), { rate: mbit(3), ceil: mbit(10) }); // idle
    q.addClass(C(0xb1), C(0xb), { rate: mbit(4), ceil: mbit(10) });
    expect([q.getClass(C(1))?.level, a.level, a1.level]).toEqual([7, 6, 0]);
    const r = simulate(
      q,
      arena,
      [
        { priority: C(0xa1), size: 1500 },
        { priority: C(0xb1), size: 1500 },
      ],
      { duration: 6e9 },
    );
    within(r.rates[0], mbit(6), 0.01); // 3 of its own + the idle sibling's 3, lent by 1:a
    within(r.rates[1], mbit(4), 0.01);
    expect(a.lends).toBeGreaterThan(0);
    expect(a1.borrows).toBeGreaterThan(0);
  });

  it('S-07 as written: 1:10 5 Mbit, 1:20 3 Mbit (ceil 6), 1:30 1 kbit (ceil 6), default 30, all saturated', () => {
    // The children's rates (5 + 3 + 0.001) exceed the parent's 6 Mbit. HTB guarantees rates, so each
    // leaf sends its own rate and the parent, drained by them, never lends: 1:20 and 1:30 cannot borrow.
    const { q, arena } = make({ defcls: 0x30 });
    const burst = (rate: number) => burstToBuffer(rate, 15360);
    q.addClass(C(1), H, { rate: mbit(6), buffer: burst(mbit(6)) });
    q.addClass(C(0x10), C(1), { rate: mbit(5), buffer: burst(mbit(5)) });
    q.addClass(C(0x20), C(1), { rate: mbit(3), ceil: mbit(6), buffer: burst(mbit(3)) });
    q.addClass(C(0x30), C(1), { rate: kbit(1), ceil: mbit(6), buffer: burst(kbit(1)) });
    const r = simulate(
      q,
      arena,
      [
        { priority: C(0x10), size: 1500 },
        { priority: C(0x20), size: 1500 },
        { priority: 0, size: 1500 }, // unclassified → default 1:30
      ],
      { duration: 11e9 },
    );
    within(r.rates[0], mbit(5), 0.01);
    within(r.rates[1], mbit(3), 0.01);
    expect(r.bytes[2]).toBeLessThanOrEqual(15360 + 125 * 11 + 1500);
    expect(q.getClass(C(1))?.lends).toBe(0);
  });

  it('S-07 with 1:10 idle: 1:20 and 1:30 share the 6 Mbit parent, the excess by quantum', () => {
    const { q, arena } = make({ defcls: 0x30 });
    const burst = (rate: number) => burstToBuffer(rate, 15360);
    q.addClass(C(1), H, { rate: mbit(6), buffer: burst(mbit(6)) });
    q.addClass(C(0x10), C(1), { rate: mbit(5), buffer: burst(mbit(5)) });
    const c20 = q.addClass(C(0x20), C(1), { rate: mbit(3), ceil: mbit(6), buffer: burst(mbit(3)) });
    const c30 = q.addClass(C(0x30), C(1), { rate: kbit(1), ceil: mbit(6), buffer: burst(kbit(1)) });
    expect([c20.quantum, c30.quantum]).toEqual([37500, 1000]);
    const r = simulate(
      q,
      arena,
      [
        { priority: C(0x20), size: 1500 },
        { priority: 0, size: 1500 },
      ],
      { duration: 11e9 },
    );
    within(r.rates[0] + r.rates[1], mbit(6), 0.01);
    // Per DRR turn 1:20 sends 25 packets (37500 / 1500), 1:30 one (a class always sends at least one).
    const excess = mbit(6) - mbit(3) - kbit(1);
    within(r.rates[0], mbit(3) + (excess * 25) / 26, 0.02);
    within(r.rates[1], kbit(1) + excess / 26, 0.1);
  });

  for (const rateMbit of [10, 100]) {
    it(`reaches ${rateMbit} Mbit within 1% when every wake-up is 0..1 ms late (default burst)`, () => {
      const { q, arena } = make({ env: { timerSlack: 1e6 } });
      q.addClass(C(1), H, { rate: mbit(rateMbit) });
      q.addClass(C(10), C(1), { rate: mbit(rateMbit) });
      const rnd = seededRandom(42);
      const r = simulate(q, arena, [{ priority: C(10), size: 1500, keep: 64 }], {
        duration: 11e9,
        lateness: () => rnd() * 1e6,
      });
      within(r.rates[0], mbit(rateMbit), 0.01);
    });
  }

  it('with tc’s 1600-byte default burst the same late timer loses rate at 100 Mbit (why the default differs)', () => {
    const { q, arena } = make({ env: { timerSlack: 1e6 } });
    const b = burstToBuffer(mbit(100), 1600);
    q.addClass(C(1), H, { rate: mbit(100), buffer: b, cbuffer: b });
    q.addClass(C(10), C(1), { rate: mbit(100), buffer: b, cbuffer: b });
    const rnd = seededRandom(42);
    const r = simulate(q, arena, [{ priority: C(10), size: 1500, keep: 64 }], {
      duration: 3e9,
      lateness: () => rnd() * 1e6,
    });
    // a wake-up every ~0.5 ms + 120 µs sends at most ~2 packets: far below 100 Mbit
    expect(r.rates[0]).toBeLessThan(mbit(100) * 0.5);
  });
});

describe('htb: the algorithm step by step', () => {
  it('lends and borrows: own rate counts a lend on the leaf, borrowing a borrow on it and a lend above', () => {
    const { q, arena } = make();
    const cost = (1500 * 1e9) / mbit(1); // one packet's time at 1 Mbit
    const p = q.addClass(C(1), H, { rate: mbit(100) });
    const l = q.addClass(C(10), C(1), { rate: mbit(1), ceil: mbit(100), buffer: cost });
    for (let i = 0; i < 3; i++) q.enqueue(pkt(arena, 1500, C(10)), 0);
    // 1st: tokens = cost → 0, still CAN_SEND (>= 0); 2nd: tokens −cost → MAY_BORROW; 3rd: borrowed at level 7
    for (let i = 0; i < 3; i++) arena.free(q.dequeue(0));
    expect([l.lends, l.borrows, p.lends, p.borrows]).toEqual([2, 1, 1, 0]);
    expect(l.cmode).toBe(HTB_MAY_BORROW);
  });

  it('tokens and ctokens follow the bucket arithmetic exactly', () => {
    const { q, arena } = make();
    const rate = mbit(8); // 1e6 B/s: 1000 ns per byte
    const ceil = mbit(16); // 500 ns per byte
    const cl = q.addClass(C(1), H, { rate, ceil, buffer: 2e6, cbuffer: 1e6 }, 0);
    q.enqueue(pkt(arena, 1000, C(1)), 0);
    arena.free(q.dequeue(0));
    expect(cl.tokens).toBe(2e6 - 1e6);
    expect(cl.ctokens).toBe(1e6 - 0.5e6);
    q.enqueue(pkt(arena, 1500, C(1)), 0.3e6);
    arena.free(q.dequeue(0.3e6)); // 0.3 ms later: +0.3e6 each, then the cost
    expect(cl.tokens).toBe(1e6 + 0.3e6 - 1.5e6);
    expect(cl.ctokens).toBe(0.5e6 + 0.3e6 - 0.75e6);
    expect(cl.cmode).toBe(HTB_MAY_BORROW); // tokens < 0 <= ctokens
    q.enqueue(pkt(arena, 1500, C(1)), 0.3e6);
    expect(q.dequeue(0.3e6)).toBe(-1); // no parent to borrow from
    expect(q.wakeAt).toBe(0.3e6 + 0.2e6); // tokens reach 0 after 0.2 ms
    arena.free(q.dequeue(0.5e6));
    // long idle: capped at the buffer, never more
    q.enqueue(pkt(arena, 1000, C(1)), 100e9);
    arena.free(q.dequeue(100e9));
    expect(cl.tokens).toBe(2e6 - 1e6);
    expect(cl.ctokens).toBe(1e6 - 0.5e6);
  });

  it('over its ceil a class is CANT_SEND, counted as an overlimit, and wakes when ctokens reach 0', () => {
    const { q, arena } = make();
    const cl = q.addClass(C(1), H, { rate: mbit(8), ceil: mbit(8), buffer: 1e6, cbuffer: 1e6 }, 0);
    q.enqueue(pkt(arena, 1500, C(1)), 0);
    q.enqueue(pkt(arena, 1500, C(1)), 0);
    arena.free(q.dequeue(0)); // ctokens 1e6 − 1.5e6 = −0.5e6
    expect(cl.cmode).toBe(HTB_CANT_SEND);
    expect(cl.stats.overlimits).toBe(1);
    expect(q.stats.overlimits).toBe(1);
    expect(q.dequeue(0)).toBe(-1);
    expect(q.wakeAt).toBe(0.5e6);
    expect(q.dequeue(0.5e6 - 1)).toBe(-1);
    const p = q.dequeue(0.5e6);
    expect(p).toBeGreaterThanOrEqual(0);
    arena.free(p);
    expect(q.dequeue(1e6)).toBe(-1);
    expect(q.wakeAt).toBe(Infinity); // empty: no timer
  });

  it('at its own rate, prio 0 is served before prio 1 (strict within a level)', () => {
    const { q, arena } = make();
    q.addClass(C(1), H, { rate: mbit(100) });
    q.addClass(C(0x10), C(1), { rate: mbit(50), prio: 1 });
    q.addClass(C(0x20), C(1), { rate: mbit(50), prio: 0 });
    for (let i = 0; i < 3; i++) q.enqueue(pkt(arena, 100, C(0x10)), 0);
    for (let i = 0; i < 3; i++) q.enqueue(pkt(arena, 100, C(0x20)), 0);
    const order: number[] = [];
    for (let i = 0; i < 6; i++) {
      const id = q.dequeue(0);
      order.push(arena.classid[id]);
      arena.free(id);
    }
    expect(order).toEqual([C(0x20), C(0x20), C(0x20), C(0x10), C(0x10), C(0x10)]);
  });

  it('DRR takes turns in classid order, a quantum per turn', () => {
    const { q, arena } = make();
    q.addClass(C(1), H, { rate: mbit(100) });
    q.addClass(C(0x30), C(1), { rate: mbit(100), quantum: 1000 });
    q.addClass(C(0x10), C(1), { rate: mbit(100), quantum: 2000 });
    for (let i = 0; i < 4; i++) q.enqueue(pkt(arena, 1000, C(0x30)), 0);
    for (let i = 0; i < 4; i++) q.enqueue(pkt(arena, 1000, C(0x10)), 0);
    const order: number[] = [];
    for (let i = 0; i < 8; i++) {
      const id = q.dequeue(0);
      order.push(arena.classid[id] & 0xffff);
      arena.free(id);
    }
    // The row pointer starts past the end, so the first lookup rewinds to the lowest classid (1:10).
    // 1:10: deficit 0 −1000 → −1000 < 0 → +2000, turn passes; 1:30: 0 −1000 → +1000 = 0, turn passes;
    // 1:10: 1000 −1000 = 0, keeps the turn; −1000 → +2000 = 1000, passes; 1:30: 0 → −1000 → 0, passes ...
    expect(order).toEqual([0x10, 0x30, 0x10, 0x10, 0x30, 0x10, 0x30, 0x30]);
  });
});

describe('htb: classification', () => {
  const table = (map: (pkt: number) => number): Classifier => ({ classify: (p) => map(p) });

  it('filters → leaf; inner class → its filters; X:0 → direct; SHOT → dropped; nothing → default', () => {
    const { q, arena } = make({ defcls: 0x30 });
    q.addClass(C(1), H, { rate: mbit(10) });
    const inner = q.addClass(C(2), C(1), { rate: mbit(5) });
    q.addClass(C(0x20), C(2), { rate: mbit(5) });
    const c30 = q.addClass(C(0x30), C(1), { rate: mbit(5) });
    // the qdisc's filters look at the packet size to decide
    q.filters = table((p) => ({ 100: C(2), 200: H, 300: CLS_SHOT, 400: CLS_NOMATCH, 500: C(0x77) })[arena.len[p]] ?? CLS_NOMATCH);
    inner.filters = table(() => C(0x20));
    expect(q.enqueue(pkt(arena, 100), 0)).toBe(XMIT_SUCCESS);
    expect(q.getClass(C(0x20))?.stats.qlen).toBe(1);
    expect(q.enqueue(pkt(arena, 200), 0)).toBe(XMIT_SUCCESS);
    expect(q.directPackets).toBe(1);
    expect(q.enqueue(pkt(arena, 300), 0)).toBe(XMIT_DROP);
    expect(q.stats.dropsByReason[DropReason.Police]).toBe(1);
    expect(q.enqueue(pkt(arena, 400), 0)).toBe(XMIT_SUCCESS);
    expect(q.enqueue(pkt(arena, 500), 0)).toBe(XMIT_SUCCESS); // unknown class → default
    expect(c30.stats.qlen).toBe(2);
    // the direct packet leaves first, unshaped
    const first = q.dequeue(0);
    expect(arena.len[first]).toBe(200);
  });

  it('a filter loop through inner classes is dropped after 8 hops', () => {
    const { q, arena } = make();
    q.addClass(C(1), H, { rate: mbit(10) });
    const a = q.addClass(C(2), C(1), { rate: mbit(5) });
    q.addClass(C(3), C(2), { rate: mbit(5) });
    q.filters = { classify: () => C(2) };
    a.filters = { classify: () => C(2) };
    expect(q.enqueue(pkt(arena, 100), 0)).toBe(XMIT_DROP);
    expect(q.stats.dropsByReason[DropReason.Classify]).toBe(1);
    expect(arena.available).toBe(arena.slotCount);
  });

  it('no default (or a default that is not a leaf) → the direct queue, counted and limited', () => {
    const { q, arena } = make({ defcls: 0x1, directQlen: 2 });
    q.addClass(C(1), H, { rate: mbit(1) });
    q.addClass(C(0x10), C(1), { rate: mbit(1) }); // 1:1 is now inner: not a valid default
    expect([0, 1, 2].map(() => q.enqueue(pkt(arena, 100), 0))).toEqual([XMIT_SUCCESS, XMIT_SUCCESS, XMIT_DROP]);
    expect(q.directPackets).toBe(2);
    expect(q.stats.drops).toBe(1);
    arena.free(q.dequeue(0));
    arena.free(q.dequeue(0));
    expect(q.stats.packets).toBe(2);
  });
});

describe('htb: counters, changes and deletion', () => {
  it('offered = sent + dropped + backlog, and no arena slot leaks (random traffic, small leaves)', () => {
    const { q, arena } = make({ defcls: 0x30 });
    const rnd = seededRandom(7);
    q.addClass(C(1), H, { rate: mbit(10) });
    q.addClass(C(0x10), C(1), { rate: mbit(3), ceil: mbit(10) });
    q.addClass(C(0x20), C(1), { rate: mbit(3), ceil: mbit(8), prio: 1 });
    q.addClass(C(0x30), C(1), { rate: mbit(1), ceil: mbit(2) });
    q.graft(C(0x10), new Fifo('pfifo', 0, createQdiscEnv(arena, seededRandom(1)), { limit: 5 }));
    q.graft(C(0x20), new Fifo('bfifo', 0, createQdiscEnv(arena, seededRandom(1)), { limit: 6000 }));
    const targets = [C(0x10), C(0x20), 0, H];
    let offered = 0;
    let now = 0;
    let sentBytes = 0;
    for (let step = 0; step < 20000; step++) {
      now += rnd() * 200e3;
      const burst = Math.floor(rnd() * 4);
      for (let i = 0; i < burst; i++) {
        q.enqueue(pkt(arena, 64 + Math.floor(rnd() * 1437), targets[Math.floor(rnd() * 4)]), now);
        offered++;
      }
      const id = q.dequeue(now);
      if (id >= 0) {
        sentBytes += arena.len[id];
        arena.free(id);
      }
      expect(q.stats.packets + q.stats.drops + q.stats.qlen).toBe(offered);
    }
    expect(q.stats.drops).toBeGreaterThan(0);
    expect(q.stats.bytes).toBe(sentBytes);
    const leafSum = q.classes().reduce((s, c) => s + (c.leaf ? c.leaf.stats.qlen : 0), 0);
    expect(q.stats.qlen).toBe(leafSum);
    // drain completely
    for (let guard = 0; q.stats.qlen > 0 && guard < 1e6; guard++) {
      const id = q.dequeue(now);
      if (id >= 0) arena.free(id);
      else now = q.wakeAt;
    }
    expect(q.stats.qlen).toBe(0);
    expect(q.stats.backlog).toBe(0);
    expect(arena.available).toBe(arena.slotCount);
  });

  it('changeClass keeps queued packets and tokens; rate and quantum are recomputed', () => {
    const { q, arena } = make();
    const cl = q.addClass(C(1), H, { rate: mbit(1) });
    for (let i = 0; i < 5; i++) q.enqueue(pkt(arena, 500, C(1)), 0);
    const tokens = cl.tokens;
    q.changeClass(C(1), { rate: mbit(20), ceil: mbit(40) });
    expect(cl.stats.qlen).toBe(5);
    expect(cl.tokens).toBe(tokens);
    expect(cl.quantum).toBe(200000 > mbit(20) / 10 ? mbit(20) / 10 : 200000);
    expect(cl.ceil).toBe(mbit(40));
    let n = 0;
    for (let id = q.dequeue(0); id >= 0; id = q.dequeue(0)) {
      arena.free(id);
      n++;
    }
    expect(n).toBe(5);
  });

  it('deleteClass purges the leaf and counts it; refuses a class with children', () => {
    const { q, arena } = make();
    q.addClass(C(1), H, { rate: mbit(1) });
    q.addClass(C(0x10), C(1), { rate: mbit(1) });
    q.addClass(C(0x20), C(1), { rate: mbit(1) });
    for (let i = 0; i < 4; i++) q.enqueue(pkt(arena, 100, C(0x10)), 0);
    q.enqueue(pkt(arena, 100, C(0x20)), 0);
    expect(() => q.deleteClass(C(1))).toThrow(/in use/);
    q.deleteClass(C(0x10));
    expect(q.stats.qlen).toBe(1);
    expect(q.stats.backlog).toBe(100);
    expect(q.stats.dropsByReason[DropReason.Purge]).toBe(4);
    expect(arena.available).toBe(arena.slotCount - 1);
    expect(q.getClass(C(0x10))).toBeUndefined();
    // the remaining packet still flows
    arena.free(q.dequeue(0));
    q.deleteClass(C(0x20));
    // the last child gone, 1:1 is a leaf again with a fresh pfifo and full buckets
    const p = q.getClass(C(1));
    expect(p?.level).toBe(0);
    expect(p?.leaf).not.toBeNull();
    expect(p?.tokens).toBe(p?.buffer);
    expect(q.enqueue(pkt(arena, 100, C(1)), 0)).toBe(XMIT_SUCCESS);
  });

  it('a leaf that gets a child becomes inner: its packets are purged', () => {
    const { q, arena } = make();
    q.addClass(C(1), H, { rate: mbit(1) });
    for (let i = 0; i < 3; i++) q.enqueue(pkt(arena, 100, C(1)), 0);
    q.addClass(C(0x10), C(1), { rate: mbit(1) });
    expect(q.getClass(C(1))?.leaf).toBeNull();
    expect(q.stats.qlen).toBe(0);
    expect(q.stats.drops).toBe(3);
    expect(arena.available).toBe(arena.slotCount);
    expect(q.dequeue(0)).toBe(-1);
  });

  it('graft replaces the leaf (old purged and reported); a leaf drop outside enqueue is reported up', () => {
    const { q, arena, env } = make();
    q.addClass(C(1), H, { rate: mbit(1) });
    for (let i = 0; i < 3; i++) q.enqueue(pkt(arena, 100, C(1)), 0);
    const f = new Fifo('pfifo', tcHandle(10, 0), env, { limit: 10 });
    const old = q.graft(C(1), f);
    expect(old?.owner).toBeNull();
    expect(q.stats.qlen).toBe(0);
    expect(f.owner).toBe(q);
    expect(f.parent).toBe(C(1));
    q.enqueue(pkt(arena, 100, C(1)), 0);
    q.enqueue(pkt(arena, 100, C(1)), 0);
    f.reset(); // e.g. `tc qdisc change` dropping: reported through childReduced
    expect(q.stats.qlen).toBe(0);
    expect(q.stats.backlog).toBe(0);
    expect(q.stats.drops).toBe(5);
    expect(q.dequeue(0)).toBe(-1);
    expect(q.wakeAt).toBe(Infinity);
  });

  it('peek returns what dequeue will return, and reset purges everything', () => {
    const { q, arena } = make({ defcls: 0x10 });
    q.addClass(C(0x10), TC_H_ROOT, { rate: mbit(1) });
    q.enqueue(pkt(arena, 100), 0);
    q.enqueue(pkt(arena, 100), 0);
    const p = q.peek(0);
    expect(q.stats.qlen).toBe(2);
    expect(q.dequeue(0)).toBe(p);
    arena.free(p);
    q.peek(0);
    q.reset();
    expect(q.stats.qlen).toBe(0);
    expect(arena.available).toBe(arena.slotCount);
    expect(q.getClass(C(0x10))?.cmode).toBe(HTB_CAN_SEND);
  });

  it('classes() walks in the kernel’s class-hash order', () => {
    const { q } = make();
    for (const m of [1, 0x10, 0x20, 0x30]) q.addClass(C(m), m === 1 ? H : C(1), { rate: mbit(1) });
    expect(q.classes().map((c) => c.classid & 0xffff)).toEqual([1, 0x10, 0x20, 0x30]);
  });
});
