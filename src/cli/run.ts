/**
 * `tunqos run`: attach to TUN devices and forward (shape) until SIGINT/SIGTERM.
 *
 *   tunqos run --dev NAME [--dev NAME2 ...] [--egress tun|raw:IFACE] [-c FILE] [--control PATH] [--metrics HOST:PORT]
 *
 * For each --dev: open (creating if absent) the TUN, `ip link set dev NAME up txqueuelen 1000`, build
 * its tree (`treeFor`: the one place that decides what shapes a device; the default is a pfifo of
 * txqueuelen packets, as Linux gives a device without configuration), and start a Forwarder reading
 * the TUN and writing back into it (egress `tun`) or out of a raw socket bound to IFACE (`raw:IFACE`).
 * On a signal: stop every forwarder, close the devices and print ONE summary line on stdout
 * (packets, bytes, drops by reason). Logs go to stderr (src/cli/log.ts).
 *
 * Exit codes: 0 after a clean stop; 1 when a device cannot be opened (in use: EBUSY; invalid name;
 * no permission); 2 for a usage error.
 */
import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { Forwarder, type QdiscTree, defaultTree } from '../forwarder';
import type { Link } from '../link/link';
import type { NativeError } from '../link/native';
import { RawEgress } from '../link/raw';
import { TimerfdTimer } from '../link/timerfd';
import { TunLink } from '../link/tun';
import { Arena } from '../packet/arena';
import { DEFAULT_TXQUEUELEN, createQdiscEnv } from '../qdisc/env';
import type { QdiscEnv } from '../qdisc/qdisc';
import { MonotonicClock } from '../time/clock';
import { type Logger, createLogger } from './log';

export type Egress = { kind: 'tun' } | { kind: 'raw'; iface: string };

export interface RunOptions {
  devs: string[];
  egress: Egress;
  config?: string;
  control?: string;
  metrics?: string;
  txQueueLen?: number;
}

/** One forwarded device. */
export interface RunningDevice {
  readonly name: string;
  readonly arena: Arena;
  readonly env: QdiscEnv;
  readonly tree: QdiscTree;
  readonly link: TunLink;
  readonly egress: Link;
  readonly forwarder: Forwarder;
}

export interface GatewayHooks {
  /**
   * The tree that shapes device `dev` (a mutable holder: change `root` live, then `forwarder.kick()`).
   * Default: pfifo, limit txqueuelen. The tc layer replaces this hook to apply `-c FILE`.
   */
  treeFor?(dev: string, env: QdiscEnv): QdiscTree | Promise<QdiscTree>;
  /** called once every device forwards (control socket, metrics) */
  onStarted?(gw: Gateway): void | Promise<void>;
  /** called before the devices close */
  onStopping?(gw: Gateway): void | Promise<void>;
}

export class Gateway {
  readonly devices: RunningDevice[] = [];
  private stopped = false;
  constructor(
    readonly log: Logger,
    private readonly hooks: GatewayHooks,
  ) {}

  device(name: string): RunningDevice | undefined {
    return this.devices.find((d) => d.name === name);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.hooks.onStopping) await this.hooks.onStopping(this);
    for (const d of this.devices) d.forwarder.stop();
  }

  /** ONE line: per device rx/tx packets and bytes, and drops by reason. */
  summary(): string {
    const parts = this.devices.map((d) => {
      const c = d.forwarder.counters;
      const drops = d.forwarder.dropsByReason();
      const total = Object.values(drops).reduce((a, b) => a + b, 0);
      const reasons = Object.entries(drops)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return `${d.name}: rx ${c.rxPackets} pkt ${c.rxBytes} B, tx ${c.txPackets} pkt ${c.txBytes} B, dropped ${total}${reasons ? ` (${reasons})` : ''}`;
    });
    return `tunqos summary: ${parts.join('; ')}`;
  }
}

export function parseEgress(spec: string): Egress {
  if (spec === 'tun') return { kind: 'tun' };
  if (spec.startsWith('raw:') && spec.length > 4) return { kind: 'raw', iface: spec.slice(4) };
  throw new UsageError(`--egress must be "tun" or "raw:IFACE", got "${spec}"`);
}

export class UsageError extends Error {}

function ipLinkUp(name: string, txQueueLen: number): void {
  try {
    execFileSync('ip', ['link', 'set', 'dev', name, 'up', 'txqueuelen', String(txQueueLen)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`cannot bring ${name} up with ip(8): ${stderr || (e as Error).message}`);
  }
}

/**
 * Opens every device and starts forwarding. On any failure, what was opened is closed again and the
 * error is thrown (the caller exits 1).
 */
export async function runGateway(opts: RunOptions, hooks: GatewayHooks = {}, log: Logger = createLogger()): Promise<Gateway> {
  if (opts.devs.length === 0) throw new UsageError('run needs at least one --dev NAME');
  const dup = opts.devs.find((d, i) => opts.devs.indexOf(d) !== i);
  if (dup) throw new UsageError(`--dev ${dup} is given twice`);
  const txQueueLen = opts.txQueueLen ?? DEFAULT_TXQUEUELEN;
  const gw = new Gateway(log, hooks);
  const opened: Link[] = [];
  try {
    for (const name of opts.devs) {
      const arena = new Arena();
      const link = TunLink.open(name, arena, {
        onError: (err: NativeError) => log.error({ dev: name, code: err.code }, err.message),
      });
      opened.push(link);
      ipLinkUp(link.name, txQueueLen);
      const egress: Link = opts.egress.kind === 'tun' ? link : new RawEgress(opts.egress.iface, arena, link.mtu);
      if (egress !== link) opened.push(egress);
      const env = createQdiscEnv(arena, { mtu: link.mtu, txQueueLen, warn: (m) => log.warn({ dev: name }, m) });
      const tree = hooks.treeFor ? await hooks.treeFor(link.name, env) : defaultTree(env);
      const forwarder = new Forwarder({ rx: link, tx: egress, arena, clock: new MonotonicClock(), timer: new TimerfdTimer(), tree });
      gw.devices.push({ name: link.name, arena, env, tree, link, egress, forwarder });
    }
  } catch (e) {
    for (const d of gw.devices) d.forwarder.timer.close();
    for (const l of opened) l.close();
    throw e;
  }
  for (const d of gw.devices) {
    d.forwarder.start();
    log.info(
      { dev: d.name, mtu: d.link.mtu, egress: opts.egress.kind === 'tun' ? 'tun' : `raw:${opts.egress.iface}`, root: d.tree.root.kind },
      `forwarding on ${d.name}`,
    );
  }
  if (hooks.onStarted) await hooks.onStarted(gw);
  return gw;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('attach to TUN devices and shape what goes through them until SIGINT/SIGTERM')
    .option('--dev <name>', 'TUN device to attach to (created if absent); repeat for several', collect, [] as string[])
    .option('--egress <tun|raw:IFACE>', 'write packets back into the TUN, or out of a raw socket bound to IFACE', 'tun')
    .option('-c, --config <file>', 'tc script applied at start')
    .option('--control <path>', 'control socket for live `tunqos tc ...`')
    .option('--metrics <host:port>', 'serve Prometheus metrics')
    .action(async (o: { dev: string[]; egress: string; config?: string; control?: string; metrics?: string }) => {
      const log = createLogger();
      let gw: Gateway;
      try {
        const egress = parseEgress(o.egress);
        for (const [flag, v] of [['-c', o.config], ['--control', o.control], ['--metrics', o.metrics]] as const) {
          if (v !== undefined) throw new UsageError(`${flag} is not wired into run yet`);
        }
        gw = await runGateway({ devs: o.dev, egress, config: o.config, control: o.control, metrics: o.metrics }, {}, log);
      } catch (e) {
        process.stderr.write(`tunqos run: ${(e as Error).message}\n`);
        process.exitCode = e instanceof UsageError ? 2 : 1;
        return;
      }
      await new Promise<void>((resolve) => {
        const onSignal = (sig: NodeJS.Signals): void => {
          log.info({ signal: sig }, 'stopping');
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      await gw.stop();
      process.stdout.write(`${gw.summary()}\n`);
    });
}
