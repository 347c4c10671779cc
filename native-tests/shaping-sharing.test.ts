/**
 * HTB link sharing through tunqos: two classes under a 10 mbit parent, A (rate 6, ceil 10) and
 * B (rate 4, ceil 7). Both saturated, each gets its guaranteed rate (they sum to the parent, so
 * there is nothing to borrow); B alone borrows up to its ceil (7); A alone borrows up to the parent
 * (10). Targets ±5% of the configured rate, as TCP goodput: rate × 1448/1500 (payload per 1500-byte
 * packet). Traffic: iperf3 TCP to port 5201 → A (u32 dport filter), to 5202 → B (the default class).
 */
import { describe, expect, it } from 'vitest';
import { iperfTcp } from '../src/testbed/iperf';
import { canShape, mbit, report, shapedSuite, TCP_PAYLOAD_PER_PACKET } from './support/shaping';

const SCRIPT = `
tc qdisc add dev $DEV root handle 1: htb default 20
tc class add dev $DEV parent 1: classid 1:1 htb rate 10mbit
tc class add dev $DEV parent 1:1 classid 1:10 htb rate 6mbit ceil 10mbit
tc class add dev $DEV parent 1:1 classid 1:20 htb rate 4mbit ceil 7mbit
tc qdisc add dev $DEV parent 1:10 handle 10: pfifo limit 100
tc qdisc add dev $DEV parent 1:20 handle 20: pfifo limit 100
tc filter add dev $DEV parent 1: protocol ip prio 1 u32 match ip dport 5201 0xffff flowid 1:10
`;

const RUN = { seconds: 4, omit: 1 };
const goodput = (rateMbit: number): number => rateMbit * 1e6 * TCP_PAYLOAD_PER_PACKET;

function within(measured: number, expected: number, tolerance: number): void {
  expect(measured).toBeGreaterThanOrEqual(expected * (1 - tolerance));
  expect(measured).toBeLessThanOrEqual(expected * (1 + tolerance));
}

describe.skipIf(!canShape)('HTB sharing and borrowing (tunqos)', () => {
  const s = shapedSuite(SCRIPT, { servers: 2 });

  it('both saturated: each class gets its guaranteed rate (A 6, B 4 mbit) ±5%', async () => {
    const [a, b] = await Promise.all([iperfTcp(s.topo, { ...RUN, port: 5201 }), iperfTcp(s.topo, { ...RUN, port: 5202 })]);
    report(`sharing both: A ${mbit(a.goodputBps)} (expect ${mbit(goodput(6))})  B ${mbit(b.goodputBps)} (expect ${mbit(goodput(4))})`);
    within(a.goodputBps, goodput(6), 0.05);
    within(b.goodputBps, goodput(4), 0.05);
  });

  it('A idle: B borrows up to its ceil (7 mbit) ±5%', async () => {
    const b = await iperfTcp(s.topo, { ...RUN, port: 5202 });
    report(`sharing B alone: ${mbit(b.goodputBps)} (expect ${mbit(goodput(7))})`);
    within(b.goodputBps, goodput(7), 0.05);
  });

  it('B idle: A borrows up to the parent (10 mbit) ±5%', async () => {
    const a = await iperfTcp(s.topo, { ...RUN, port: 5201 });
    report(`sharing A alone: ${mbit(a.goodputBps)} (expect ${mbit(goodput(10))})`);
    within(a.goodputBps, goodput(10), 0.05);
  });
});
