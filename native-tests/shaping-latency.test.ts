/**
 * Latency under load through tunqos: HTB 10 mbit with an SFQ leaf, one bulk TCP flow saturating it
 * and ping beside it. SFQ gives the ping its own queue, so its RTT stays near the time of a few
 * full-size packets at 10 mbit (1.2 ms each) instead of the bulk flow's standing queue.
 * Target: median RTT under load ≤ 10 ms.
 */
import { describe, expect, it } from 'vitest';
import { latencyUnderLoad } from '../src/testbed/compare';
import { canShape, HTB_10MBIT_SFQ, mbit, report, shapedSuite } from './support/shaping';


describe.skipIf(!canShape)('latency under load (tunqos, HTB + SFQ)', () => {
  const s = shapedSuite(HTB_10MBIT_SFQ);

  it('one bulk TCP flow at 10 mbit: ping median ≤ 10 ms', async () => {
    const l = await latencyUnderLoad(s.topo, { pings: 30, interval: 0.1 });
    report(`latency: idle median ${l.idle.medianMs.toFixed(3)} ms, under load median ${l.loaded.medianMs.toFixed(3)} ms (max ${l.loaded.maxMs.toFixed(3)}), ${l.loaded.received}/${l.loaded.transmitted} replies, bulk ${mbit(l.bulkBps)} mbit`);
    expect(l.loaded.received).toBeGreaterThanOrEqual(l.loaded.transmitted - 1);
    expect(l.loaded.medianMs).toBeLessThanOrEqual(10);
    // the flow did load the class (otherwise the test proves nothing)
    expect(l.bulkBps).toBeGreaterThan(8e6);
  });
});
