/**
 * The namespace topology itself, without tunqos: kernel forwarding works; diverted traffic really
 * goes through the TUN (nothing passes without a reader, everything passes with the C loop); the
 * reverse TUN of `directions: 'both'` is in the path; and teardown leaves nothing behind — after
 * destroy(), after the forwarder is SIGKILLed, after SIGINT/SIGTERM of the owning process, and
 * (through sweep) after the owner itself is SIGKILLed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTopology, sweep, type Topology } from '../src/testbed/topology';
import { iperfTcp, iperfUdp, ping, startIperfServer } from '../src/testbed/iperf';
import { startTunloop, stopForwarder } from '../src/testbed/reference-loop';
import { listNamespaces } from '../src/testbed/netns';
import { alive, hasIperf3, hostSnapshot, native } from './support/system';
import { exited, startTopologyChild } from './support/child';

const topologies: Topology[] = [];
function topology(...args: Parameters<typeof createTopology>): Topology {
  const t = createTopology(...args);
  topologies.push(t);
  return t;
}

afterEach(() => {
  for (const t of topologies.splice(0)) t.destroy();
});

describe.skipIf(!native.ok || !hasIperf3)('gateway topology', () => {
  it('forwards client→server in kernel mode: ping replies and TCP goodput', async () => {
    const t = topology({ mode: 'kernel' });
    const p = await ping(t, { count: 5, interval: 0.05 });
    expect(p.received).toBe(5);
    const srv = await startIperfServer(t);
    const tcp = await iperfTcp(t, { seconds: 1 });
    srv.stop();
    expect(tcp.goodputBps).toBeGreaterThan(10e6);
  });

  it('diverts client→server into the TUN: nothing passes without a reader, all with the C loop', async () => {
    const t = topology({ mode: 'tun' });
    expect(t.isDiverted).toBe(true);
    const blocked = await ping(t, { count: 3, interval: 0.05, deadline: 1 });
    expect(blocked.received).toBe(0);

    const loop = await startTunloop(t);
    let stderr = '';
    loop.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const p = await ping(t, { count: 10, interval: 0.02 });
    expect(p.received).toBe(10);
    const srv = await startIperfServer(t);
    const tcp = await iperfTcp(t, { seconds: 1 });
    const udp = await iperfUdp(t, { seconds: 1, length: 64, udpRate: '20M' });
    srv.stop();
    expect(tcp.goodputBps).toBeGreaterThan(10e6);
    expect(udp.deliveredPps).toBeGreaterThan(1000);
    await stopForwarder(t, loop);
    // The loop counted what it forwarded: at least the pings and the UDP datagrams that arrived.
    const forwarded = Number(/(\d+) packets forwarded/.exec(stderr)?.[1] ?? -1);
    expect(forwarded).toBeGreaterThanOrEqual(10 + udp.packets - udp.lost);

    // Switching the diversion off gives plain kernel forwarding again, with no reader attached.
    t.divert(false);
    expect((await ping(t, { count: 3, interval: 0.05 })).received).toBe(3);
  });

  it("with directions 'both', replies go through the second TUN", async () => {
    const t = topology({ mode: 'tun', directions: 'both' });
    expect(t.tuns).toEqual(['tqup', 'tqdn']);
    const up = await startTunloop(t, 'tqup');
    // Requests pass the up loop, replies are routed into tqdn, which has no reader yet.
    expect((await ping(t, { count: 3, interval: 0.05, deadline: 1 })).received).toBe(0);
    const down = await startTunloop(t, 'tqdn');
    expect((await ping(t, { count: 5, interval: 0.05 })).received).toBe(5);
    await stopForwarder(t, up, ['tqup']);
    await stopForwarder(t, down, ['tqdn']);
  });

  it('routeUpInto moves client→server traffic between TUNs (spare TUNs for the benchmark)', async () => {
    const t = topology({ mode: 'kernel', spareTuns: 1 });
    expect(t.spareTuns).toEqual(['tqu1']);
    const loop = await startTunloop(t, 'tqu1');
    t.routeUpInto('tqu1');
    expect(t.upDevice).toBe('tqu1');
    const before = t.linkStats('gateway', 'tqu1');
    expect((await ping(t, { count: 4, interval: 0.05 })).received).toBe(4);
    expect(t.linkStats('gateway', 'tqu1').txPackets - before.txPackets).toBeGreaterThanOrEqual(4);
    t.routeUpInto('tqup'); // no reader there
    expect((await ping(t, { count: 2, interval: 0.05, deadline: 1 })).received).toBe(0);
    t.routeUpInto(null);
    expect((await ping(t, { count: 2, interval: 0.05 })).received).toBe(2);
    expect(() => t.routeUpInto('gs')).toThrow(/not an up-direction TUN/);
    await stopForwarder(t, loop, ['tqu1']);
  });

  it('destroy() after SIGKILL of the forwarder mid-transfer leaves no namespace, device, rule or route', async () => {
    const before = hostSnapshot();
    const t = topology({ mode: 'tun', directions: 'both' });
    const loopUp = await startTunloop(t, 'tqup');
    const loopDown = await startTunloop(t, 'tqdn');
    const srv = await startIperfServer(t);
    const transfer = iperfTcp(t, { seconds: 3 }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 800));
    loopUp.kill('SIGKILL');
    loopDown.kill('SIGKILL');
    t.destroy();
    await transfer; // iperf3 was killed with its namespace; whatever it reports does not matter
    expect(t.leftovers()).toEqual([]);
    expect(alive(loopUp.pid)).toBe(false);
    expect(alive(loopDown.pid)).toBe(false);
    const after = hostSnapshot();
    expect(after.namespaces.filter((n) => Object.values(t.ns).includes(n))).toEqual([]);
    for (const name of ['c0', 'gc', 'gs', 's0', 'tqup', 'tqdn']) {
      if (!before.links.includes(name)) expect(after.links).not.toContain(name);
    }
    expect(after.rules).toEqual(before.rules);
    const ours = [t.addr.clientNet.replace(/0\/24$/, ''), t.addr.serverNet.replace(/0\/24$/, '')];
    expect(after.routes.filter((r) => ours.some((prefix) => r.includes(prefix)))).toEqual([]);
    srv.stop();
    t.destroy(); // idempotent, never throws
  });

  it('a failed build removes what it had created', () => {
    const before = new Set(listNamespaces());
    // An impossible MTU: ip rejects the veth after the namespaces already exist.
    expect(() => createTopology({ mode: 'tun', mtu: 1_000_000 })).toThrow(/mtu|MTU|Invalid|range|argument/i);
    const leaked = listNamespaces().filter((n) => !before.has(n) && /^tq[cgs]-/.test(n) && n.includes(process.pid.toString(36)));
    expect(leaked).toEqual([]);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('tears down when the owning process gets %s', async (sig) => {
    const c = await startTopologyChild('tun');
    const names = Object.values(c.ns);
    expect(listNamespaces()).toEqual(expect.arrayContaining(names));
    c.child.kill(sig);
    const how = await exited(c.child);
    expect(how.signal).toBe(sig);
    expect(listNamespaces().filter((n) => names.includes(n))).toEqual([]);
  });

  it('sweep removes the namespaces of a SIGKILLed owner and keeps those of live owners', async () => {
    const mine = topology({ mode: 'kernel' });
    const c = await startTopologyChild('tun');
    const names = Object.values(c.ns);
    c.child.kill('SIGKILL');
    await exited(c.child);
    // SIGKILL runs no handler: the namespaces outlive their owner.
    expect(listNamespaces()).toEqual(expect.arrayContaining(names));
    const removed = sweep();
    expect(removed).toEqual(expect.arrayContaining(names));
    const now = listNamespaces();
    expect(now.filter((n) => names.includes(n))).toEqual([]);
    expect(now).toEqual(expect.arrayContaining(Object.values(mine.ns)));
    expect(removed.filter((n) => Object.values(mine.ns).includes(n))).toEqual([]);
  });
});
