/**
 * The same tc script on the kernel and on tunqos, measured in turn on ONE topology, so the two
 * figures share the namespaces, the veths, the iperf3 processes and (as far as a shared machine
 * allows) the load.
 *
 * How one topology serves both: it is built in mode 'tun' with tunqos running on the TUN. For a
 * kernel measurement the diversion into the TUN is switched off (`topo.divert(false)`: the kernel
 * forwards client → server itself) and the script is applied with the kernel's tc on the gateway's
 * egress veth `gs`; for a tunqos measurement the kernel's qdisc is deleted again and the diversion
 * switched back on, so packets are shaped by tunqos only. Runs alternate kernel, tunqos, kernel, ...
 * and each side reports the median of its runs.
 *
 * What differs between the two, by construction: the kernel's HTB on a veth counts the 14-byte
 * Ethernet header in every packet's length, tunqos on a TUN counts the IP packet. For full-sized
 * packets tunqos therefore delivers 1514/1500 = 1.0093 × the kernel's goodput at the same rate.
 * Both sides see MTU-sized packets (`mtuSizedSends`): otherwise the kernel's HTB would be charged
 * TSO super-packets of up to 64 KB that cross the veth whole.
 */
import { iperfTcp, type IperfRun, type IperfServer, ping, type PingResult, startIperfServers } from './iperf';
import { applyKernelScript, clearKernelQdiscs } from './kernel-shaper';
import { KERNEL_DEVICES, renderScript, TUNQOS_DEVICES } from './script';
import { startShaper, type ShaperProcess } from './shaper-process';
import { median } from './stats';
import { mtuSizedSends } from './tcp-stack';
import { createTopology, IFACES, type Topology } from './topology';

/** TCP payload per full-sized IPv4 packet with timestamps: 1500 − 20 (IP) − 32 (TCP + options). */
export const TCP_PAYLOAD_PER_PACKET = 1448 / 1500;
/** what tunqos delivers relative to the kernel's HTB on a veth for 1500-byte packets */
export const ETHERNET_ACCOUNTING_RATIO = 1514 / 1500;

export type ShaperSide = 'kernel' | 'tunqos';

/** One topology, both shapers. */
export class Bench {
  private shaper: ShaperProcess | null = null;
  private script: string | null = null;

  private constructor(
    readonly topo: Topology,
    readonly servers: IperfServer[],
  ) {}

  /** Builds the topology (mode tun), MTU-sized sends, `servers` iperf3 servers from port 5201. */
  static async create(servers = 1): Promise<Bench> {
    const topo = createTopology({ mode: 'tun' });
    try {
      mtuSizedSends(topo);
      return new Bench(topo, await startIperfServers(topo, servers));
    } catch (e) {
      topo.destroy();
      throw e;
    }
  }

  /** Loads a script template ($DEV) for both sides: tunqos is (re)started with it. */
  async load(template: string): Promise<void> {
    await this.shaper?.stop();
    this.shaper = null;
    clearKernelQdiscs(this.topo, IFACES.gatewayServerSide);
    this.script = template;
    this.topo.divert(true);
    this.shaper = await startShaper(this.topo, renderScript(template, TUNQOS_DEVICES));
  }

  /** Routes traffic through `side` with the loaded script (kernel qdisc on gs, or the TUN). */
  use(side: ShaperSide): void {
    if (this.script === null) throw new Error('Bench.use before load');
    clearKernelQdiscs(this.topo, IFACES.gatewayServerSide);
    if (side === 'kernel') {
      this.topo.divert(false);
      applyKernelScript(this.topo, renderScript(this.script, KERNEL_DEVICES));
    } else {
      this.topo.divert(true);
    }
  }

  get tunqos(): ShaperProcess | null {
    return this.shaper;
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.stop();
    await this.shaper?.stop();
    this.topo.destroy();
  }
}

export interface SideFigures {
  runsBps: number[];
  medianBps: number;
}

export interface RateComparison {
  /** configured rate, bit/s */
  rateBps: number;
  kernel: SideFigures;
  tunqos: SideFigures;
  /** tunqos median / kernel median */
  ratio: number;
}

/**
 * A one-class HTB script: everything to 1:10 at `rate` (ceil = rate), default leaf (pfifo of
 * txqueuelen packets on both sides). A 100-packet pfifo leaf was tried to shorten the queue's drain
 * between runs, but with it the kernel's figures moved (1 mbit: 0.81 instead of 0.95 Mbit/s of
 * goodput, with the same commands) while tunqos's did not; the default leaf is the reference.
 */
export function oneClassHtb(rate: string): string {
  return ['tc qdisc add dev $DEV root handle 1: htb default 10', `tc class add dev $DEV parent 1: classid 1:10 htb rate ${rate}`].join('\n');
}

/**
 * iperf3 TCP goodput through a one-class HTB at `rate`, kernel and tunqos alternately, `runs` each.
 */
export async function compareHtbRate(bench: Bench, rate: string, rateBps: number, run: IperfRun, runs = 3): Promise<RateComparison> {
  await bench.load(oneClassHtb(rate));
  const k: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    bench.use('kernel');
    k.push((await iperfTcp(bench.topo, run)).goodputBps);
    bench.use('tunqos');
    t.push((await iperfTcp(bench.topo, run)).goodputBps);
  }
  const kernel = { runsBps: k, medianBps: median(k) };
  const tunqos = { runsBps: t, medianBps: median(t) };
  return { rateBps, kernel, tunqos, ratio: tunqos.medianBps / kernel.medianBps };
}

export interface LatencyFigures {
  idle: PingResult;
  loaded: PingResult;
  /** goodput of the bulk flow while pinging, bit/s */
  bulkBps: number;
}

/**
 * Ping idle, then ping while one bulk TCP flow saturates the shaper (the ping starts after the flow
 * has had `settle` seconds to fill the queue).
 */
export async function latencyUnderLoad(topo: Topology, opts: { pings?: number; interval?: number; seconds?: number; settle?: number; port?: number } = {}): Promise<LatencyFigures> {
  const pings = opts.pings ?? 20;
  const interval = opts.interval ?? 0.1;
  const settle = opts.settle ?? 1.5;
  const idle = await ping(topo, { count: pings, interval });
  const seconds = opts.seconds ?? Math.ceil(settle + pings * interval + 1);
  const bulk = iperfTcp(topo, { seconds, port: opts.port });
  await new Promise((r) => setTimeout(r, settle * 1000));
  const loaded = await ping(topo, { count: pings, interval });
  const b = await bulk;
  return { idle, loaded, bulkBps: b.goodputBps };
}
