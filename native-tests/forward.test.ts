/**
 * tunqos forwarding real traffic: ping, iperf3 TCP and iperf3 UDP from the client namespace to the
 * server namespace through `tunqos run` in the gateway, with both egresses (back into the TUN, and a
 * raw socket bound to the server-side veth). The topology routes client→server traffic into the TUN
 * only, so anything that arrives went through tunqos (gateway.test.ts proves that nothing passes
 * a TUN without a reader). Delivery is asserted, not speed (bench/e2e.ts measures speed).
 * Then: SIGKILL of tunqos in the middle of a transfer, and a bad device name.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTopology, type Topology } from '../src/testbed/topology';
import { iperfTcp, iperfUdp, ping, startIperfServer, type IperfServer } from '../src/testbed/iperf';
import { spawnTunqos, startTunqos, type TunqosProcess } from '../src/testbed/tunqos-process';
import { namespacePids } from '../src/testbed/netns';
import { alive, hasIperf3, hostSnapshot, native } from './support/system';

const egresses = ['tun', 'raw'] as const;

for (const egress of egresses) describe.skipIf(!native.ok || !hasIperf3)(`tunqos run --egress ${egress}`, () => {
  let topo: Topology;
  let srv: IperfServer;
  let fwd: TunqosProcess;

  beforeAll(async () => {
    topo = createTopology({ mode: egress });
    srv = await startIperfServer(topo);
    fwd = await startTunqos(topo, { egress });
  });
  afterAll(() => {
    srv?.stop();
    fwd?.child.kill('SIGKILL');
    topo?.destroy();
    expect(topo.leftovers()).toEqual([]);
  });

  it('answers pings through tunqos', async () => {
    const tun0 = topo.linkStats('gateway', 'tqup');
    const p = await ping(topo, { count: 10, interval: 0.02 });
    expect(p.received).toBe(10);
    const tun1 = topo.linkStats('gateway', 'tqup');
    // The kernel handed every request to the TUN (tx, towards tunqos) ...
    expect(tun1.txPackets - tun0.txPackets).toBeGreaterThanOrEqual(10);
    // ... and tunqos sent them on the chosen way: into the TUN (its rx) or not at all through it.
    if (egress === 'tun') expect(tun1.rxPackets - tun0.rxPackets).toBeGreaterThanOrEqual(10);
    else expect(tun1.rxPackets - tun0.rxPackets).toBe(0);
  });

  it('carries an iperf3 TCP stream', async () => {
    const tcp = await iperfTcp(topo, { seconds: 2 });
    expect(tcp.goodputBps).toBeGreaterThan(5e6);
    expect(alive(fwd.child.pid)).toBe(true);
  });

  it('carries iperf3 UDP at a modest rate with little loss', async () => {
    const udp = await iperfUdp(topo, { seconds: 2, udpRate: '10M' });
    expect(udp.packets).toBeGreaterThan(1000);
    expect(udp.lossPercent).toBeLessThan(20);
  });

  it('carries 64-byte UDP datagrams offered as fast as possible', async () => {
    const udp = await iperfUdp(topo, { seconds: 2, length: 64, udpRate: '0' });
    expect(udp.deliveredPps).toBeGreaterThan(1000);
    expect(alive(fwd.child.pid)).toBe(true);
  });
});

describe.skipIf(!native.ok || !hasIperf3)('tunqos teardown and errors', () => {
  const topologies: Topology[] = [];
  afterEach(() => {
    for (const t of topologies.splice(0)) t.destroy();
  });

  it('SIGKILL mid-transfer: the TUN is released, tunqos can start again, and teardown leaves nothing', async () => {
    const before = hostSnapshot();
    const topo = createTopology({ mode: 'tun', directions: 'both' });
    topologies.push(topo);
    const srv = await startIperfServer(topo);
    const first = await startTunqos(topo, { egress: 'tun' });
    // The transfer cannot finish once its path is cut (iperf3 would wait for its control
    // connection); teardown kills it.
    const transfer = topo.execAsync('client', ['iperf3', '-c', topo.addr.server, '-t', '3'], 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    first.child.kill('SIGKILL');
    const how = await first.exited;
    expect(how.signal).toBe('SIGKILL');
    // The kernel closes the dead process's fds: both TUNs lose their reader and traffic stops.
    await topo.waitAttached(topo.tuns, false, 5000);
    expect((await ping(topo, { count: 2, interval: 0.05, deadline: 1 })).received).toBe(0);

    // Nothing is wedged: a new tunqos attaches to the same devices and forwards both directions.
    const second = await startTunqos(topo, { egress: 'tun' });
    expect((await ping(topo, { count: 5, interval: 0.05 })).received).toBe(5);
    second.child.kill('SIGKILL');
    srv.stop();

    const ns = Object.values(topo.ns);
    topo.destroy();
    await transfer; // destroy() killed the stalled iperf3 client with the rest
    expect(topo.leftovers()).toEqual([]);
    for (const n of ns) expect(namespacePids(n)).toEqual([]);
    expect(alive(second.child.pid)).toBe(false);
    const after = hostSnapshot();
    for (const name of ['c0', 'gc', 'gs', 's0', 'tqup', 'tqdn']) {
      if (!before.links.includes(name)) expect(after.links).not.toContain(name);
    }
    expect(after.rules).toEqual(before.rules);
    const ours = [topo.addr.clientNet.replace(/0\/24$/, ''), topo.addr.serverNet.replace(/0\/24$/, '')];
    expect(after.routes.filter((r) => ours.some((p) => r.includes(p)))).toEqual([]);
  });

  it("`tunqos run --dev 'bad name!'` exits 1 with a message naming the device", async () => {
    const topo = createTopology({ mode: 'kernel' });
    topologies.push(topo);
    const linkNames = (): string[] =>
      topo
        .exec('gateway', ['ip', '-o', 'link', 'show'])
        .trim()
        .split('\n')
        .map((l) => l.split(':')[1]!.trim().split('@')[0]!);
    const linksBefore = linkNames();
    const proc = spawnTunqos(topo, ['run', '--dev', 'bad name!', '--egress', 'tun']);
    const how = await Promise.race([
      proc.exited,
      new Promise<{ code: null; signal: 'timeout' }>((r) => setTimeout(() => r({ code: null, signal: 'timeout' }), 20_000)),
    ]);
    expect(how.code).toBe(1);
    expect(proc.stderr()).toContain('bad name!');
    // Failing cleanly: one message, no stack trace, and no device created.
    expect(proc.stderr()).not.toMatch(/\n\s+at /);
    expect(linkNames()).toEqual(linksBefore);
  });
});
