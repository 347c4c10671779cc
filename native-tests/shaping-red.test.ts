/**
 * RED through tunqos: HTB 10 mbit with a RED leaf (min 30000, max 90000 bytes, limit 400000,
 * probability 0.02), one bulk TCP flow whose client negotiates ECN (net.ipv4.tcp_ecn=1 in the client
 * namespace). With `ecn` RED marks ECN-capable packets CE instead of dropping them early: marks are
 * counted and the only drops are over the hard limit (none expected: TCP backs off on the marks).
 * The same flow into the same RED without `ecn`: early drops, no marks. Counters are read from
 * `tc -s qdisc show` over the control socket (`marked N early N pdrop N other N`, as Linux prints).
 */
import { describe, expect, it } from 'vitest';
import { readQdiscs } from '../src/testbed/shaper-process';
import { iperfTcp } from '../src/testbed/iperf';
import { setTcpEcn } from '../src/testbed/tcp-stack';
import { canShape, mbit, report, shapedSuite } from './support/shaping';

const script = (ecn: boolean): string => `
tc qdisc add dev $DEV root handle 1: htb default 10
tc class add dev $DEV parent 1: classid 1:10 htb rate 10mbit
tc qdisc add dev $DEV parent 1:10 handle 10: red limit 400000 min 30000 max 90000 avpkt 1000 burst 55 probability 0.02 bandwidth 10mbit${ecn ? ' ecn' : ''}
`;

for (const ecn of [true, false]) {
  describe.skipIf(!canShape)(`RED ${ecn ? 'with' : 'without'} ecn (tunqos)`, () => {
    const s = shapedSuite(script(ecn), {}, (shaped) => setTcpEcn(shaped.topo, 'client', 1));

    it(ecn ? 'an ECN-capable TCP flow is marked CE, not dropped early' : 'the same flow is dropped early, never marked', async () => {
      const r = await iperfTcp(s.topo, { seconds: 4, omit: 1 });
      const red = (await readQdiscs(s.shaper, 'tqup')).find((q) => q.kind === 'red')!;
      report(`red ${ecn ? 'ecn' : 'no ecn'}: goodput ${mbit(r.goodputBps)} mbit, retransmits ${r.retransmits}; marked ${red.marked} early ${red.early} pdrop ${red.pdrop} drops ${red.drops} (${red.packets} pkts)`);
      expect(red.packets).toBeGreaterThan(1000);
      if (ecn) {
        expect(red.marked).toBeGreaterThan(0);
        expect(red.early).toBe(0);
        // whatever was dropped was over the hard limit
        expect(red.drops).toBe(red.pdrop);
      } else {
        expect(red.marked).toBe(0);
        expect(red.early).toBeGreaterThan(0);
      }
    });
  });
}
