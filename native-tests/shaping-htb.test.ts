/**
 * HTB accuracy against the kernel: one class at 1, 10 and 100 mbit (and 1 gbit), the same tc
 * commands on the kernel's HTB (gateway egress veth) and on tunqos, in turn on one topology
 * (src/testbed/compare.ts). iperf3 TCP goodput, median of 3 runs of 3 s (+1 s omitted) each.
 *
 * Target: tunqos within ±3% of the kernel. The kernel counts the 14-byte Ethernet header of the
 * veth in each packet, tunqos the IP packet only, so the expected ratio is 1514/1500 = 1.009, not 1:
 * the ±3% is taken around that. At 1 gbit tunqos may not reach the rate (a TypeScript forwarder on
 * a shared 2-core machine): only "never above the configured rate" is asserted and the ratio reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, compareHtbRate, ETHERNET_ACCOUNTING_RATIO, type RateComparison } from '../src/testbed/compare';
import { canShape, mbit, report } from './support/shaping';

const RUN = { seconds: 3, omit: 1 };

describe.skipIf(!canShape)('HTB rate accuracy: tunqos vs the kernel', () => {
  let bench: Bench;
  const results: RateComparison[] = [];

  beforeAll(async () => {
    bench = await Bench.create(1);
  });
  afterAll(async () => {
    await bench?.close();
    for (const r of results) {
      report(`htb ${mbit(r.rateBps)} mbit: kernel ${mbit(r.kernel.medianBps)} [${r.kernel.runsBps.map(mbit).join(' ')}]  tunqos ${mbit(r.tunqos.medianBps)} [${r.tunqos.runsBps.map(mbit).join(' ')}]  ratio ${r.ratio.toFixed(4)}`);
    }
    expect(bench.topo.leftovers()).toEqual([]);
  });

  for (const [rate, bps] of [
    ['1mbit', 1e6],
    ['10mbit', 10e6],
    ['100mbit', 100e6],
  ] as const) {
    it(`${rate}: tunqos goodput within ±3% of the kernel's (around the 1514/1500 header difference)`, async () => {
      const r = await compareHtbRate(bench, rate, bps, RUN, 3);
      results.push(r);
      expect(r.ratio / ETHERNET_ACCOUNTING_RATIO).toBeGreaterThanOrEqual(0.97);
      expect(r.ratio / ETHERNET_ACCOUNTING_RATIO).toBeLessThanOrEqual(1.03);
      // and neither exceeds the configured rate
      expect(r.tunqos.medianBps).toBeLessThanOrEqual(bps);
    }, 90_000);
  }

  it('1gbit: tunqos never exceeds the rate (its ratio to the kernel is reported, not asserted)', async () => {
    const r = await compareHtbRate(bench, '1gbit', 1e9, RUN, 3);
    results.push(r);
    for (const v of r.tunqos.runsBps) expect(v).toBeLessThanOrEqual(1e9 * 1.03);
  }, 90_000);
});
