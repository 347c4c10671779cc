/**
 * Memory benchmark: does steady-state forwarding allocate? (DESIGN.md, hot-path rule 1)
 *
 * Forwards 1,000,000 packets MemoryLink → Forwarder (prepare, pfifo) → MemoryLink, and beside it runs the
 * reference: the same loop doing nothing but copying each packet into an arena slot and freeing it.
 * For each it prints packets per second, heap used before and after (after a forced GC) and during
 * (before any GC ran), and the GC events observed (scavenges = minor GCs, mark-sweeps = major).
 * Expected: the forwarder's heap is as flat as the copy loop's, with no scavenges that scale with the
 * packet count. The clock is the real MonotonicClock (performance.now(), read once per read batch and
 * per drain); a third column runs the forwarder on a ManualClock to show what the clock adds.
 *
 * Run: npx tsx bench/memory.ts [packets]
 */
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Forwarder } from '../src/forwarder/forwarder';
import { MemoryLink } from '../src/link/memory';
import { Arena } from '../src/packet/arena';
import { createQdiscEnv } from '../src/qdisc/env';
import { Fifo } from '../src/qdisc/fifo';
import { type Clock, ManualClock, MonotonicClock } from '../src/time/clock';
import { ManualTimer } from '../src/time/timer';
import { synthPacket } from '../src/packet/synth';
import { seededRandom } from '../src/qdisc/env';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const ROUND = 1024; // packets injected per readable event (16 read batches of 64)

interface GcCounts {
  minor: number;
  major: number;
  other: number;
  ms: number;
}

const gcEvents: { t: number; kind: number; duration: number }[] = [];
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcEvents.push({ t: e.startTime, kind: ((e as unknown as { detail: { kind: number } }).detail).kind, duration: e.duration });
});
obs.observe({ entryTypes: ['gc'] });

function countGc(from: number, to: number): GcCounts {
  const c: GcCounts = { minor: 0, major: 0, other: 0, ms: 0 };
  for (const e of gcEvents) {
    if (e.t < from || e.t > to) continue;
    if (e.kind === constants.NODE_PERFORMANCE_GC_MINOR) c.minor++;
    else if (e.kind === constants.NODE_PERFORMANCE_GC_MAJOR) c.major++;
    else c.other++;
    c.ms += e.duration;
  }
  return c;
}

/** A few distinct packets, injected by reference over and over. */
const templates = [64, 200, 576, 1500].map((size, i) => synthPacket({ size, sport: 1000 + i, dport: 5201 }));

function forwarderSetup(clock: Clock) {
  const arena = new Arena();
  const rx = new MemoryLink(arena, { record: false, capacity: ROUND });
  const tx = new MemoryLink(arena, { name: 'mem1', record: false });
  const tree = { root: new Fifo('pfifo', 0, createQdiscEnv(arena, seededRandom(1))) };
  const fwd = new Forwarder({ rx, tx, arena, clock, timer: new ManualTimer(), tree });
  fwd.start();
  return { arena, rx, tx, fwd };
}

function runForwarder(s: ReturnType<typeof forwarderSetup>, packets: number): void {
  const { rx } = s;
  let left = packets;
  let t = 0;
  while (left > 0) {
    const n = left < ROUND ? left : ROUND;
    for (let i = 0; i < n; i++) rx.inject(templates[t++ & 3]);
    rx.signal();
    left -= n;
  }
}

/** The reference: the same injection, then only copy each packet into a slot and free it. */
function copySetup() {
  return { arena: new Arena(), ids: new Int32Array(64), rx: new MemoryLink(new Arena(), { record: false, capacity: ROUND }) };
}

function runCopy(s: ReturnType<typeof copySetup>, packets: number): void {
  const { arena, ids } = s;
  let left = packets;
  let t = 0;
  while (left > 0) {
    const n = left < ROUND ? left : ROUND;
    for (let b = 0; b < n; b += 64) {
      const m = n - b < 64 ? n - b : 64;
      for (let i = 0; i < m; i++) {
        const data = templates[t++ & 3];
        const id = arena.alloc();
        arena.bytes.set(data, id * arena.slotSize);
        arena.len[id] = data.length;
        ids[i] = id;
      }
      for (let i = 0; i < m; i++) arena.free(ids[i]);
    }
    left -= n;
  }
}

interface Result {
  name: string;
  pps: number;
  heapBefore: number;
  heapDuring: number;
  heapAfter: number;
  gc: GcCounts;
}

async function measure(name: string, run: (packets: number) => void): Promise<Result> {
  run(100_000); // warm-up: JIT, lazily created objects
  gc();
  await new Promise((r) => setTimeout(r, 50));
  const heapBefore = process.memoryUsage().heapUsed;
  const from = performance.now();
  run(TOTAL);
  const to = performance.now();
  const heapDuring = process.memoryUsage().heapUsed;
  await new Promise((r) => setTimeout(r, 50)); // let the gc observer deliver
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  return { name, pps: TOTAL / ((to - from) / 1000), heapBefore, heapDuring, heapAfter, gc: countGc(from, to) };
}

const kb = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;

const f = forwarderSetup(new MonotonicClock());
const fm = forwarderSetup(new ManualClock(1));
const c = copySetup();
const copy = await measure('copy loop (reference)', (n) => runCopy(c, n));
const fwd = await measure('forwarder + pfifo', (n) => runForwarder(f, n));
const fwdManual = await measure('same, ManualClock', (n) => runForwarder(fm, n));
obs.disconnect();

for (const s of [f, fm]) {
  if (s.fwd.counters.txPackets !== s.fwd.counters.rxPackets || s.arena.available !== s.arena.slotCount) {
    throw new Error(`forwarder lost packets: rx ${s.fwd.counters.rxPackets} tx ${s.fwd.counters.txPackets}, ${s.arena.slotCount - s.arena.available} slots held`);
  }
}

console.log(`${TOTAL.toLocaleString('en')} packets (sizes 64/200/576/1500), Node ${process.version}`);
const rows: [string, (r: Result) => string][] = [
  ['packets/s', (r) => Math.round(r.pps).toLocaleString('en')],
  ['heap used before', (r) => kb(r.heapBefore)],
  ['heap used at end (no GC since start)', (r) => kb(r.heapDuring)],
  ['heap used after, forced GC', (r) => kb(r.heapAfter)],
  ['heap growth during the run', (r) => kb(r.heapDuring - r.heapBefore)],
  ['bytes allocated per packet (upper bound)', (r) => ((r.heapDuring - r.heapBefore) / TOTAL).toFixed(2)],
  ['scavenges (minor GC)', (r) => String(r.gc.minor)],
  ['mark-sweeps (major GC)', (r) => String(r.gc.major)],
  ['other GC events', (r) => String(r.gc.other)],
  ['GC time (ms)', (r) => r.gc.ms.toFixed(1)],
];
const w0 = Math.max(...rows.map(([n]) => n.length));
const cols = [fwd, fwdManual, copy];
console.log(`${''.padEnd(w0)}${cols.map((r) => `  ${r.name.padStart(22)}`).join('')}`);
for (const [n, get] of rows) console.log(`${n.padEnd(w0)}${cols.map((r) => `  ${get(r).padStart(22)}`).join('')}`);
console.log(`forwarder speed: ${((fwd.pps / copy.pps) * 100).toFixed(0)}% of the copy loop`);
console.log('(the MonotonicClock column minus the ManualClock column is what reading the real clock adds: a boxed double per read when not optimised)');
