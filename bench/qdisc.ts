/**
 * Qdisc micro-benchmark: enqueue + dequeue pairs per second for each discipline, against pfifo (the
 * simplest queue, the reference). Each iteration offers one packet from a small set of flows and
 * takes one out, with a standing queue of 64 packets, on a manual clock: the figure is the per-packet
 * cost of the discipline itself. Run: `npx tsx bench/qdisc.ts`.
 *
 * Extend by pushing to `qdiscBenchCases` (e.g. bench/htb.ts imports it and adds HTB) and calling
 * `runQdiscBench(cases)`.
 */
import { Bench } from 'tinybench';
import { Arena } from '../src/packet/arena';
import { preparePacket } from '../src/packet/prepare';
import { createQdiscEnv, seededRandom } from '../src/qdisc/env';
import { Fifo } from '../src/qdisc/fifo';
import { PfifoFast } from '../src/qdisc/pfifo_fast';
import { Prio } from '../src/qdisc/prio';
import type { Qdisc, QdiscEnv } from '../src/qdisc/qdisc';
import { Red } from '../src/qdisc/red';
import { Sfq } from '../src/qdisc/sfq';
import { LINKLAYER_ETHERNET, Tbf } from '../src/qdisc/tbf';
import { synthPacket as ipv4Bytes } from '../src/packet/synth';
import { redEvalEwma, redEvalIdleDamping, redEvalP } from '../src/tc/red-eval';

export interface QdiscBenchCase {
  name: string;
  make(env: QdiscEnv): Qdisc;
}

function redFor(env: QdiscEnv): Qdisc {
  const stab = new Uint8Array(256);
  const Wlog = redEvalEwma(30_000, 55, 1000);
  return new Red(0x10000, env, {
    limit: 400_000,
    qthMin: 30_000,
    qthMax: 90_000,
    Wlog,
    Plog: redEvalP(30_000, 90_000, 0.02),
    ScellLog: redEvalIdleDamping(Wlog, 1000, 1_250_000, stab),
    stab,
    maxP: Math.trunc(0.02 * 2 ** 32),
    flags: 1,
  });
}

export const qdiscBenchCases: QdiscBenchCase[] = [
  { name: 'pfifo', make: (env) => new Fifo('pfifo', 0x10000, env, { limit: 1000 }) },
  { name: 'pfifo_fast', make: (env) => new PfifoFast(0x10000, env) },
  { name: 'prio', make: (env) => new Prio(0x10000, env) },
  {
    name: 'tbf (100 Gbit/s, never throttles)',
    make: (env) => new Tbf(0x10000, env, { rate: 12.5e9, burst: 1e6, limit: 1e7, peakrate: 0, mtu: 0, mpu: 0, overhead: 0, linklayer: LINKLAYER_ETHERNET }),
  },
  { name: 'sfq', make: (env) => new Sfq(0x10000, env, { perturb: 10 }) },
  { name: 'red', make: (env) => redFor(env) },
];

export async function runQdiscBench(cases: QdiscBenchCase[] = qdiscBenchCases): Promise<void> {
  const bench = new Bench({ time: 1000, warmupTime: 200 });
  for (const c of cases) {
    const arena = new Arena(2048);
    const env = createQdiscEnv(arena, seededRandom(1));
    const q = c.make(env);
    // 16 flows, mixed TOS, 1000-byte packets; ids are recycled through the arena
    const templates = Array.from({ length: 16 }, (_, i) => ipv4Bytes({ size: 1000, src: 0x0a000001 + i, sport: 1000 + i, tos: [0, 0x10, 0x08, 0][i & 3] }));
    let n = 0;
    let now = 0;
    const offer = () => {
      const id = arena.allocFrom(templates[n++ & 15]);
      preparePacket(arena, id);
      q.enqueue(id, now);
    };
    for (let i = 0; i < 64; i++) offer();
    bench.add(c.name, () => {
      now += 100; // 100 ns per packet
      offer();
      const p = q.dequeue(now);
      if (p >= 0) arena.free(p);
    });
  }
  await bench.run();
  const hz = new Map(bench.tasks.map((t) => [t.name, t.result && 'throughput' in t.result ? (t.result as { throughput: { mean: number } }).throughput.mean : 0]));
  const ref = hz.get(cases[0].name) ?? 1;
  const rows = cases.map((c) => ({
    qdisc: c.name,
    'enqueue+dequeue /s': Math.round(hz.get(c.name) ?? 0).toLocaleString('en-US'),
    [`ratio to ${cases[0].name}`]: ((hz.get(c.name) ?? 0) / ref).toFixed(2),
  }));
  console.table(rows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runQdiscBench();
}
