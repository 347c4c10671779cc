/**
 * HTB enqueue+dequeue throughput against pfifo, the cheapest discipline (the reference).
 *
 * Each task enqueues a batch of 256 packets spread round-robin over the leaf classes and dequeues
 * them all; the figure is enqueue+dequeue pairs per second. Classification is HTB's direct class
 * selection by skb->priority (arena.priority = the leaf's classid, precomputed), so no filter runs.
 * Rates are far above what the CPU can push (10 Gbit per leaf, 10 Tbit at the root) and the clock
 * advances 1 µs per batch, so the buckets never run dry: this measures CPU, not shaping.
 *
 * A fourth task gives the leaves a tiny rate so that they borrow: packets then come through the
 * parent's feeds (htb_lookup_leaf) and every dequeue changes modes and touches the wait queue.
 *
 * Run: npx tsx bench/htb.ts        Target: ≥ 1,000,000 pairs/s with 1,000 leaf classes.
 */
import { Bench } from 'tinybench';
import { Arena } from '../src/packet/arena';
import { createQdiscEnv } from '../src/qdisc/env';
import { Fifo } from '../src/qdisc/fifo';
import { Htb } from '../src/qdisc/htb';
import { type Qdisc, tcHandle } from '../src/qdisc/qdisc';
import { seededRandom } from '../src/qdisc/env';

const BATCH = 256;
const arena = new Arena(4096, 2048);

function batchFor(classids: number[]): Int32Array {
  const ids = new Int32Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    const id = arena.alloc();
    arena.len[id] = 1000;
    arena.priority[id] = classids[i % classids.length];
    ids[i] = id;
  }
  return ids;
}

/** `borrow`: leaves guaranteed 8 kbit only, so nearly every packet is borrowed from the root (feeds, level 7) */
function htbWith(leaves: number, borrow = false): { q: Htb; classids: number[] } {
  const env = createQdiscEnv(arena, seededRandom(1));
  const q = new Htb(tcHandle(1, 0), env);
  const gbit = (x: number): number => (x * 1e9) / 8;
  q.addClass(tcHandle(1, 1), q.handle, { rate: gbit(10000), quantum: 1500 });
  const classids: number[] = [];
  for (let i = 0; i < leaves; i++) {
    const classid = tcHandle(1, 0x100 + i);
    q.addClass(classid, tcHandle(1, 1), { rate: borrow ? 1000 : gbit(10), ceil: gbit(10000), quantum: 1500, prio: i % 8 });
    classids.push(classid);
  }
  return { q, classids };
}

function pump(q: Qdisc, ids: Int32Array, clock: { now: number }): void {
  const now = (clock.now += 1000);
  for (let i = 0; i < ids.length; i++) q.enqueue(ids[i], now);
  for (let i = 0; i < ids.length; i++) {
    const id = q.dequeue(now);
    if (id < 0) throw new Error(`${q.kind} throttled in a CPU benchmark (wakeAt ${q.wakeAt})`);
  }
}

const fifo = new Fifo('pfifo', tcHandle(1, 0), createQdiscEnv(arena, seededRandom(1)), { limit: 10000 });
const fifoIds = batchFor([0]);
const h10 = htbWith(10);
const h10Ids = batchFor(h10.classids);
const h1000 = htbWith(1000);
const h1000Ids = batchFor(h1000.classids);
const hb = htbWith(1000, true);
const hbIds = batchFor(hb.classids);
const clocks = { fifo: { now: 0 }, h10: { now: 0 }, h1000: { now: 0 }, hb: { now: 0 } };

const bench = new Bench({ time: 1500, warmupTime: 300 });
bench
  .add('pfifo (reference)', () => pump(fifo, fifoIds, clocks.fifo))
  .add('htb, 10 leaf classes', () => pump(h10.q, h10Ids, clocks.h10))
  .add('htb, 1000 leaf classes', () => pump(h1000.q, h1000Ids, clocks.h1000))
  .add('htb, 1000 leaves borrowing', () => pump(hb.q, hbIds, clocks.hb));

await bench.run();

const rows = bench.tasks.map((t) => {
  const r = t.result as { latency?: { mean: number } } | undefined;
  const meanMs = r?.latency?.mean ?? NaN;
  return { name: t.name, pairsPerSec: (BATCH / meanMs) * 1000 };
});
const ref = rows[0].pairsPerSec;
console.log('\nHTB enqueue+dequeue throughput (batch of 256, 1000-byte packets)');
console.table(
  rows.map((r) => ({
    task: r.name,
    'pairs/s': Math.round(r.pairsPerSec).toLocaleString('en-US'),
    'vs pfifo': `${(r.pairsPerSec / ref).toFixed(2)}x`,
  })),
);
const target = rows[2].pairsPerSec;
console.log(`1000 classes: ${Math.round(target).toLocaleString('en-US')} pairs/s — target 1,000,000/s ${target >= 1e6 ? 'met' : 'NOT met'}`);
