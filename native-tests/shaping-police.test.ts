/**
 * Policing through tunqos: a u32 filter on UDP with `police rate 1mbit burst 10k drop` in front of a
 * 100 mbit HTB class; iperf3 offers UDP at 5 Mbit/s for 4 s. What arrives must fit the token
 * bucket: at most rate × time + burst (counted in IP bytes, as the policer counts them), and the
 * policer must let roughly its rate through (it is not simply dropping everything).
 */
import { describe, expect, it } from 'vitest';
import { iperfUdp } from '../src/testbed/iperf';
import { canShape, mbit, report, shapedSuite } from './support/shaping';

const RATE = 1e6;
const BURST = 10 * 1024;
const SCRIPT = `
tc qdisc add dev $DEV root handle 1: htb default 10
tc class add dev $DEV parent 1: classid 1:10 htb rate 100mbit
tc filter add dev $DEV parent 1: protocol ip prio 1 u32 match ip protocol 17 0xff police rate 1mbit burst 10k drop flowid 1:10
`;

describe.skipIf(!canShape)('police (tunqos)', () => {
  const s = shapedSuite(SCRIPT);

  it('UDP at 5 Mbit/s through a 1 mbit policer: delivered ≤ rate × time + burst', async () => {
    const seconds = 4;
    const t0 = performance.now();
    const u = await iperfUdp(s.topo, { seconds, udpRate: '5M', length: 1200 });
    const wall = (performance.now() - t0) / 1000;
    const delivered = u.packets - u.lost;
    const ipBytes = delivered * (1200 + 8 + 20);
    // the policer could have been refilling, at most, from the first datagram to the last: the test's
    // duration (bounded above by the client's whole wall time)
    const allowed = (RATE / 8) * Math.min(wall, u.seconds + 0.5) + BURST;
    report(`police: offered ${mbit(u.sentBps)} mbit, delivered ${delivered}/${u.packets} datagrams = ${ipBytes} IP bytes (${mbit((ipBytes * 8) / u.seconds)} mbit), allowed ${Math.round(allowed)}`);
    expect(ipBytes).toBeLessThanOrEqual(allowed);
    expect(ipBytes).toBeGreaterThan(0.8 * (RATE / 8) * seconds);
    expect(u.lossPercent).toBeGreaterThan(50);
  });
});
