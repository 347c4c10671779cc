/**
 * The traffic of the demo and the shaping tests: several iperf3 tests at once (each needs its own
 * server port: an iperf3 server runs one test at a time), marked with a TOS byte, with ECN on or off,
 * reduced to per-stream figures; and ping under load.
 *
 * Figures:
 *  - TCP: goodput per stream and summed, as the receiver counted it (`end.streams[i].receiver`),
 *    so fairness between streams of one test can be computed (iperf3 -P N).
 *  - UDP: what the receiver got (packets − lost), loss and jitter as the server measured them.
 * iperf3 `--tos 0xb8` marks DSCP EF (46 << 2); `-O 1` omits the first second (slow start) from the
 * figures, which keeps short runs honest.
 */
import { IPERF_PORT, type IperfServer, parseUdp, startIperfServer, type UdpResult } from './iperf';
import type { Topology } from './topology';

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

export interface TcpStreams {
  /** receiver goodput of each stream, bit/s */
  perStreamBps: number[];
  goodputBps: number;
  retransmits: number;
  seconds: number;
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

export function parseTcpStreams(j: Record<string, any>): TcpStreams {
  const streams = (j.end?.streams ?? []) as Array<Record<string, any>>;
  const perStreamBps = streams.map((s) => Number(s.receiver?.bits_per_second ?? 0));
  const recv = j.end?.sum_received;
  const sent = j.end?.sum_sent;
  if (!recv) throw new Error('iperf3 TCP JSON without end.sum_received');
  return {
    perStreamBps,
    goodputBps: Number(recv.bits_per_second),
    retransmits: Number(sent?.retransmits ?? 0),
    seconds: Number(recv.seconds),
  };
}

export async function runTcp(topo: Topology, r: IperfRun): Promise<TcpStreams> {
  return parseTcpStreams(await iperfJson(topo, r));
}

export interface UdpFigures extends UdpResult {
  /** bits per second the receiver got */
  deliveredBps: number;
}

export async function runUdp(topo: Topology, r: IperfRun & { udpRate: string }): Promise<UdpFigures> {
  const j = await iperfJson(topo, r);
  const u = parseUdp(j);
  const recvBytes = Number(j.end?.sum_received?.bytes ?? NaN);
  const len = Number(j.start?.test_start?.blksize ?? r.length ?? 1448);
  const delivered = Number.isFinite(recvBytes) ? (recvBytes * 8) / u.seconds : ((u.packets - u.lost) * len * 8) / u.seconds;
  return { ...u, deliveredBps: delivered };
}

/** Turns TCP ECN negotiation on (1) or off (0) in a namespace (per-namespace sysctl). */
export function setTcpEcn(topo: Topology, where: 'client' | 'server', value: 0 | 1 | 2): void {
  topo.exec(where, ['sysctl', '-qw', `net.ipv4.tcp_ecn=${value}`]);
}

/**
 * Makes the client (and server) TCP stacks send MTU-sized packets (`gso_max_segs 1` on their veth).
 * Without it a TSO super-packet of up to 64 KB crosses the veth into the gateway intact, and the
 * kernel's HTB there charges it as one lump (its rate becomes coarse at a few mbit), while a TUN
 * always hands tunqos single packets. With it, both shapers see the same packets.
 */
export function mtuSizedSends(topo: Topology): void {
  topo.exec('client', ['ip', 'link', 'set', 'dev', topo.ifaces.client, 'gso_max_segs', '1']);
  topo.exec('server', ['ip', 'link', 'set', 'dev', topo.ifaces.server, 'gso_max_segs', '1']);
}
