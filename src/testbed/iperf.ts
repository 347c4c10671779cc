/**
 * iperf3 and ping through a Topology, the one traffic layer of the testbed: iperf3 servers in the
 * server namespace (one per port: a server runs one test at a time, so concurrent tests need their
 * own ports), clients in the client namespace with JSON output (`-J`) reduced to the figures the
 * tests, the demo and the benchmarks use.
 *
 * - TCP: goodput = bits/s the receiver got (`end.sum_received`), per stream too
 *   (`end.streams[i].receiver`, so fairness between the streams of one `-P N` test can be computed),
 *   plus the sender's rate and retransmits.
 * - UDP: packets the server received per second = (packets − lost) / seconds, with loss and jitter
 *   as the server reports them (iperf3 ≥ 3.1 sends the server's figures back to the client), and the
 *   bits per second delivered.
 * - ping: per-reply RTTs parsed from each `time=… ms` line, so the median is exact, not the `avg`.
 * iperf3 `--tos 0xb8` marks DSCP EF (46 << 2); `-O 1` omits the first second (slow start) from the
 * figures, which keeps short runs honest.
 */
import type { ChildProcess } from 'node:child_process';
import { median } from './stats';
import type { Topology } from './topology';

export const IPERF_PORT = 5201;

export interface TcpResult {
  /** receiver goodput of each stream, bit/s */
  perStreamBps: number[];
  /** bits per second received by the server */
  goodputBps: number;
  /** bits per second sent by the client */
  sentBps: number;
  retransmits: number;
  seconds: number;
}

export interface UdpResult {
  /** datagrams the sender sent */
  packets: number;
  /** datagrams lost (as the receiver counted them) */
  lost: number;
  /** datagrams received per second */
  deliveredPps: number;
  lossPercent: number;
  jitterMs: number;
  seconds: number;
  /** bits per second the sender offered */
  sentBps: number;
  /** bits per second the receiver got (iperfUdp fills it; parseUdp alone leaves it NaN) */
  deliveredBps: number;
}

export interface PingResult {
  transmitted: number;
  received: number;
  /** RTTs of the replies, in milliseconds, in arrival order */
  rttsMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export class IperfServer {
  constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  stop(): void {
    try {
      this.child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * Starts `iperf3 -s` in the server namespace and waits until it listens. The process is tracked by
 * the topology, so destroy() kills it if stop() is never called.
 */
export async function startIperfServer(topo: Topology, port = IPERF_PORT, timeoutMs = 10_000): Promise<IperfServer> {
  const child = topo.spawnIn('server', ['iperf3', '-s', '-p', String(port)], { stdio: 'ignore' });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = topo.exec('server', ['ss', '-Hltn', `sport = :${port}`]);
    if (out.trim().length > 0) return new IperfServer(child, port);
    if (child.exitCode !== null) throw new Error(`iperf3 server exited with code ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`iperf3 server in ${topo.ns.server} did not listen on ${port} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts one iperf3 server per port in the server namespace. */
export async function startIperfServers(topo: Topology, count: number, firstPort = IPERF_PORT): Promise<IperfServer[]> {
  const servers: IperfServer[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await startIperfServer(topo, firstPort + i));
  } catch (e) {
    for (const s of servers) s.stop();
    throw e;
  }
  return servers;
}

export interface IperfRun {
  /** server port (one test per port at a time) */
  port?: number;
  seconds: number;
  /** seconds omitted at the start (-O) */
  omit?: number;
  /** TOS byte, e.g. 0xb8 for EF */
  tos?: number;
  /** parallel TCP streams (-P) */
  streams?: number;
  /** UDP at this rate (iperf3 -b syntax, e.g. '2M'); TCP when absent */
  udpRate?: string;
  /** UDP payload length (-l) */
  length?: number;
  /** TCP: send at most this rate per stream (iperf3 -b) */
  tcpRate?: string;
  /** server → client (-R) */
  reverse?: boolean;
}

function argvOf(topo: Topology, r: IperfRun): string[] {
  const argv = ['iperf3', '-c', topo.addr.server, '-p', String(r.port ?? IPERF_PORT), '-t', String(r.seconds), '-J'];
  if (r.omit) argv.push('-O', String(r.omit));
  if (r.tos !== undefined) argv.push('--tos', `0x${r.tos.toString(16)}`);
  if (r.streams && r.streams > 1) argv.push('-P', String(r.streams));
  if (r.udpRate !== undefined) argv.push('-u', '-b', r.udpRate);
  else if (r.tcpRate !== undefined) argv.push('-b', r.tcpRate);
  if (r.length) argv.push('-l', String(r.length));
  if (r.reverse) argv.push('-R');
  return argv;
}

/**
 * Runs one iperf3 client and returns its JSON (throws with iperf3's message on failure). A server
 * still finishing the previous test (at a few mbit the shaper's queue takes seconds to drain) answers
 * "busy": that is retried for up to `busyWaitMs`.
 */
export async function iperfJson(topo: Topology, r: IperfRun, busyWaitMs = 15_000): Promise<Record<string, any>> {
  const deadline = Date.now() + busyWaitMs;
  for (;;) {
    try {
      return await iperfOnce(topo, r);
    } catch (e) {
      if (!/busy/.test((e as Error).message) || Date.now() > deadline) throw e;
      await new Promise((res) => setTimeout(res, 500));
    }
  }
}

async function iperfOnce(topo: Topology, r: IperfRun): Promise<Record<string, any>> {
  const res = await topo.execAsync('client', argvOf(topo, r), (r.seconds + (r.omit ?? 0)) * 1000 + 20_000);
  let json: Record<string, any>;
  try {
    json = JSON.parse(res.stdout) as Record<string, any>;
  } catch {
    throw new Error(`iperf3 gave no JSON (exit ${res.code}, signal ${res.signal}): ${res.stderr.trim() || res.stdout.slice(0, 300)}`);
  }
  if (json.error) throw new Error(`iperf3 (port ${r.port ?? IPERF_PORT}): ${json.error}`);
  return json;
}

/** One TCP test; throws if iperf3 fails. */
export async function iperfTcp(topo: Topology, r: IperfRun): Promise<TcpResult> {
  return parseTcp(await iperfJson(topo, r));
}

export function parseTcp(j: Record<string, any>): TcpResult {
  const streams = (j.end?.streams ?? []) as Array<Record<string, any>>;
  const recv = j.end?.sum_received;
  const sent = j.end?.sum_sent;
  if (!recv) throw new Error('iperf3 TCP JSON without end.sum_received');
  return {
    perStreamBps: streams.map((s) => Number(s.receiver?.bits_per_second ?? 0)),
    goodputBps: Number(recv.bits_per_second),
    sentBps: Number(sent?.bits_per_second ?? NaN),
    retransmits: Number(sent?.retransmits ?? 0),
    seconds: Number(recv.seconds),
  };
}

/** One UDP test at `r.udpRate` (iperf3 -b syntax, '0' = as fast as possible); throws if iperf3 fails. */
export async function iperfUdp(topo: Topology, r: IperfRun & { udpRate: string }): Promise<UdpResult> {
  const j = await iperfJson(topo, r);
  const u = parseUdp(j);
  const recvBytes = Number(j.end?.sum_received?.bytes ?? NaN);
  const len = Number(j.start?.test_start?.blksize ?? r.length ?? 1448);
  u.deliveredBps = Number.isFinite(recvBytes) ? (recvBytes * 8) / u.seconds : ((u.packets - u.lost) * len * 8) / u.seconds;
  return u;
}

export function parseUdp(j: Record<string, any>): UdpResult {
  // iperf3 3.12: end.sum holds the receiver's view (packets sent, lost_packets as the server
  // counted them, jitter); newer versions also give end.sum_received. Prefer the explicit one.
  const sum = j.end?.sum;
  if (!sum) throw new Error('iperf3 UDP JSON without end.sum');
  const recv = j.end?.sum_received;
  const packets = Number(sum.packets);
  const lost = Number(recv?.lost_packets ?? sum.lost_packets ?? 0);
  const seconds = Number(recv?.seconds ?? sum.seconds);
  const delivered = recv?.packets !== undefined && recv.lost_packets !== undefined ? Number(recv.packets) - Number(recv.lost_packets) : packets - lost;
  return {
    packets,
    lost,
    deliveredPps: seconds > 0 ? delivered / seconds : 0,
    lossPercent: Number(recv?.lost_percent ?? sum.lost_percent ?? 0),
    jitterMs: Number(recv?.jitter_ms ?? sum.jitter_ms ?? 0),
    seconds,
    sentBps: Number(j.end?.sum_sent?.bits_per_second ?? sum.bits_per_second),
    deliveredBps: NaN,
  };
}

export interface PingOptions {
  count: number;
  /** seconds between requests (root may go below 0.2) */
  interval?: number;
  /** payload bytes (ping -s) */
  size?: number;
  /** seconds to wait for the last reply */
  deadline?: number;
  /** destination; defaults to the server */
  to?: string;
  from?: 'client' | 'server';
}

/** Pings from the client (default) to the server; never throws on loss (received tells). */
export async function ping(topo: Topology, opts: PingOptions): Promise<PingResult> {
  const interval = opts.interval ?? 0.2;
  const deadline = opts.deadline ?? Math.ceil(opts.count * interval + 2);
  const argv = ['ping', '-n', '-c', String(opts.count), '-i', String(interval), '-w', String(deadline), '-W', '1'];
  if (opts.size !== undefined) argv.push('-s', String(opts.size));
  argv.push(opts.to ?? (opts.from === 'server' ? topo.addr.client : topo.addr.server));
  const r = await topo.execAsync(opts.from ?? 'client', argv, (deadline + 5) * 1000);
  return parsePing(r.stdout);
}

export function parsePing(text: string): PingResult {
  const rtts: number[] = [];
  for (const m of text.matchAll(/time=([0-9.]+) ms/g)) rtts.push(Number(m[1]));
  const stats = /(\d+) packets transmitted, (\d+) received/.exec(text);
  const sorted = [...rtts].sort((x, y) => x - y);
  return {
    transmitted: stats ? Number(stats[1]) : 0,
    received: stats ? Number(stats[2]) : rtts.length,
    rttsMs: rtts,
    medianMs: median(sorted),
    minMs: sorted.length ? sorted[0]! : NaN,
    maxMs: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}
