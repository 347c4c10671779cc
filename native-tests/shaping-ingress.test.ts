/**
 * The wondershaper-style gateway through tunqos, both directions at once (topology with two TUNs:
 * tqup carries client → server, tqdn server → client and feeds tqup's ingress side, `--ingress
 * tqup=tqdn`):
 *   upload   egress HTB 8 mbit: interactive 1:10 (icmp and small packets such as the download's
 *            ACKs, rate 2 ceil 8, prio 1) and bulk 1:20 (the rest, rate 6 ceil 8, prio 2);
 *   download ingress qdisc with a police filter at 4 mbit, burst 100k, drop: what exceeds is dropped.
 *            (With wondershaper's burst 10k-20k a TCP download through the policer reaches only
 *            ~0.8 of 4 mbit here — measured 0.80 mbit at 20k, while UDP through the same policer gets
 *            its 4.05 mbit: TCP's bursts overrun a 13-packet bucket. That is policing, not tunqos.)
 * A bulk upload and a bulk download run together (and ping beside them). Targets: the upload is
 * shaped to ~8 mbit (bulk may borrow all of it while interactive carries only ACKs), the download
 * never exceeds the policer (rate × time + burst) and still flows.
 */
import { describe, expect, it } from 'vitest';
import { readClasses } from '../src/testbed/shaper-process';
import { iperfTcp, ping } from '../src/testbed/iperf';
import { canShape, mbit, report, shapedSuite, TCP_PAYLOAD_PER_PACKET } from './support/shaping';

const SCRIPT = `
tc qdisc add dev $DEV root handle 1: htb default 20
tc class add dev $DEV parent 1: classid 1:1 htb rate 8mbit
tc class add dev $DEV parent 1:1 classid 1:10 htb rate 2mbit ceil 8mbit prio 1
tc class add dev $DEV parent 1:1 classid 1:20 htb rate 6mbit ceil 8mbit prio 2
tc qdisc add dev $DEV parent 1:20 handle 20: sfq perturb 10
tc filter add dev $DEV parent 1: protocol ip prio 10 u32 match ip protocol 1 0xff flowid 1:10
tc filter add dev $DEV parent 1: protocol ip prio 11 u32 match ip protocol 6 0xff match u8 0x05 0x0f at 0 match u16 0x0000 0xffc0 at 2 match u8 0x10 0xff at 33 flowid 1:10
tc qdisc add dev $DEV handle ffff: ingress
tc filter add dev $DEV parent ffff: protocol ip prio 50 u32 match ip src 0.0.0.0/0 police rate 4mbit burst 100k drop flowid :1
`;

describe.skipIf(!canShape)('wondershaper-style gateway: shaped upload, policed download (tunqos)', () => {
  const s = shapedSuite(SCRIPT, { directions: 'both', ingress: true, servers: 2 });

  it('upload shaped to 8 mbit and download policed to 4 mbit at the same time', async () => {
    const seconds = 5;
    const t0 = performance.now();
    const upload = iperfTcp(s.topo, { seconds, port: 5201 });
    const download = iperfTcp(s.topo, { seconds, port: 5202, reverse: true });
    const p = ping(s.topo, { count: 20, interval: 0.1 });
    const [up, down, pg] = await Promise.all([upload, download, p]);
    const wall = (performance.now() - t0) / 1000;
    const classes = await readClasses(s.shaper, 'tqup');
    const interactive = classes.find((c) => c.handle === '1:10')!;
    report(`ingress: upload ${mbit(up.goodputBps)} mbit (shaped at 8), download ${mbit(down.goodputBps)} mbit (policed at 4), ping median ${pg.medianMs.toFixed(3)} ms ${pg.received}/${pg.transmitted}; interactive class ${interactive.packets} pkts`);
    // upload: the egress HTB, ±5% of 8 mbit in goodput terms (ACKs and pings take a little of it)
    expect(up.goodputBps).toBeLessThanOrEqual(8e6 * TCP_PAYLOAD_PER_PACKET * 1.05);
    expect(up.goodputBps).toBeGreaterThanOrEqual(8e6 * TCP_PAYLOAD_PER_PACKET * 0.9);
    // download: never above the policer (bytes in IP terms ≥ payload), and it does flow
    const downPayloadBytes = (down.goodputBps / 8) * down.seconds;
    expect(downPayloadBytes).toBeLessThanOrEqual((4e6 / 8) * wall + 100 * 1024);
    expect(down.goodputBps).toBeGreaterThan(0.5 * 4e6);
    // the download's ACKs and the pings went to the interactive class
    expect(interactive.packets).toBeGreaterThan(100);
    expect(pg.received).toBeGreaterThanOrEqual(18);
  });
});
