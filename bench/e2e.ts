/**
 * End-to-end benchmark (root): one client/gateway/server topology, four forwarding paths through the
 * gateway, the same three measurements on each, one table.
 *
 *   kernel      the kernel forwards client→server itself (no TUN in the path)
 *   C loop      traffic is routed into a TUN; bench/tunloop.c reads each packet and writes it back:
 *               the user-space floor — what any TUN forwarder costs before doing anything
 *   tunqos tun  `tunqos run --dev tqup --egress tun` in place of the C loop
 *   tunqos raw  `tunqos run --dev tqup --egress raw:gs`: read from the TUN, send by a raw socket
 *   tunqos tun, keep-warm off   the first again with `--keep-warm off`: what the default keep-warm
 *               ticks (src/forwarder/wakeup.ts) buy for a lone packet, and what they cost
 *
 * All stay ready at once (the C loop on tqup, the tunqos processes on spare TUNs tqu1..tqu3) and the
 * client→server route is moved from one to the next, round after round, so every path sees the same
 * machine load (the machine is shared) and every forwarder is warm.
 *
 * Measurements (one per round, the median of the rounds reported):
 *   TCP   iperf3, 1 stream, goodput at the receiver
 *   UDP   iperf3 with 64-byte datagrams offered as fast as the client can: datagrams delivered/s
 *   ping  idle RTT, median of 40 echo requests 50 ms apart; and the same 2 ms apart, which shows
 *         the per-packet cost without the wake-up of cold CPUs and caches; and the forwarder's CPU
 *         time during the idle pings (the price of keep-warm)
 * Targets for tunqos against the C loop: TCP ≥ 0.7×, UDP small-packet rate ≥ 0.6×, ping within 50 µs.
 *
 * Usage: npx tsx bench/e2e.ts [--quick] [--json] [--shaping]   (--shaping: then HTB vs the kernel and latency under load)
 * The machine is shared: figures move with the load of other processes; compare columns of one run.
 */
import { processCpuNanos } from '../src/testbed/cpu-time';
import { canBuildTopology, createTopology, sweep, type Topology } from '../src/testbed/topology';
import { iperfTcp, iperfUdp, ping, startIperfServer } from '../src/testbed/iperf';
import { median } from '../src/testbed/stats';
import { startTunloop } from '../src/testbed/reference-loop';
import { startTunqos, type TunqosProcess } from '../src/testbed/tunqos-process';

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
const REPEATS = quick ? 1 : 3;
const TCP_SECONDS = quick ? 2 : 3;
const UDP_SECONDS = 2;
const PINGS = 40;
const BUSY_PINGS = 100;

interface Figures {
  tcpBps: number;
  udpPps: number;
  udpLossPct: number;
  /** idle ping: 50 ms between requests (CPUs and caches go cold in between) */
  pingMs: number;
  /** busy ping: 2 ms between requests (the per-packet cost without the cold wake-up) */
  busyPingMs: number;
  /** CPU time of the forwarder process during its measurements, as a fraction of one core */
  forwarderCpu: number;
  /** the same during the idle pings only */
  idleCpu: number;
  runs: { tcpBps: number[]; udpPps: number[]; pingMs: number[]; busyPingMs: number[]; udpLossPct: number[]; idleCpu: number[] };
  error?: string;
}

/** One forwarding path: where client→server traffic is routed and who (if anyone) forwards it. */
interface Path {
  key: string;
  label: string;
  /** TUN to route client→server traffic into; null for the kernel's own forwarding */
  dev: string | null;
  pid?: number;
  cpuSeconds: number;
  wallSeconds: number;
  runs: Figures['runs'];
  error?: string;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** One round of the three measurements on the path the topology currently routes through. */
async function measureOnce(topo: Topology, path: Path): Promise<void> {
  const cpu0 = processCpuNanos(path.pid);
  const t0 = performance.now();
  const p = await ping(topo, { count: PINGS, interval: 0.05 });
  if (p.received < PINGS / 2) throw new Error(`ping: only ${p.received}/${p.transmitted} replies`);
  path.runs.pingMs.push(p.medianMs);
  path.runs.idleCpu.push((processCpuNanos(path.pid) - cpu0) / 1e6 / (performance.now() - t0));
  path.runs.tcpBps.push((await iperfTcp(topo, { seconds: TCP_SECONDS })).goodputBps);
  const u = await iperfUdp(topo, { seconds: UDP_SECONDS, length: 64, udpRate: '0' });
  path.runs.udpPps.push(u.deliveredPps);
  path.runs.udpLossPct.push(u.lossPercent);
  const busy = await ping(topo, { count: BUSY_PINGS, interval: 0.002 });
  path.runs.busyPingMs.push(busy.medianMs);
  path.wallSeconds += (performance.now() - t0) / 1000;
  path.cpuSeconds += (processCpuNanos(path.pid) - cpu0) / 1e9;
}

function figures(path: Path): Figures {
  const r = path.runs;
  return {
    tcpBps: median(r.tcpBps),
    udpPps: median(r.udpPps),
    udpLossPct: median(r.udpLossPct),
    pingMs: median(r.pingMs),
    busyPingMs: median(r.busyPingMs),
    forwarderCpu: path.pid && path.wallSeconds > 0 ? path.cpuSeconds / path.wallSeconds : NaN,
    idleCpu: path.pid ? median(r.idleCpu) : NaN,
    runs: r,
    error: path.error,
  };
}

async function main(): Promise<void> {
  const can = canBuildTopology();
  if (!can.ok) {
    log(`bench/e2e: ${can.reason}; run as root: sudo npx tsx bench/e2e.ts`);
    process.exit(1);
  }
  const swept = sweep();
  if (swept.length) log(`removed leftovers: ${swept.join(' ')}`);

  // tqup for the C loop, tqu1 for tunqos --egress tun, tqu2 for tunqos --egress raw, tqu3 for tunqos
  // --egress tun --keep-warm off: all stay attached, and each round moves the client→server route from one to the next, so every path is
  // measured under the same (shared, fluctuating) machine load and with its forwarder warm.
  const topo = createTopology({ mode: 'kernel', spareTuns: 3 });
  const [tunTun, tunRaw, tunCold] = topo.spareTuns as [string, string, string];
  log(`topology ${topo.ns.gateway}: client ${topo.addr.client} → server ${topo.addr.server}; ${REPEATS} interleaved rounds of (ping ${PINGS} @50 ms, TCP ${TCP_SECONDS} s, UDP ${UDP_SECONDS} s, ping ${BUSY_PINGS} @2 ms)`);
  const newRuns = (): Figures['runs'] => ({ tcpBps: [], udpPps: [], pingMs: [], busyPingMs: [], udpLossPct: [], idleCpu: [] });
  const paths: Path[] = [
    { key: 'kernel', label: 'kernel', dev: null, cpuSeconds: 0, wallSeconds: 0, runs: newRuns() },
    { key: 'cloop', label: 'C loop', dev: topo.tuns[0]!, cpuSeconds: 0, wallSeconds: 0, runs: newRuns() },
    { key: 'tunqosTun', label: 'tunqos --egress tun', dev: tunTun, cpuSeconds: 0, wallSeconds: 0, runs: newRuns() },
    { key: 'tunqosRaw', label: `tunqos --egress raw:${topo.rawEgress}`, dev: tunRaw, cpuSeconds: 0, wallSeconds: 0, runs: newRuns() },
    { key: 'tunqosCold', label: 'tunqos --egress tun --keep-warm off', dev: tunCold, cpuSeconds: 0, wallSeconds: 0, runs: newRuns() },
  ];
  const procs: TunqosProcess[] = [];
  const started = performance.now();
  try {
    const srv = await startIperfServer(topo);
    paths[1]!.pid = (await startTunloop(topo, paths[1]!.dev!)).pid;
    for (const [path, egress, extra] of [
      [paths[2]!, 'tun', []],
      [paths[3]!, 'raw', []],
      [paths[4]!, 'tun', ['--keep-warm', 'off']],
    ] as const) {
      try {
        const proc = await startTunqos(topo, { egress, devs: [path.dev!], extra });
        procs.push(proc);
        path.pid = proc.child.pid;
      } catch (e) {
        path.error = (e as Error).message;
        log(`${path.label}: ${path.error}`);
      }
    }
    // Warm-up: one short TCP transfer through every forwarder (JIT, caches, ARP, socket buffers).
    for (const path of paths) {
      if (path.error) continue;
      topo.routeUpInto(path.dev);
      await iperfTcp(topo, { seconds: 1 }).catch(() => undefined);
    }
    for (let round = 1; round <= REPEATS; round++) {
      for (const path of paths) {
        if (path.error) continue;
        log(`round ${round}/${REPEATS}: ${path.label} …`);
        topo.routeUpInto(path.dev);
        try {
          await measureOnce(topo, path);
        } catch (e) {
          path.error = (e as Error).message;
          log(`  failed: ${path.error}`);
        }
      }
    }
    srv.stop();
  } finally {
    topo.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const results: Record<string, Figures> = {};
  for (const path of paths) results[path.key] = figures(path);
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
  const t = r.tunqosTun!;
  const w = r.tunqosRaw!;
  const o = r.tunqosCold!;
  const rows: string[][] = [
    ['', 'kernel', 'C loop', 'tunqos tun', 'vs C loop', 'tunqos raw', 'vs C loop', 'target', 'tun, keep-warm off', 'vs C loop'],
    ['TCP goodput', fmtBps(k.tcpBps), fmtBps(c.tcpBps), fmtBps(t.tcpBps), ratio(t.tcpBps, c.tcpBps), fmtBps(w.tcpBps), ratio(w.tcpBps, c.tcpBps), '≥ 0.70×', fmtBps(o.tcpBps), ratio(o.tcpBps, c.tcpBps)],
    ['UDP 64 B delivered', fmtPps(k.udpPps), fmtPps(c.udpPps), fmtPps(t.udpPps), ratio(t.udpPps, c.udpPps), fmtPps(w.udpPps), ratio(w.udpPps, c.udpPps), '≥ 0.60×', fmtPps(o.udpPps), ratio(o.udpPps, c.udpPps)],
    ['ping median, idle', fmtMs(k.pingMs), fmtMs(c.pingMs), fmtMs(t.pingMs), deltaUs(t.pingMs, c.pingMs), fmtMs(w.pingMs), deltaUs(w.pingMs, c.pingMs), '≤ +50 µs', fmtMs(o.pingMs), deltaUs(o.pingMs, c.pingMs)],
    ['ping median, 2 ms apart', fmtMs(k.busyPingMs), fmtMs(c.busyPingMs), fmtMs(t.busyPingMs), deltaUs(t.busyPingMs, c.busyPingMs), fmtMs(w.busyPingMs), deltaUs(w.busyPingMs, c.busyPingMs), '', fmtMs(o.busyPingMs), deltaUs(o.busyPingMs, c.busyPingMs)],
    ['UDP 64 B loss', pctOf(k.udpLossPct), pctOf(c.udpLossPct), pctOf(t.udpLossPct), '', pctOf(w.udpLossPct), '', '', pctOf(o.udpLossPct), ''],
    ['forwarder CPU', '-', pct(c.forwarderCpu), pct(t.forwarderCpu), '', pct(w.forwarderCpu), '', '', pct(o.forwarderCpu), ''],
    ['forwarder CPU, idle pings', '-', pct1(c.idleCpu), pct1(t.idleCpu), '', pct1(w.idleCpu), '', '', pct1(o.idleCpu), ''],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const out = rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  process.stdout.write(`\nend-to-end through the gateway (medians of ${REPEATS} interleaved rounds; ${seconds.toFixed(0)} s total)\n`);
  process.stdout.write(`${out.join('\n')}\n`);
  for (const [name, f] of Object.entries(r)) {
    if (f.error) process.stdout.write(`${name}: ${f.error}\n`);
  }
  const list = (v: number[], f: (x: number) => string): string => `[${v.map(f).join(',')}]`;
  process.stdout.write(
    'runs: ' +
      Object.entries(r)
        .map(
          ([name, f]) =>
            `${name} tcp=${list(f.runs.tcpBps, (v) => (v / 1e6).toFixed(0))} udp=${list(f.runs.udpPps, (v) => (v / 1e3).toFixed(0))} idle-ping-µs=${list(f.runs.pingMs, (v) => (v * 1000).toFixed(0))}`,
        )
        .join('; ') +
      '\n',
  );
}

function pctOf(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(0)}%` : 'n/a';
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(0)}%` : 'n/a';
}

function pct1(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a';
}

await main();

// `--shaping`: in the same run, the same HTB rates on the kernel's HTB and on tunqos side by side, and
// latency under load (bench/shaping.ts, which also runs alone).
if (process.argv.includes('--shaping')) {
  const { shapingReport } = await import('./shaping');
  process.stdout.write(`\n${await shapingReport()}`);
}
