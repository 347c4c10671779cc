/**
 * Classification speed: classifications per second for 10, 1,000 and 10,000 u32 rules, linear
 * (one rule after another in one table, the worst case: the packet matches the last rule) and hashed
 * (two levels of 256 buckets: the 3rd, then the last octet of the source address, seeds §3.5), each against the 10-rule
 * linear figure as the reference.  Run: npx tsx bench/classify.ts
 */
import { Bench } from 'tinybench';
import { Arena } from '../src/packet/arena';
import { createQdiscEnv } from '../src/qdisc/env';
import { parseFilterCommand } from '../src/tc/filter-command';
import { FilterSet } from '../src/tc/filter-set';
import type { ParseContext } from '../src/tc/kinds';
import { Args, tokensFromArgv } from '../src/tc/tokens';
import type { FilterChain } from '../src/classify/chain';
import { allocPacket } from '../src/packet/synth';
import { seededRandom } from '../src/qdisc/env';

const arena = new Arena(256);
const ctx: ParseContext = { env: createQdiscEnv(arena, seededRandom(1)), warn: () => {} };

function build(lines: string[]): FilterChain {
  const set = new FilterSet(arena);
  for (const l of lines) {
    const t = tokensFromArgv(l.split(/\s+/));
    set.apply(parseFilterCommand(t[1].text, new Args(t.slice(2), t[1]), ctx), ctx);
  }
  return set.chainFor(0x10000)!;
}

const addr = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function linear(n: number): FilterChain {
  const l: string[] = [];
  // a u32 table holds at most 2,048 knodes per bucket (node ids 800..fff), so long lists span prios
  for (let i = 0; i < n; i++) l.push(`filter add dev e parent 1: protocol ip prio ${1 + Math.floor(i / 2000)} u32 match ip src ${addr(i)} match ip dport 80 0xffff flowid 1:${((i % 3) + 1).toString(16)}`);
  return build(l);
}

/** two levels, as tc-u32(8) suggests for big sets: 3rd octet of the source, then its last octet */
function hashed(n: number): FilterChain {
  const l = ['filter add dev e parent 1: protocol ip prio 1 u32', 'filter add dev e parent 1: protocol ip prio 1 handle 2: u32 divisor 256'];
  const third = Math.ceil(n / 256);
  for (let j = 0; j < third; j++) l.push(`filter add dev e parent 1: protocol ip prio 1 handle ${(0x10 + j).toString(16)}: u32 divisor 256`);
  for (let i = 0; i < n; i++) {
    const t = (0x10 + (i >> 8)).toString(16);
    l.push(`filter add dev e parent 1: protocol ip prio 1 u32 ht ${t}:${(i & 255).toString(16)}: match ip src ${addr(i)} match ip dport 80 0xffff flowid 1:${((i % 3) + 1).toString(16)}`);
  }
  for (let j = 0; j < third; j++) l.push(`filter add dev e parent 1: protocol ip prio 1 u32 ht 2:${j.toString(16)}: match ip src 10.0.${j}.0/24 hashkey mask 0x000000ff at 12 link ${(0x10 + j).toString(16)}:`);
  l.push('filter add dev e parent 1: protocol ip prio 1 u32 ht 800:: match ip src 10.0.0.0/16 hashkey mask 0x0000ff00 at 12 link 2:');
  return build(l);
}

// packets from the last customers (the worst case for a linear list)
function packets(n: number): Int32Array {
  const ids = new Int32Array(16);
  for (let k = 0; k < 16; k++) {
    const i = n - 1 - k * Math.max(1, Math.floor(n / 16) - 1);
    ids[k] = allocPacket(arena, { src: ((10 << 24) | i) >>> 0, dport: 80, proto: 6 });
  }
  return ids;
}

const cases: { name: string; chain: FilterChain; ids: Int32Array }[] = [];
for (const n of [10, 1000, 10000]) {
  cases.push({ name: `linear ${n}`, chain: linear(n), ids: packets(n) });
  cases.push({ name: `hashed ${n}`, chain: hashed(n), ids: packets(n) });
}

const BATCH = 1024;
const bench = new Bench({ time: 700, warmupTime: 200 });
let sink = 0;
for (const c of cases) {
  // the last packet of each set must classify (proves the bench measures real matches)
  if (c.chain.classify(c.ids[0], 0) < 0) throw new Error(`${c.name}: packet did not match`);
  bench.add(c.name, () => {
    const ch = c.chain;
    const ids = c.ids;
    for (let i = 0; i < BATCH; i++) sink += ch.classify(ids[i & 15], 0);
  });
}
await bench.run();

const rate = (name: string): number => {
  const t = bench.tasks.find((x) => x.name === name)!;
  const r = t.result as unknown as { throughput?: { mean: number }; hz?: number };
  const hz = r.throughput?.mean ?? r.hz ?? 0;
  return hz * BATCH;
};
const ref = rate('linear 10');
console.log('u32 classification (1 packet = 1 classify call; packets match the last-added rules)');
console.log('case            classifications/s   ratio to 10-rule linear');
for (const c of cases) {
  const r = rate(c.name);
  console.log(`${c.name.padEnd(15)} ${Math.round(r).toLocaleString('en-US').padStart(18)}   ${(r / ref).toFixed(3)}`);
}
console.log(`reference: 10 linear rules = ${(ref / 1e6).toFixed(2)} M/s (goal ≥ 5 M/s); hashed 10,000 / linear 10 cost ratio = ${(ref / rate('hashed 10000')).toFixed(2)} (goal ≤ 2)`);
if (sink === 42) console.log('');
