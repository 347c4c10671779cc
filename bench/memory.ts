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
 * Then every discipline, each tree built through the tc layer as users build it (TcSystem.applyText,
 * random = seededRandom(1)): pfifo, bfifo, pfifo_fast, prio, tbf, red, sfq, and htb with u32 filters
 * (fixed-offset and nexthdr keys) and a police action, with an sfq and a pfifo leaf. These runs use a
 * ManualClock advanced 1 ms per 1,024 packets (about 4.8 Gbit/s offered) and the manual timer fired
 * when due, so the shapers (tbf at 2.5 Gbit/s, htb's classes) really throttle, queue and drop, the
 * same way on every run. Each row is set beside the pfifo row.
 *
 * Run: npx tsx bench/memory.ts [packets] [discipline]   (a name picks one discipline row)
 */
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Forwarder } from '../src/forwarder/forwarder';
import { MemoryLink } from '../src/link/memory';
import { Arena } from '../src/packet/arena';
import { createQdiscEnv } from '../src/qdisc/env';
import { Fifo } from '../src/qdisc/fifo';
import type { QdiscTree } from '../src/qdisc/qdisc';
import { TcSystem } from '../src/tc/system';
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
  const fwd = new Forwarder({ rx, tx, clock, timer: new ManualTimer(), tree });
  fwd.start();
  return { arena, rx, tx, fwd };
}

/** Offers `packets` from `traffic` (a power-of-two count) to `rx`, ROUND per readable event; `tick` runs after each round. */
function offer(rx: MemoryLink, packets: number, traffic: readonly Uint8Array[], tick: (() => void) | null): void {
  const mask = traffic.length - 1;
  let left = packets;
  let t = 0;
  while (left > 0) {
    const n = left < ROUND ? left : ROUND;
    for (let i = 0; i < n; i++) rx.inject(traffic[t++ & mask]);
    rx.signal();
    if (tick !== null) tick();
    left -= n;
  }
}

function runForwarder(s: ReturnType<typeof forwarderSetup>, packets: number): void {
  offer(s.rx, packets, templates, null);
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

/** Mixed traffic for the disciplines: 16 flows, UDP and TCP, four sizes, four TOS values, ports the filters know. */
const mixed = Array.from({ length: 16 }, (_, i) =>
  synthPacket({
    proto: i % 3 === 0 ? 6 : 17,
    size: [64, 200, 576, 1500][i & 3],
    tos: [0x00, 0x10, 0x08, 0xb8][(i >> 2) & 3],
    sport: 10_000 + i,
    dport: [22, 5201, 443, 80][(i >> 1) & 3],
  }),
);

const DISCIPLINES: { name: string; tc: string }[] = [
  { name: 'pfifo', tc: 'qdisc add dev tq0 root handle 1: pfifo limit 1000' },
  { name: 'bfifo', tc: 'qdisc add dev tq0 root handle 1: bfifo limit 600kb' },
  { name: 'pfifo_fast', tc: 'qdisc add dev tq0 root handle 1: pfifo_fast' },
  { name: 'prio', tc: 'qdisc add dev tq0 root handle 1: prio' },
  { name: 'tbf', tc: 'qdisc add dev tq0 root handle 1: tbf rate 2500mbit burst 256kb latency 10ms' },
  { name: 'red', tc: 'qdisc add dev tq0 root handle 1: red limit 4mb min 300kb max 900kb avpkt 1000 burst 500 probability 0.02 bandwidth 2500mbit ecn' },
  { name: 'sfq', tc: 'qdisc add dev tq0 root handle 1: sfq perturb 10' },
  {
    name: 'htb+u32+police',
    tc: [
      'qdisc add dev tq0 root handle 1: htb default 30',
      'class add dev tq0 parent 1: classid 1:1 htb rate 2500mbit',
      'class add dev tq0 parent 1:1 classid 1:10 htb rate 1gbit ceil 2500mbit prio 0',
      'class add dev tq0 parent 1:1 classid 1:20 htb rate 1gbit ceil 2500mbit prio 1',
      'class add dev tq0 parent 1:1 classid 1:30 htb rate 500mbit ceil 2500mbit prio 2',
      'qdisc add dev tq0 parent 1:10 handle 10: sfq perturb 10',
      'qdisc add dev tq0 parent 1:20 handle 20: pfifo limit 1000',
      'filter add dev tq0 parent 1: protocol ip prio 1 u32 match ip dport 22 0xffff flowid 1:10',
      'filter add dev tq0 parent 1: protocol ip prio 1 u32 match ip tos 0x10 0xff flowid 1:10',
      'filter add dev tq0 parent 1: protocol ip prio 2 u32 match ip protocol 17 0xff match ip dport 5201 0xffff police rate 800mbit burst 100k drop flowid 1:20',
      'filter add dev tq0 parent 1: protocol ip prio 3 u32 match tcp dst 443 0xffff flowid 1:30',
    ].join('\n'),
  },
];

const ROUND_NS = 1_000_000; // virtual time per round of ROUND packets

function disciplineSetup(tc: string) {
  const arena = new Arena();
  const sys = new TcSystem({ arena, random: seededRandom(1) });
  sys.applyText(tc, 'bench.tc');
  const tree: QdiscTree = sys.devices.get('tq0')!.egress;
  const rx = new MemoryLink(arena, { record: false, capacity: ROUND });
  const tx = new MemoryLink(arena, { name: 'mem1', record: false });
  const clock = new ManualClock(1e9);
  const timer = new ManualTimer();
  const fwd = new Forwarder({ rx, tx, clock, timer, tree });
  fwd.start();
  const tick = (): void => {
    clock.advance(ROUND_NS);
    timer.runDue(clock.now());
  };
  return { arena, rx, tree, fwd, tick };
}

function runDiscipline(s: ReturnType<typeof disciplineSetup>, packets: number): void {
  offer(s.rx, packets, mixed, s.tick);
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
const disciplines: { r: Result; s: ReturnType<typeof disciplineSetup> }[] = [];
const only = process.argv[3];
for (const d of DISCIPLINES.filter((x) => only === undefined || x.name === 'pfifo' || x.name === only)) {
  const s = disciplineSetup(d.tc);
  disciplines.push({ r: await measure(d.name, (n) => runDiscipline(s, n)), s });
}
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

// every discipline, built by tc commands, on a ManualClock; sent + dropped (+ queued) = received
const ref = disciplines[0].r;
console.log(`\nper discipline (tc-built trees, mixed traffic, ManualClock ${ROUND_NS / 1e6} ms per ${ROUND} packets), beside ${ref.name}:`);
const head = ['discipline', 'packets/s', 'vs pfifo', 'heap growth', 'B/packet', 'scavenges', 'mark-sweeps', 'GC ms', 'sent', 'dropped'];
const table = disciplines.map(({ r, s }) => {
  const st = s.tree.root.stats;
  return [r.name, Math.round(r.pps).toLocaleString('en'), `${((r.pps / ref.pps) * 100).toFixed(0)}%`, kb(r.heapDuring - r.heapBefore), ((r.heapDuring - r.heapBefore) / TOTAL).toFixed(2), String(r.gc.minor), String(r.gc.major), r.gc.ms.toFixed(1), String(s.fwd.counters.txPackets), String(st.drops)];
});
const widths = head.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
console.log(head.map((h, c) => (c === 0 ? h.padEnd(widths[c]) : h.padStart(widths[c]))).join('  '));
for (const row of table) console.log(row.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '));
for (const { r, s } of disciplines) {
  s.fwd.stop(); // purges what is still queued
  if (s.arena.available !== s.arena.slotCount) throw new Error(`${r.name}: ${s.arena.slotCount - s.arena.available} arena slots leaked`);
}
