/**
 * End-to-end benchmark (root): one client/gateway/server topology, four forwarding paths through the
 * gateway, the same three measurements on each, one table.
 *
 *   kernel      the kernel forwards client→server itself (no TUN in the path)
 *   C loop      traffic is routed into a TUN; bench/tunloop.c reads each packet and writes it back:
 *               the user-space floor — what any TUN forwarder costs before doing anything
 *   tunqos tun  `tunqos run --dev tqup --egress tun` in place of the C loop
 *   tunqos raw  `tunqos run --dev tqup --egress raw:gs`: read from the TUN, send by a raw socket
 *
 * Measurements (each repeated, the median reported):
 *   TCP   iperf3, 1 stream, goodput at the receiver
 *   UDP   iperf3 with 64-byte datagrams offered as fast as the client can: datagrams delivered/s
 *   ping  idle RTT, median of 20 echo requests 50 ms apart
 * Targets for tunqos against the C loop: TCP ≥ 0.7×, UDP small-packet rate ≥ 0.6×, ping within 50 µs.
 *
 * Usage: npx tsx bench/e2e.ts [--quick] [--json]
 * The machine is shared: figures move with the load of other processes; compare columns of one run.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { canBuildTopology, createTopology, sweep, type Topology } from '../src/gateway/topology';
import { iperfTcp, iperfUdp, median, ping, startIperfServer } from '../src/gateway/iperf';
import { startTunloop, stopForwarder } from '../src/gateway/reference-loop';
import { startTunqos, type TunqosProcess } from '../src/gateway/tunqos-process';

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
const REPEATS = quick ? 1 : 3;
const TCP_SECONDS = quick ? 2 : 3;
const UDP_SECONDS = 2;
const PINGS = 20;

interface Figures {
  tcpBps: number;
  udpPps: number;
  udpLossPct: number;
  pingMs: number;
  /** CPU time of the forwarder process over the measurements, as a fraction of one core */
  forwarderCpu: number;
  runs: { tcpBps: number[]; udpPps: number[]; pingMs: number[] };
  error?: string;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** utime+stime of a process in seconds (0 when unknown). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

async function measure(topo: Topology, forwarder: ChildProcess | undefined): Promise<Figures> {
  const runs = { tcpBps: [] as number[], udpPps: [] as number[], pingMs: [] as number[] };
  const losses: number[] = [];
  const cpu0 = cpuSeconds(forwarder?.pid);
  const t0 = performance.now();
  for (let i = 0; i < REPEATS; i++) {
    const p = await ping(topo, { count: PINGS, interval: 0.05 });
    if (p.received < PINGS / 2) throw new Error(`ping: only ${p.received}/${p.transmitted} replies`);
    runs.pingMs.push(p.medianMs);
    runs.tcpBps.push((await iperfTcp(topo, { seconds: TCP_SECONDS })).goodputBps);
    const u = await iperfUdp(topo, { seconds: UDP_SECONDS, length: 64, bandwidth: '0' });
    runs.udpPps.push(u.deliveredPps);
    losses.push(u.lossPercent);
  }
  const wall = (performance.now() - t0) / 1000;
  return {
    tcpBps: median(runs.tcpBps),
    udpPps: median(runs.udpPps),
    udpLossPct: median(losses),
    pingMs: median(runs.pingMs),
    forwarderCpu: forwarder ? (cpuSeconds(forwarder.pid) - cpu0) / wall : NaN,
    runs,
  };
}

function failed(error: string): Figures {
  return { tcpBps: NaN, udpPps: NaN, udpLossPct: NaN, pingMs: NaN, forwarderCpu: NaN, runs: { tcpBps: [], udpPps: [], pingMs: [] }, error };
}

async function main(): Promise<void> {
  const can = canBuildTopology();
  if (!can.ok) {
    log(`bench/e2e: ${can.reason}; run as root: sudo npx tsx bench/e2e.ts`);
    process.exit(1);
  }
  const swept = sweep();
  if (swept.length) log(`removed leftovers: ${swept.join(' ')}`);

  const topo = createTopology({ mode: 'tun' });
  log(`topology ${topo.ns.gateway}: client ${topo.addr.client} → server ${topo.addr.server}; ${REPEATS}× (ping ${PINGS}, TCP ${TCP_SECONDS}s, UDP ${UDP_SECONDS}s) per path`);
  const results: Record<string, Figures> = {};
  const started = performance.now();
  try {
    const srv = await startIperfServer(topo);

    log('kernel forwarding …');
    topo.divert(false);
    results.kernel = await measure(topo, undefined);

    topo.divert(true);
    log('C loop …');
    const loop = await startTunloop(topo);
    results.cloop = await measure(topo, loop);
    await stopForwarder(topo, loop);

    for (const [key, egress] of [
      ['tunqosTun', 'tun'],
      ['tunqosRaw', 'raw'],
    ] as const) {
      log(`tunqos --egress ${egress} …`);
      let fwd: TunqosProcess | undefined;
      try {
        fwd = await startTunqos(topo, { egress });
        // Give the forwarder a moment past TUNSETIFF to arm its poll and egress.
        await new Promise((r) => setTimeout(r, 300));
        results[key] = await measure(topo, fwd.child);
      } catch (e) {
        const tail = fwd?.stderr().trim().split('\n').slice(-2).join(' | ');
        results[key] = failed(`${(e as Error).message}${tail ? ` [${tail}]` : ''}`);
        log(`  failed: ${results[key]!.error}`);
      } finally {
        if (fwd) await stopForwarder(topo, fwd.child).catch(() => fwd!.child.kill('SIGKILL'));
      }
    }
    srv.stop();
  } finally {
    topo.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  if (asJson) {
    process.stdout.write(`${JSON.stringify({ seconds, repeats: REPEATS, results }, null, 2)}\n`);
  } else {
    printTable(results, seconds);
  }
}

function fmtBps(v: number): string {
  return Number.isFinite(v) ? `${(v / 1e6).toFixed(0)} Mbit/s` : 'n/a';
}
function fmtPps(v: number): string {
  return Number.isFinite(v) ? `${(v / 1000).toFixed(1)} kpps` : 'n/a';
}
function fmtMs(v: number): string {
  return Number.isFinite(v) ? `${(v * 1000).toFixed(0)} µs` : 'n/a';
}
function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}
function deltaUs(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) ? `${((a - b) * 1000 >= 0 ? '+' : '')}${((a - b) * 1000).toFixed(0)} µs` : 'n/a';
}

function printTable(r: Record<string, Figures>, seconds: number): void {
  const k = r.kernel!;
  const c = r.cloop!;
  const t = r.tunqosTun ?? failed('not run');
  const w = r.tunqosRaw ?? failed('not run');
  const rows: string[][] = [
    ['', 'kernel', 'C loop', 'tunqos tun', 'vs C loop', 'tunqos raw', 'vs C loop', 'target'],
    ['TCP goodput', fmtBps(k.tcpBps), fmtBps(c.tcpBps), fmtBps(t.tcpBps), ratio(t.tcpBps, c.tcpBps), fmtBps(w.tcpBps), ratio(w.tcpBps, c.tcpBps), '≥ 0.70×'],
    ['UDP 64 B delivered', fmtPps(k.udpPps), fmtPps(c.udpPps), fmtPps(t.udpPps), ratio(t.udpPps, c.udpPps), fmtPps(w.udpPps), ratio(w.udpPps, c.udpPps), '≥ 0.60×'],
    ['ping median', fmtMs(k.pingMs), fmtMs(c.pingMs), fmtMs(t.pingMs), deltaUs(t.pingMs, c.pingMs), fmtMs(w.pingMs), deltaUs(w.pingMs, c.pingMs), '≤ +50 µs'],
    ['forwarder CPU', '-', pct(c.forwarderCpu), pct(t.forwarderCpu), '', pct(w.forwarderCpu), '', ''],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const out = rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  process.stdout.write(`\nend-to-end through the gateway (medians of ${REPEATS}; ${seconds.toFixed(0)} s total)\n`);
  process.stdout.write(`${out.join('\n')}\n`);
  for (const [name, f] of Object.entries(r)) {
    if (f.error) process.stdout.write(`${name}: ${f.error}\n`);
  }
  process.stdout.write(
    'runs: ' +
      Object.entries(r)
        .map(([name, f]) => `${name} tcp=[${f.runs.tcpBps.map((v) => (v / 1e6).toFixed(0)).join(',')}] udp=[${f.runs.udpPps.map((v) => (v / 1e3).toFixed(0)).join(',')}]`)
        .join('; ') +
      '\n',
  );
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(0)}%` : 'n/a';
}

await main();
