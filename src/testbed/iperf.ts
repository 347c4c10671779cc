/**
 * iperf3 and ping through a Topology: an iperf3 server in the server namespace, clients in the
 * client namespace with JSON output (`-J`) reduced to the figures the tests and the benchmark use.
 *
 * - TCP: goodput = bits/s the receiver got (`end.sum_received`), plus sender retransmits.
 * - UDP: packets the server received per second = (packets − lost) / seconds, with loss and jitter
 *   as the server reports them (iperf3 ≥ 3.1 sends the server's figures back to the client).
 * - ping: per-reply RTTs parsed from each `time=… ms` line, so the median is exact, not the `avg`.
 */
import type { ChildProcess } from 'node:child_process';
import type { Topology } from './topology';

export const IPERF_PORT = 5201;

export interface TcpResult {
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

export interface IperfClientOptions {
  seconds: number;
  port?: number;
  /** server → client instead of client → server */
  reverse?: boolean;
  /** parallel streams (TCP) */
  streams?: number;
}

async function iperfClient(topo: Topology, extra: string[], opts: IperfClientOptions): Promise<Record<string, any>> {
  const argv = ['iperf3', '-c', topo.addr.server, '-p', String(opts.port ?? IPERF_PORT), '-t', String(opts.seconds), '-J', ...extra];
  if (opts.reverse) argv.push('-R');
  // Generous timeout: connection setup, the test itself, and the result exchange.
  const r = await topo.execAsync('client', argv, opts.seconds * 1000 + 15_000);
  let json: Record<string, any>;
  try {
    json = JSON.parse(r.stdout) as Record<string, any>;
  } catch {
    throw new Error(`iperf3 gave no JSON (exit ${r.code}, signal ${r.signal}): ${r.stderr.trim() || r.stdout.slice(0, 300)}`);
  }
  if (json.error) throw new Error(`iperf3: ${json.error}`);
  return json;
}

/** One TCP test; throws if iperf3 fails. */
export async function iperfTcp(topo: Topology, opts: IperfClientOptions): Promise<TcpResult> {
  const extra = opts.streams && opts.streams > 1 ? ['-P', String(opts.streams)] : [];
  const j = await iperfClient(topo, extra, opts);
  return parseTcp(j);
}

export function parseTcp(j: Record<string, any>): TcpResult {
  const recv = j.end?.sum_received;
  const sent = j.end?.sum_sent;
  if (!recv || !sent) throw new Error('iperf3 TCP JSON without end.sum_received/sum_sent');
  return {
    goodputBps: Number(recv.bits_per_second),
    sentBps: Number(sent.bits_per_second),
    retransmits: Number(sent.retransmits ?? 0),
    seconds: Number(recv.seconds),
  };
}

export interface UdpOptions extends IperfClientOptions {
  /** datagram payload length in bytes (iperf3 -l); 64 for a small-packet rate test */
  length?: number;
  /** offered rate, iperf3 -b syntax ('0' = as fast as possible) */
  bandwidth?: string;
}

/** One UDP test; throws if iperf3 fails. */
export async function iperfUdp(topo: Topology, opts: UdpOptions): Promise<UdpResult> {
  const extra = ['-u', '-b', opts.bandwidth ?? '0'];
  if (opts.length) extra.push('-l', String(opts.length));
  const j = await iperfClient(topo, extra, opts);
  return parseUdp(j);
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

/** Median of a list of numbers (NaN for an empty list). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
