/**
 * SFQ fairness through tunqos: HTB 10 mbit with an SFQ leaf, 4 TCP flows (iperf3 -P 4). The flows'
 * goodputs must be fair: Jain's index (Σx)²/(n·Σx²) ≥ 0.95 (1 = equal shares); together they fill
 * the class.
 */
import { describe, expect, it } from 'vitest';
import { jainIndex } from '../src/testbed/stats';
import { iperfTcp } from '../src/testbed/iperf';
import { canShape, HTB_10MBIT_SFQ, mbit, report, shapedSuite, TCP_PAYLOAD_PER_PACKET } from './support/shaping';


describe.skipIf(!canShape)('SFQ fairness (tunqos)', () => {
  const s = shapedSuite(HTB_10MBIT_SFQ);

  it('4 TCP flows in one SFQ leaf: Jain index ≥ 0.95', async () => {
    // No -O here: with parallel streams iperf3 3.12's receiver sums over-count when seconds are
    // omitted (measured 9.91 mbit of payload through a 10 mbit class whose own counters said 9.98 mbit
    // of IP packets; 9.61 without -O). Slow start at 10 mbit is short.
    const r = await iperfTcp(s.topo, { seconds: 5, streams: 4 });
    const j = jainIndex(r.perStreamBps);
    report(`sfq: streams ${r.perStreamBps.map(mbit).join(' ')} mbit, total ${mbit(r.goodputBps)}, Jain ${j.toFixed(4)}`);
    expect(r.perStreamBps).toHaveLength(4);
    expect(j).toBeGreaterThanOrEqual(0.95);
    expect(r.goodputBps).toBeGreaterThan(0.9 * 10e6 * TCP_PAYLOAD_PER_PACKET);
    expect(r.goodputBps).toBeLessThanOrEqual(10e6);
  });
});
