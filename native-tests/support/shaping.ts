/**
 * Shared pieces of the shaping tests (native-tests/shaping-*.test.ts): when they can run, a
 * topology with tunqos loaded from a script template, and the figures they print.
 *
 * Every scenario builds its own topology and removes it (afterAll / finally), runs its traffic for
 * a few seconds (`-O 1` leaves TCP slow start out of the figures), and prints what it measured, so
 * a failing target shows the numbers it missed by. The machine is shared: assertions use medians.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { renderScript, TUNQOS_DEVICES } from '../../src/testbed/script';
import { startShaper, type ShaperProcess } from '../../src/testbed/shaper-process';
import { mtuSizedSends } from '../../src/testbed/tcp-stack';
import { startIperfServers, type IperfServer } from '../../src/testbed/iperf';
import { createTopology, type Topology, type TopologyOptions } from '../../src/testbed/topology';
import { hasIperf3, hasPing, native } from './system';

export const canShape = native.ok && hasIperf3 && hasPing;

/** One 10 mbit HTB class with an SFQ leaf: the tree of the latency and the fairness scenarios. */
export const HTB_10MBIT_SFQ = `
tc qdisc add dev $DEV root handle 1: htb default 10
tc class add dev $DEV parent 1: classid 1:10 htb rate 10mbit
tc qdisc add dev $DEV parent 1:10 handle 10: sfq perturb 10
`;

export { TCP_PAYLOAD_PER_PACKET } from '../../src/testbed/compare';

/** A topology with tunqos running a script and iperf3 servers on 5201.. */
export interface Shaped {
  topo: Topology;
  shaper: ShaperProcess;
  servers: IperfServer[];
  close(): Promise<void>;
}

export async function shaped(template: string, opts: TopologyOptions & { servers?: number; ingress?: boolean } = {}): Promise<Shaped> {
  const topo = createTopology({ mode: 'tun', ...opts });
  try {
    mtuSizedSends(topo);
    const servers = await startIperfServers(topo, opts.servers ?? 1);
    const shaper = await startShaper(topo, renderScript(template, TUNQOS_DEVICES), { ingress: opts.ingress });
    return {
      topo,
      shaper,
      servers,
      async close() {
        for (const s of servers) s.stop();
        await shaper.stop();
        topo.destroy();
        expect(topo.leftovers()).toEqual([]);
      },
    };
  } catch (e) {
    topo.destroy();
    throw e;
  }
}

/**
 * The frame every shaping scenario shares, registered in the calling describe block: beforeAll builds
 * the topology and starts tunqos with `template` (then runs `prepare`, e.g. a sysctl), afterAll tears
 * it down and asserts nothing is left. Returns the Shaped, filled in once beforeAll has run.
 */
export function shapedSuite(template: string, opts: Parameters<typeof shaped>[1] = {}, prepare?: (s: Shaped) => void): Shaped {
  const s = {} as Shaped;
  beforeAll(async () => {
    Object.assign(s, await shaped(template, opts));
    prepare?.(s);
  });
  afterAll(async () => {
    await s.close?.();
  });
  return s;
}

export function mbit(bps: number): string {
  return (bps / 1e6).toFixed(3);
}

/** Prints a figure line on stderr (vitest shows it beside the test). */
export function report(line: string): void {
  process.stderr.write(`  [shaping] ${line}\n`);
}
