/**
 * Priority through tunqos (the tutorial's test: EF voice beside saturating best effort). HTB 10 mbit:
 * 1:10 voice (DSCP EF, u32 `dsfield 0xb8 0xfc`) rate 3 ceil 10 prio 0; 1:20 bulk (default) rate 7
 * ceil 10 prio 1. iperf3 UDP at 2 Mbit/s with `--tos 0xb8` runs beside 2 saturating TCP streams.
 * Targets: EF loss < 0.5 %, jitter < 2 ms (as the receiver measures them); and the bulk flows still
 * get the rest of the link.
 */
import { describe, expect, it } from 'vitest';
import { iperfTcp, iperfUdp } from '../src/testbed/iperf';
import { readClasses } from '../src/testbed/shaper-process';
import { canShape, mbit, report, shapedSuite, TCP_PAYLOAD_PER_PACKET } from './support/shaping';

const SCRIPT = `
tc qdisc add dev $DEV root handle 1: htb default 20
tc class add dev $DEV parent 1: classid 1:1 htb rate 10mbit
tc class add dev $DEV parent 1:1 classid 1:10 htb rate 3mbit ceil 10mbit prio 0
tc class add dev $DEV parent 1:1 classid 1:20 htb rate 7mbit ceil 10mbit prio 1
tc qdisc add dev $DEV parent 1:10 handle 10: pfifo limit 50
tc filter add dev $DEV parent 1: protocol ip prio 1 u32 match ip dsfield 0xb8 0xfc flowid 1:10
`;

describe.skipIf(!canShape)('EF priority under load (tunqos)', () => {
  const s = shapedSuite(SCRIPT, { servers: 2 });

  it('EF UDP at 2 Mbit/s beside saturating TCP: loss < 0.5 %, jitter < 2 ms', async () => {
    const bulk = iperfTcp(s.topo, { seconds: 6, port: 5201, streams: 2 });
    await new Promise((r) => setTimeout(r, 1000)); // let TCP fill the bulk class first
    const ef = await iperfUdp(s.topo, { seconds: 4, port: 5202, udpRate: '2M', tos: 0xb8 });
    const b = await bulk;
    const classes = await readClasses(s.shaper, 'tqup');
    const voice = classes.find((c) => c.handle === '1:10')!;
    report(`priority: EF ${ef.packets} pkts loss ${ef.lossPercent.toFixed(3)}% jitter ${ef.jitterMs.toFixed(3)} ms; bulk ${mbit(b.goodputBps)} mbit; voice class ${voice.packets} pkts, ${voice.drops} drops`);
    // the EF packets were classified into the voice class (not just lucky in the bulk queue)
    expect(voice.packets).toBeGreaterThanOrEqual(ef.packets - ef.lost);
    expect(ef.lossPercent).toBeLessThan(0.5);
    expect(ef.jitterMs).toBeLessThan(2);
    // bulk gets what voice leaves: ~8 of 10 mbit (generous bound: it was running while EF did)
    expect(b.goodputBps).toBeGreaterThan(0.6 * 8e6 * TCP_PAYLOAD_PER_PACKET);
  });
});
