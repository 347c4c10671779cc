/**
 * Memory benchmark: does steady-state forwarding allocate? (ARCHITECTURE.md, hot-path rule 1)
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
 * ManualClock advanced 1 ms per 1,024 packets (about 4.8 Gbit/s offered) and a timer fired when due,
 * so the shapers (tbf at 2.5 Gbit/s, htb's classes) really throttle, queue and drop, the same way on
 * every run. Each row is set beside the pfifo row.
 *
 * What the harness itself must not add: the ManualClock starts at 1000 s (VIRTUAL_START), not near
 * 0, because the real clock reads nanoseconds since boot, numbers far beyond V8's small integers
 * (2^31) from the first packet. A clock that crossed 2^31 inside the measured window (as one started
 * at 1 s did, after 1.1 s of virtual time) made every Nanos field of every discipline change
 * representation mid-run, which deoptimised the data path and showed as allocation that the real
 * clock never causes. The timer is a bench-local one that records nothing (ManualTimer keeps every
 * deadline in an array for the tests). The warm-up (1,000,000 packets) is long enough for V8 to
 * optimise the rarely taken paths too (HTB's wait queue and mode changes): after 100,000 or 500,000
 * packets they still ran in the interpreter, where every float read is boxed.
 * The "new-space" figures count only what JavaScript allocated (V8's young generation, exact while
 * no scavenge runs), without the code V8 compiles during the run, which `heap used` also includes.
 * What remains there is per clock read, not per packet: the forwarder reads `now` once per read batch
 * of 64 and hands it to the tree's methods, and V8 needs a 16-byte number for that whenever the value
 * is a float it computed (the real clock's always is; the ManualClock's is once the forwarder has run
 * on both clocks, as here): about 250 bytes per 1,000 packets. The forwarder rows show the real
 * clock's cost on its own. Shapers add one more per timer arm (the deadline passed to timer.arm).
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
import type { WakeupTimer } from '../src/time/timer';
import { synthPacket } from '../src/packet/synth';
import { seededRandom } from '../src/qdisc/env';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const ROUND = 1024; // packets injected per readable event (16 read batches of 64)
const VIRTUAL_START = 1e12; // ns: 1000 s after "boot", beyond V8's small integers like the real clock's readings

/** A WakeupTimer fired by hand when due, like ManualTimer but keeping no record of its deadlines. */
class BenchTimer implements WakeupTimer {
  armedAt = Infinity;
  period = 0;
  private cb: (() => void) | null = null;
  arm(at: number, period = 0): void {
    this.armedAt = at;
    this.period = period > 0 ? period : 0;
  }
  disarm(): void {
    this.armedAt = Infinity;
  }
  onFire(cb: () => void): void {
    this.cb = cb;
  }
  close(): void {
    this.armedAt = Infinity;
    this.cb = null;
  }
  runDue(now: number): void {
    if (this.armedAt > now) return;
    // before the callback, which may re-arm; a periodic deadline moves to its first one after now
    this.armedAt = this.period > 0 ? this.armedAt + (Math.floor((now - this.armedAt) / this.period) + 1) * this.period : Infinity;
    if (this.cb !== null) this.cb();
  }
}

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
  const fwd = new Forwarder({ rx, tx, clock, timer: new BenchTimer(), tree });
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
  const clock = new ManualClock(VIRTUAL_START);
  const timer = new BenchTimer();
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
  /** bytes JavaScript allocated in the young generation during the run (valid when no scavenge ran) */
  young: number;
  gc: GcCounts;
}

const WARMUP = 1_000_000; // packets before each measurement: JIT (the rarely taken paths too), lazily created objects

/** used bytes of V8's young generation (new space): where every allocating JS operation lands first */
function youngUsed(): number {
  for (const sp of v8.getHeapSpaceStatistics()) if (sp.space_name === 'new_space') return sp.space_used_size;
  return 0;
}

async function measure(name: string, run: (packets: number) => void): Promise<Result> {
  run(WARMUP);
  gc();
  await new Promise((r) => setTimeout(r, 50));
  const heapBefore = process.memoryUsage().heapUsed;
  const young0 = youngUsed();
  const from = performance.now();
  run(TOTAL);
  const to = performance.now();
  const young1 = youngUsed();
  const heapDuring = process.memoryUsage().heapUsed;
  await new Promise((r) => setTimeout(r, 50)); // let the gc observer deliver
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  return { name, pps: TOTAL / ((to - from) / 1000), heapBefore, heapDuring, heapAfter, young: young1 - young0, gc: countGc(from, to) };
}

/** young-generation bytes per 1,000 packets, or "gc" when a scavenge emptied it during the run */
const youngPer1k = (r: Result): string => (r.gc.minor > 0 ? 'gc' : ((r.young / TOTAL) * 1000).toFixed(0));

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
  ['new-space bytes per 1,000 packets', youngPer1k],
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
const head = ['discipline', 'packets/s', 'vs pfifo', 'heap growth', 'B/packet', 'new B/1k pkts', 'scavenges', 'mark-sweeps', 'GC ms', 'sent', 'dropped'];
const table = disciplines.map(({ r, s }) => {
  const st = s.tree.root.stats;
  return [r.name, Math.round(r.pps).toLocaleString('en'), `${((r.pps / ref.pps) * 100).toFixed(0)}%`, kb(r.heapDuring - r.heapBefore), ((r.heapDuring - r.heapBefore) / TOTAL).toFixed(2), youngPer1k(r), String(r.gc.minor), String(r.gc.major), r.gc.ms.toFixed(1), String(s.fwd.counters.txPackets), String(st.drops)];
});
const widths = head.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
console.log(head.map((h, c) => (c === 0 ? h.padEnd(widths[c]) : h.padStart(widths[c]))).join('  '));
for (const row of table) console.log(row.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '));
console.log('(new B/1k pkts: JavaScript allocation per 1,000 packets; about 250 is one boxed `now` per read batch of 64, see the header; gc: a scavenge ran, no exact figure)');
for (const { r, s } of disciplines) {
  s.fwd.stop(); // purges what is still queued
  if (s.arena.available !== s.arena.slotCount) throw new Error(`${r.name}: ${s.arena.slotCount - s.arena.available} arena slots leaked`);
}
