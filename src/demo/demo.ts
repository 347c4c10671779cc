/**
 * `tunqos demo`: the whole promise in one command. It builds the client/gateway/server namespaces
 * (two TUNs: tqup carries the upload and is shaped by the egress tree, tqdn carries the download and
 * feeds tqup's ingress side), starts `tunqos run` in the gateway with configs/demo.tc (its device
 * name rewritten to tqup), and runs at the same time:
 *
 *   voice        iperf3 UDP at 2 Mbit/s marked DSCP EF (--tos 0xb8)        → 1:10 (prio 0)
 *   interactive  ping every 0.2 s (ICMP)                                     → 1:20
 *   bulk         iperf3 TCP, 3 parallel streams to port 5201                 → 1:30 (SFQ), default
 *   red/ecn      iperf3 TCP to port 5202, ECN negotiated (tcp_ecn=1)         → 1:40 (RED ecn: marks)
 *   download     iperf3 TCP server → client (-R), port 5204, only when the config has an ingress
 *                qdisc (then the topology has the second TUN and tunqos runs `--ingress tqup=tqdn`)
 *
 * Every second it reads the class counters over the control socket (`tc -s -j class show`) and
 * shows each class's rate (a redrawn block on a terminal, one line per second otherwise). At the end
 * it prints one table: class, configured rate and ceil, achieved rate, drops, RED marks, latency
 * (ping under load for the interactive class; EF jitter and loss for voice) and whether the class
 * met its configuration: never above 1.03 × ceil; when it was backlogged (had more demand than it
 * got) at least 0.9 × rate; otherwise it must have dropped nothing (it got everything it offered).
 * Teardown always runs: at the end, on an error, and on Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatRate } from '../time/units';
import { devicesOf, renameDevice } from '../testbed/script';
import { readClasses, readQdiscs, startShaper, type ShaperProcess } from '../testbed/shaper-process';
import type { ClassSample, QdiscSample } from '../testbed/tc-output';
import { iperfTcp, iperfUdp, ping, startIperfServers, type IperfServer, type PingResult, type TcpResult, type UdpResult } from '../testbed/iperf';
import { median } from '../testbed/stats';
import { setTcpEcn } from '../testbed/tcp-stack';
import { canBuildTopology, createTopology, IFACES, sweep, type Topology } from '../testbed/topology';

export const DEMO_CONFIG = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'configs', 'demo.tc');

/** Labels for the classes of configs/demo.tc (other configs show bare class ids). */
const LABELS: Record<string, string> = {
  '1:1': 'uplink',
  '1:10': 'voice (EF)',
  '1:20': 'interactive',
  '1:30': 'bulk (sfq)',
  '1:40': 'red/ecn',
  '2:1': 'downlink',
  '2:10': 'down web',
  '2:20': 'down other',
};

export interface DemoOptions {
  seconds: number;
  config?: string;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  /** aborts the run early (Ctrl-C): the demo stops its traffic, prints what it has, tears down */
  signal?: AbortSignal;
}

export interface ClassVerdict {
  handle: string;
  label: string;
  rateBps: number;
  ceilBps: number;
  achievedBps: number;
  drops: number;
  marks: number;
  backlogged: boolean;
  latency: string;
  met: boolean;
  why: string;
}

export interface DemoResult {
  classes: ClassVerdict[];
  ping?: PingResult;
  voice?: UdpResult;
  bulk?: TcpResult;
  ecn?: TcpResult;
  download?: TcpResult;
  interrupted: boolean;
  errors: string[];
}

const mbps = (bps: number): string => (Number.isFinite(bps) ? `${(bps / 1e6).toFixed(2)}` : '-');
const rateText = (bps: number): string => (Number.isFinite(bps) ? formatRate(bps / 8) : '-');

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** Sample of all classes at one instant. */
interface Tick {
  t: number;
  classes: ClassSample[];
}

/** Runs the demo; resolves with what it measured. Tears everything down before returning. */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const out = opts.out ?? process.stdout;
  const say = (s: string): void => void out.write(`${s}\n`);
  const can = canBuildTopology();
  if (!can.ok) throw new Error(`the demo builds network namespaces and TUN devices: ${can.reason} (run it as root)`);
  sweep();
  const seconds = Math.max(5, Math.round(opts.seconds));
  const configPath = opts.config ?? DEMO_CONFIG;
  const original = readFileSync(configPath, 'utf8');
  let text = original;
  for (const dev of devicesOf(original)) if (dev !== IFACES.tunUp) text = renameDevice(text, dev, IFACES.tunUp);

  const result: DemoResult = { classes: [], interrupted: false, errors: [] };
  let topo: Topology | null = null;
  let shaper: ShaperProcess | null = null;
  const servers: IperfServer[] = [];
  try {
    say(`tunqos demo: building client/gateway/server namespaces and starting tunqos with ${configPath} ...`);
    // The download direction goes through tunqos only when the config shapes it (an ingress qdisc);
    // otherwise an unshaped download at hundreds of Mbit/s would only flood the upload with ACKs.
    const ingress = /\bingress\b/.test(text.replace(/#.*$/gm, ''));
    topo = createTopology({ mode: 'tun', directions: ingress ? 'both' : 'up' });
    servers.push(...(await startIperfServers(topo, 4)));
    setTcpEcn(topo, 'client', 1);
    shaper = await startShaper(topo, text, { ingress });
    say(`  client ${topo.addr.client} → gateway (tunqos on ${IFACES.tunUp}${ingress ? `, ingress on ${IFACES.tunDown}` : ''}) → server ${topo.addr.server}`);
    say(`  traffic for ${seconds} s: voice EF UDP 2 Mbit/s, bulk TCP ×3, ECN TCP → RED${ingress ? ', a download' : ''}, ping`);
    if (opts.signal?.aborted) throw new Error('interrupted');

    const t = topo;
    const remember = <T>(p: Promise<T>, set: (v: T) => void, what: string): Promise<void> =>
      p.then(set, (e: Error) => void (opts.signal?.aborted ? undefined : result.errors.push(`${what}: ${e.message}`)));
    const traffic = Promise.all([
      remember(iperfTcp(t, { seconds, port: 5201, streams: 3 }), (v) => (result.bulk = v), 'bulk TCP'),
      remember(iperfTcp(t, { seconds, port: 5202 }), (v) => (result.ecn = v), 'ECN TCP'),
      remember(iperfUdp(t, { seconds, port: 5203, udpRate: '2M', tos: 0xb8 }), (v) => (result.voice = v), 'voice UDP'),
      ingress ? remember(iperfTcp(t, { seconds, port: 5204, reverse: true }), (v) => (result.download = v), 'download TCP') : Promise.resolve(),
      remember(ping(t, { count: Math.max(1, Math.floor((seconds - 1) / 0.2)), interval: 0.2 }), (v) => (result.ping = v), 'ping'),
    ]);
    let done = false;
    void traffic.finally(() => (done = true));

    const ticks: Tick[] = [];
    const start = performance.now();
    const live = new LiveView(out, seconds);
    while (!done && !opts.signal?.aborted) {
      await Promise.race([new Promise((r) => setTimeout(r, 1000)), traffic]);
      if (done || opts.signal?.aborted) break;
      try {
        const now = performance.now();
        ticks.push({ t: now, classes: await readClasses(shaper, IFACES.tunUp) });
        live.render((now - start) / 1000, ticks);
      } catch (e) {
        result.errors.push(`stats: ${(e as Error).message}`);
        break;
      }
    }
    live.finish();
    if (opts.signal?.aborted) {
      result.interrupted = true;
    } else {
      await traffic;
    }
    const qdiscs = await readQdiscs(shaper, IFACES.tunUp).catch(() => [] as QdiscSample[]);
    result.classes = verdicts(ticks, qdiscs, result);
  } catch (e) {
    if (opts.signal?.aborted) result.interrupted = true;
    else throw e;
  } finally {
    for (const s of servers) s.stop();
    await shaper?.stop();
    topo?.destroy();
  }
  return result;
}

/** The per-second view: a block redrawn in place on a terminal, a plain line otherwise. */
class LiveView {
  private lines = 0;
  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly seconds: number,
  ) {}

  render(elapsed: number, ticks: Tick[]): void {
    if (ticks.length < 2) return;
    const a = ticks[ticks.length - 2]!;
    const b = ticks[ticks.length - 1]!;
    const dt = (b.t - a.t) / 1000;
    const rates = b.classes.map((c) => {
      const prev = a.classes.find((p) => p.handle === c.handle);
      return { c, bps: prev ? ((c.bytes - prev.bytes) * 8) / dt : 0 };
    });
    if (!this.out.isTTY) {
      this.out.write(`t=${elapsed.toFixed(0)}s ${rates.map((r) => `${r.c.handle}=${mbps(r.bps)}`).join(' ')} (Mbit/s)\n`);
      return;
    }
    const rows = [`  ${pad('class', 7)}${pad('', 13)}${lpad('rate', 9)}${lpad('ceil', 9)}${lpad('now Mbit/s', 12)}  ${pad('', 20)} backlog`];
    for (const { c, bps } of rates) {
      const bar = Number.isFinite(c.ceilBps) && c.ceilBps > 0 ? '█'.repeat(Math.max(0, Math.min(20, Math.round((bps / c.ceilBps) * 20)))) : '';
      rows.push(`  ${pad(c.handle, 7)}${pad(LABELS[c.handle] ?? '', 13)}${lpad(rateText(c.rateBps), 9)}${lpad(rateText(c.ceilBps), 9)}${lpad(mbps(bps), 12)}  ${pad(bar, 20)} ${c.qlen}p`);
    }
    rows.push(`  ${elapsed.toFixed(0)}/${this.seconds} s`);
    if (this.lines > 0) this.out.write(`\x1b[${this.lines}A`);
    this.out.write(rows.map((r) => `\x1b[2K${r}\n`).join(''));
    this.lines = rows.length;
  }

  finish(): void {
    this.lines = 0;
  }
}

function verdicts(ticks: Tick[], qdiscs: QdiscSample[], r: DemoResult): ClassVerdict[] {
  if (ticks.length < 2) return [];
  // the achieved rate over the run, leaving the first second (connections opening) out
  const first = ticks.length > 3 ? ticks[1]! : ticks[0]!;
  const last = ticks[ticks.length - 1]!;
  const dt = (last.t - first.t) / 1000;
  return last.classes.map((c) => {
    const c0 = first.classes.find((p) => p.handle === c.handle);
    const achieved = c0 ? ((c.bytes - c0.bytes) * 8) / dt : NaN;
    const leafQ = c.leaf ? qdiscs.find((q) => q.handle === c.leaf) : undefined;
    const drops = Math.max(c.drops, leafQ?.drops ?? 0);
    const marks = leafQ?.marked ?? 0;
    // backlogged in most samples: it wanted more than it got
    const backlogSamples = ticks.slice(1).filter((t) => (t.classes.find((x) => x.handle === c.handle)?.qlen ?? 0) > 0).length;
    const backlogged = backlogSamples >= (ticks.length - 1) / 2;
    const inner = last.classes.some((x) => x.parent === c.handle);
    let latency = '';
    if (c.handle === '1:20' && r.ping) latency = `ping ${r.ping.medianMs.toFixed(2)} ms (max ${r.ping.maxMs.toFixed(1)}), ${r.ping.received}/${r.ping.transmitted}`;
    if (c.handle === '1:10' && r.voice) latency = `jitter ${r.voice.jitterMs.toFixed(2)} ms, loss ${r.voice.lossPercent.toFixed(2)}%`;
    const whys: string[] = [];
    let met = true;
    if (achieved > 1.03 * c.ceilBps) {
      met = false;
      whys.push(`above 1.03×ceil`);
    }
    if (!inner && backlogged && achieved < 0.9 * c.rateBps) {
      met = false;
      whys.push('backlogged but below 0.9×rate');
    }
    if (!inner && !backlogged && drops > 0 && marks === 0 && achieved < 0.9 * c.rateBps) {
      met = false;
      whys.push('dropped while under its rate');
    }
    if (met) whys.push(inner ? '≤ ceil' : backlogged ? '≥ 0.9×rate, ≤ ceil' : 'got its demand, ≤ ceil');
    return { handle: c.handle, label: LABELS[c.handle] ?? '', rateBps: c.rateBps, ceilBps: c.ceilBps, achievedBps: achieved, drops, marks, backlogged, latency, met, why: whys.join('; ') };
  });
}

/** The final table, as text. */
export function formatDemoTable(r: DemoResult): string {
  const head = `${pad('class', 7)}${pad('', 13)}${lpad('rate', 9)}${lpad('ceil', 9)}${lpad('achieved', 10)}${lpad('drops', 7)}${lpad('marks', 7)}  ${pad('latency', 40)} met`;
  const rows = r.classes.map(
    (c) =>
      `${pad(c.handle, 7)}${pad(c.label, 13)}${lpad(rateText(c.rateBps), 9)}${lpad(rateText(c.ceilBps), 9)}${lpad(`${mbps(c.achievedBps)}M`, 10)}${lpad(String(c.drops), 7)}${lpad(String(c.marks), 7)}  ${pad(c.latency, 40)} ${c.met ? 'yes' : 'NO'} (${c.why})`,
  );
  const lines = [head, ...rows];
  const flows: string[] = [];
  if (r.bulk) flows.push(`bulk TCP ×3 ${mbps(r.bulk.goodputBps)} Mbit/s (streams ${r.bulk.perStreamBps.map(mbps).join(', ')})`);
  if (r.ecn) flows.push(`ECN TCP ${mbps(r.ecn.goodputBps)} Mbit/s`);
  if (r.voice) flows.push(`voice ${mbps(r.voice.deliveredBps)} Mbit/s delivered`);
  if (r.download) flows.push(`download ${mbps(r.download.goodputBps)} Mbit/s`);
  if (r.ping) flows.push(`ping median ${median(r.ping.rttsMs).toFixed(2)} ms`);
  if (flows.length) lines.push('', `goodput: ${flows.join('; ')}`);
  for (const e of r.errors) lines.push(`error: ${e}`);
  if (r.interrupted) lines.push('interrupted: figures cover the part that ran');
  return `${lines.join('\n')}\n`;
}
