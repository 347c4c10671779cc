/**
 * Shaping benchmark (root): the kernel's HTB and tunqos with the same tc commands, side by side on
 * one topology (src/testbed/compare.ts), printed as one table.
 *
 *   rate rows     one HTB class at 1, 10, 100 mbit and 1 gbit (default pfifo leaf): iperf3 TCP
 *                 goodput through the kernel's HTB (on the gateway's veth) and through tunqos,
 *                 median of 3 runs of 3 s (+1 s omitted) each, alternating; ratio tunqos/kernel.
 *                 Expected ratio 1514/1500 = 1.009: the kernel counts the Ethernet header.
 *   latency rows  HTB 10 mbit: ping median idle and with one bulk TCP flow, kernel vs tunqos with
 *                 the same pfifo leaf; and tunqos with an SFQ leaf (this kernel has no sch_sfq).
 *
 * Usage: npx tsx bench/shaping.ts [--quick]    (--quick: 1 run per side, no 1 gbit)
 * The machine is shared: compare the columns of one run, not runs of different days.
 */
import { pathToFileURL } from 'node:url';
import { Bench, compareHtbRate, latencyUnderLoad, type LatencyFigures, type RateComparison } from '../src/testbed/compare';
import { canBuildTopology, sweep } from '../src/testbed/topology';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 1 : 3;
const RUN = { seconds: 3, omit: 1 };
const RATES: Array<[string, number]> = [
  ['1mbit', 1e6],
  ['10mbit', 10e6],
  ['100mbit', 100e6],
  ...(quick ? [] : ([['1gbit', 1e9]] as Array<[string, number]>)),
];

const LATENCY_FIFO = `
tc qdisc add dev $DEV root handle 1: htb default 10
tc class add dev $DEV parent 1: classid 1:10 htb rate 10mbit
tc qdisc add dev $DEV parent 1:10 handle 10: pfifo limit 100
`;
const LATENCY_SFQ = `
tc qdisc add dev $DEV root handle 1: htb default 10
tc class add dev $DEV parent 1: classid 1:10 htb rate 10mbit
tc qdisc add dev $DEV parent 1:10 handle 10: sfq perturb 10
`;

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}
const m = (bps: number): string => (bps / 1e6).toFixed(2);
const ms = (v: number): string => v.toFixed(3);

/** Measures and returns the report (two sections: HTB goodput, latency under load); throws when no topology can be built. */
export async function shapingReport(): Promise<string> {
  const can = canBuildTopology();
  if (!can.ok) throw new Error(`bench/shaping: ${can.reason}`);
  sweep();
  const bench = await Bench.create(1);
  const rates: RateComparison[] = [];
  const lat: Array<{ label: string; kernel?: LatencyFigures; tunqos: LatencyFigures }> = [];
  try {
    for (const [rate, bps] of RATES) {
      log(`htb ${rate} ...`);
      rates.push(await compareHtbRate(bench, rate, bps, RUN, RUNS));
    }
    log('latency, pfifo leaf ...');
    await bench.load(LATENCY_FIFO);
    bench.use('kernel');
    const kf = await latencyUnderLoad(bench.topo, { pings: 30 });
    bench.use('tunqos');
    const tf = await latencyUnderLoad(bench.topo, { pings: 30 });
    lat.push({ label: 'htb 10mbit + pfifo 100', kernel: kf, tunqos: tf });
    log('latency, sfq leaf ...');
    await bench.load(LATENCY_SFQ);
    bench.use('tunqos');
    lat.push({ label: 'htb 10mbit + sfq', tunqos: await latencyUnderLoad(bench.topo, { pings: 30 }) });
  } finally {
    await bench.close();
  }

  const lines: string[] = [];
  lines.push(`HTB goodput, iperf3 TCP, median of ${RUNS} × ${RUN.seconds} s (Mbit/s; expected ratio 1.009)`);
  lines.push(`${'rate'.padEnd(24)}${'kernel'.padStart(10)}${'tunqos'.padStart(10)}${'ratio'.padStart(8)}   runs kernel | tunqos`);
  for (const r of rates) {
    lines.push(
      `${`htb ${m(r.rateBps)}`.padEnd(24)}${m(r.kernel.medianBps).padStart(10)}${m(r.tunqos.medianBps).padStart(10)}${r.ratio.toFixed(3).padStart(8)}   ${r.kernel.runsBps.map(m).join(' ')} | ${r.tunqos.runsBps.map(m).join(' ')}`,
    );
  }
  lines.push('');
  lines.push('ping median (ms): idle / with one bulk TCP flow');
  lines.push(`${'config'.padEnd(24)}${'kernel idle'.padStart(12)}${'loaded'.padStart(9)}${'tunqos idle'.padStart(13)}${'loaded'.padStart(9)}${'bulk Mbit/s k|t'.padStart(18)}`);
  for (const l of lat) {
    lines.push(
      `${l.label.padEnd(24)}${(l.kernel ? ms(l.kernel.idle.medianMs) : '-').padStart(12)}${(l.kernel ? ms(l.kernel.loaded.medianMs) : '-').padStart(9)}${ms(l.tunqos.idle.medianMs).padStart(13)}${ms(l.tunqos.loaded.medianMs).padStart(9)}${`${l.kernel ? m(l.kernel.bulkBps) : '-'}|${m(l.tunqos.bulkBps)}`.padStart(18)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

// Run alone (`npx tsx bench/shaping.ts`), or from `bench/e2e.ts --shaping` in the same run as the rest.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.stdout.write(await shapingReport());
  } catch (e) {
    log((e as Error).message);
    process.exitCode = 1;
  }
}
