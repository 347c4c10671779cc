/**
 * `tunqos run`: attach to TUN devices and shape what goes through them until SIGINT/SIGTERM.
 *
 *   tunqos run [-c FILE | --script FILE] [--dev NAME]... [--ingress DEV=TUN]... [--egress tun|raw:IFACE]
 *              [--control PATH] [--metrics HOST:PORT] [--keep-warm TIME|off]
 *
 * Devices: every `--dev NAME` and every device the config names (`dev X` in its tc commands) is a TUN
 * device that is opened (created if absent), set up (`ip link set NAME up txqueuelen 1000`) and read;
 * what is read goes through that device's EGRESS tree (`tc qdisc add dev X root ...`) and is written
 * back into the TUN (the kernel forwards it on) or, with `--egress raw:IFACE`, out of a raw socket
 * bound to IFACE. A device's INGRESS side (`tc qdisc add dev X handle ffff: ingress`, police filters,
 * and in tunqos optionally a full tree under `parent ffff:`) needs its own TUN, because a TUN only
 * carries one direction of a gateway: `--ingress X=TUN` feeds X's ingress side from TUN (whatever is
 * read there is policed/shaped and written back into that TUN). The raw egress applies to egress
 * sides only.
 *
 * All devices share one packet arena and one tc system (src/tc/system.ts): the config is applied
 * atomically before any device opens (an error prints `FILE:LINE:COL: message` and exits 1, nothing
 * opened), and live `tunqos tc ...` commands over the control socket change the running trees (each
 * forwarder is kicked after a change so a new tree releases what it may at once).
 *
 * Keep-warm (`--keep-warm`, default 1ms; src/forwarder/forwarder.ts explains it): while a link has seen packets
 * in the last second, its forwarder wakes at least that often, so a lone packet finds the path warm.
 *
 * On a signal: stop every forwarder, close the devices and print ONE summary line on stdout
 * (packets, bytes, drops by reason). Logs go to stderr (src/cli/log.ts). SIGUSR1 logs a snapshot of
 * every counter.
 *
 * Exit codes: 0 after a clean stop; 1 when the config is wrong or a device cannot be opened (in use:
 * EBUSY; invalid name; no permission) or the control socket/metrics cannot start; 2 for a usage error.
 */
import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { executeRequest } from '../control/batch';
import { defaultControlPath, startControlServer, type ControlServer } from '../control/socket';
import { startMetricsServer, type MetricsServer } from '../control/metrics';
import { SojournTable } from '../control/sojourn';
import { installSnapshotSignal, sampleRates } from '../control/stats-log';
import type { LinkTree } from '../control/tree';
import { Forwarder } from '../forwarder/forwarder';
import type { QdiscTree } from '../qdisc/qdisc';
import type { Link } from '../link/link';
import type { NativeError } from '../link/native';
import { RawEgress } from '../link/raw';
import { TimerfdTimer } from '../link/timerfd';
import { TunLink } from '../link/tun';
import { Arena } from '../packet/arena';
import { DEFAULT_TXQUEUELEN } from '../qdisc/env';
import { type ConfigSource, TcSystem, loadConfig } from '../tc/system';
import { recordScript } from '../tc/script';
import { MonotonicClock } from '../time/clock';
import { formatTime, parseTime } from '../time/units';
import { warmUp } from '../runtime/warmup';
import { type Logger, createLogger } from './log';

export type Egress = { kind: 'tun' } | { kind: 'raw'; iface: string };

export interface RunOptions {
  devs: string[];
  egress: Egress;
  /** tc commands file (-c) or tc shell script (--script) */
  config?: ConfigSource;
  /** device → TUN feeding that device's ingress side */
  ingress?: Map<string, string>;
  control?: string;
  metrics?: string;
  txQueueLen?: number;
  /** JIT warm-up at start (default true; off only to measure what it buys) */
  warmup?: boolean;
  /** keep-warm interval in ns (src/forwarder/forwarder.ts); 0 turns it off; default DEFAULT_KEEP_WARM_NS */
  keepWarm?: number;
}

/**
 * Default keep-warm interval of `run`: 1 ms. On the 2-core VM this was measured on (bench/e2e.ts), ticks
 * every 1 ms bring a lone ping within a few µs of the C loop's (+60..+85 µs without; every 5 ms gets
 * about half-way), for ~3% of one core while traffic is sparse (a tick costs ~30 µs there, mostly
 * kernel and VM work) and nothing once the links have been quiet for 1 s.
 */
export const DEFAULT_KEEP_WARM_NS = 1e6;

/** `--keep-warm` values: a tc time (`1ms`, `500us`; bare numbers are µs as in tc) or `off`/`0`. */
export function parseKeepWarm(text: string): number {
  if (text === 'off' || text === '0') return 0;
  const ns = parseTime(text);
  if (!Number.isFinite(ns) || ns < 0) throw new UsageError(`--keep-warm must be a time such as 1ms or 500us, or "off"; got "${text}"`);
  if (ns > 0 && (ns < 100e3 || ns > 1e9)) throw new UsageError(`--keep-warm must lie between 100us and 1s (or be "off"); got "${text}"`);
  return ns;
}

/** One forwarded TUN: a direction (side) of a configured device. */
export interface RunningDevice {
  /** the TUN device read */
  readonly name: string;
  /** the tc device whose tree shapes it (the TUN itself, or X for `--ingress X=TUN`) */
  readonly dev: string;
  readonly direction: 'egress' | 'ingress';
  readonly tree: QdiscTree;
  readonly link: TunLink;
  readonly egress: Link;
  readonly forwarder: Forwarder;
  readonly sojourn: SojournTable;
}

export interface GatewayHooks {
  /** called once every device forwards */
  onStarted?(gw: Gateway): void | Promise<void>;
  /** called before the devices close */
  onStopping?(gw: Gateway): void | Promise<void>;
}

export class Gateway {
  readonly devices: RunningDevice[] = [];
  private stopped = false;
  private readonly cleanups: Array<() => void | Promise<void>> = [];
  constructor(
    readonly log: Logger,
    readonly system: TcSystem,
    readonly arena: Arena,
    private readonly hooks: GatewayHooks,
  ) {}

  device(name: string): RunningDevice | undefined {
    return this.devices.find((d) => d.name === name);
  }

  /** the trees for metrics and snapshots: read afresh each time (a `tc qdisc replace` swaps roots) */
  trees(): LinkTree[] {
    return this.devices.map((d) => ({ dev: d.dev, direction: d.direction, root: d.tree.root, sojourn: d.sojourn }));
  }

  /** one live tc command (control socket): applied atomically, then every forwarder is kicked */
  execute(argv: string[]) {
    const r = executeRequest(this.system, argv);
    for (const d of this.devices) d.forwarder.kick();
    return r;
  }

  onStop(fn: () => void | Promise<void>): void {
    this.cleanups.push(fn);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.hooks.onStopping) await this.hooks.onStopping(this);
    await this.release();
  }

  /**
   * Closes what start-up opened (control socket, metrics, sampler, signal handler) and stops every
   * forwarder, without the stop hooks: also the undo of a start-up that failed half-way, so that a
   * listening socket or an armed timer does not keep the failed process alive.
   */
  async release(): Promise<void> {
    this.stopped = true;
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'cleanup failed');
      }
    }
    for (const d of this.devices) d.forwarder.stop();
  }

  /** ONE line: per TUN rx/tx packets and bytes, and drops by reason. */
  summary(): string {
    const parts = this.devices.map((d) => {
      const c = d.forwarder.counters;
      const drops = d.forwarder.dropsByReason();
      const total = Object.values(drops).reduce((a, b) => a + b, 0);
      const reasons = Object.entries(drops)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const label = d.direction === 'ingress' ? `${d.name} (${d.dev} ingress)` : d.name;
      return `${label}: rx ${c.rxPackets} pkt ${c.rxBytes} B, tx ${c.txPackets} pkt ${c.txBytes} B, dropped ${total}${reasons ? ` (${reasons})` : ''}`;
    });
    return `tunqos summary: ${parts.join('; ')}`;
  }
}

export function parseEgress(spec: string): Egress {
  if (spec === 'tun') return { kind: 'tun' };
  if (spec.startsWith('raw:') && spec.length > 4) return { kind: 'raw', iface: spec.slice(4) };
  throw new UsageError(`--egress must be "tun" or "raw:IFACE", got "${spec}"`);
}

/** `--ingress DEV=TUN` values into a map; a usage error names the bad value. */
export function parseIngress(specs: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--ingress must be DEV=TUN (e.g. tqup=tqdn), got "${spec}"`);
    const dev = spec.slice(0, eq);
    if (m.has(dev)) throw new UsageError(`--ingress ${dev}=... is given twice`);
    m.set(dev, spec.slice(eq + 1));
  }
  return m;
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
 * Validates the config, opens every device and starts forwarding. On any failure, what was opened is
 * closed again and the error is thrown (the caller exits 1): a TcError for a bad config line.
 */
export async function runGateway(opts: RunOptions, hooks: GatewayHooks = {}, log: Logger = createLogger()): Promise<Gateway> {
  const dup = opts.devs.find((d, i) => opts.devs.indexOf(d) !== i);
  if (dup) throw new UsageError(`--dev ${dup} is given twice`);
  const ingress = opts.ingress ?? new Map<string, string>();
  const txQueueLen = opts.txQueueLen ?? DEFAULT_TXQUEUELEN;

  // 1. Validate the config on a scratch system before anything opens: it also tells which devices exist.
  //    A script is recorded once, here, and the same record is applied below.
  if (opts.config?.script) opts = { ...opts, config: { recorded: recordScript(opts.config.script) } };
  const devNames = new Set(opts.devs);
  for (const d of ingress.keys()) devNames.add(d);
  const probe = new TcSystem({ random: Math.random, arena: new Arena(4096) }); // room for the warm-up's queues; dropped after start-up
  for (const d of devNames) probe.addDevice(d);
  if (opts.config) loadConfig(opts.config, { system: probe });
  for (const name of probe.devices.keys()) devNames.add(name);
  if (devNames.size === 0) throw new UsageError('run needs a device: --dev NAME, or a config (-c FILE) that names one');
  for (const [dev, tun] of ingress) {
    if (devNames.has(tun) && !ingress.has(tun)) {
      throw new UsageError(`TUN ${tun} cannot be both the egress device ${tun} and the ingress of ${dev}`);
    }
  }
  // The probe's trees are a scratch copy of the real ones: warm the JIT on them (src/runtime/warmup.ts).
  if (opts.warmup !== false) {
    const t0 = performance.now();
    const warm = warmUp([...probe.devices.values()].flatMap((m) => [m.egress, m.ingress]), probe.arena);
    log.debug({ packets: warm.offered, ms: Math.round(performance.now() - t0) }, 'JIT warm-up done');
  }

  // 2. Open the TUN devices (their MTU is known only then).
  const arena = new Arena();
  const opened: Link[] = [];
  const links = new Map<string, TunLink>();
  let gw: Gateway | undefined;
  try {
    for (const name of [...devNames, ...ingress.values()]) {
      if (links.has(name)) continue;
      const link = TunLink.open(name, arena, {
        onError: (err: NativeError) => log.error({ dev: name, code: err.code }, err.message),
      });
      opened.push(link);
      ipLinkUp(link.name, txQueueLen);
      links.set(name, link);
    }

    // 3. The real tc system, with each device's MTU, then the config (already validated).
    const system = new TcSystem({
      random: Math.random,
      arena,
      env: (dev) => ({ mtu: links.get(dev)?.mtu ?? 1500, txQueueLen }),
      warn: (m) => log.warn(m),
    });
    for (const d of devNames) system.addDevice(d);
    if (opts.config) {
      const loaded = loadConfig(opts.config, { system });
      for (const w of loaded.warnings) log.warn(w);
    }

    const g = new Gateway(log, system, arena, hooks);
    gw = g;
    const clock = new MonotonicClock();
    const keepWarm = opts.keepWarm ?? DEFAULT_KEEP_WARM_NS;
    const addForwarder = (tunName: string, dev: string, direction: 'egress' | 'ingress'): void => {
      const link = links.get(tunName)!;
      const model = system.devices.get(dev)!;
      const tree = direction === 'egress' ? model.egress : model.ingress;
      let tx: Link = link;
      if (direction === 'egress' && opts.egress.kind === 'raw') {
        tx = new RawEgress(opts.egress.iface, arena, link.mtu);
        opened.push(tx);
      }
      const sojourn = new SojournTable();
      const forwarder = new Forwarder({ rx: link, tx, arena, clock, timer: new TimerfdTimer(), tree, sojourn, keepWarm });
      g.devices.push({ name: link.name, dev, direction, tree, link, egress: tx, forwarder, sojourn });
    };
    for (const d of devNames) addForwarder(d, d, 'egress');
    for (const [dev, tun] of ingress) addForwarder(tun, dev, 'ingress');

    for (const d of g.devices) {
      d.forwarder.start();
      log.info(
        {
          dev: d.name,
          side: d.direction === 'ingress' ? `${d.dev} ingress` : 'egress',
          mtu: d.link.mtu,
          egress: d.egress === d.link ? 'tun' : `raw:${(opts.egress as { iface: string }).iface}`,
          root: d.tree.root.kind,
          keepWarm: keepWarm > 0 ? formatTime(keepWarm) : 'off',
        },
        `forwarding on ${d.name}`,
      );
    }
    await startControlPlane(g, opts, clock);
    if (hooks.onStarted) await hooks.onStarted(g);
    return g;
  } catch (e) {
    if (gw) await gw.release();
    for (const l of opened) l.close();
    throw e;
  }
}

/** control socket, metrics, the 1 s rate sampler and the SIGUSR1 snapshot */
async function startControlPlane(gw: Gateway, opts: RunOptions, clock: MonotonicClock): Promise<void> {
  const provider = () => gw.trees();
  const sampler = setInterval(() => sampleRates(provider, clock.now()), 1000);
  sampler.unref();
  gw.onStop(() => clearInterval(sampler));
  const uninstall = installSnapshotSignal(gw.log, provider);
  gw.onStop(uninstall);

  const path = opts.control ?? defaultControlPath();
  let control: ControlServer;
  try {
    control = await startControlServer({ path, handler: async (argv) => gw.execute(argv) });
  } catch (e) {
    if (opts.control !== undefined) throw e;
    // The default path is a convenience: a second gateway on this machine still runs, without it.
    gw.log.warn({ path }, `no control socket: ${(e as Error).message}`);
    return startMetrics(gw, opts, provider);
  }
  gw.onStop(() => control.close());
  gw.log.info({ path }, `control socket ready: tunqos tc${opts.control ? ` --control ${path}` : ''} ...`);
  await startMetrics(gw, opts, provider);
}

async function startMetrics(gw: Gateway, opts: RunOptions, provider: () => LinkTree[]): Promise<void> {
  if (opts.metrics === undefined) return;
  const m: MetricsServer = await startMetricsServer(opts.metrics, provider);
  gw.onStop(() => m.close());
  gw.log.info({ url: m.url }, 'metrics ready');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('attach to TUN devices and shape what goes through them until SIGINT/SIGTERM')
    .option('--dev <name>', 'TUN device to attach to (created if absent); repeat for several', collect, [] as string[])
    .option('--ingress <dev=tun>', "feed device DEV's ingress side (ffff:) from TUN; repeatable", collect, [] as string[])
    .option('--egress <tun|raw:IFACE>', 'write packets back into the TUN, or out of a raw socket bound to IFACE', 'tun')
    .option('-c, --config <file>', 'file of tc commands applied at start (atomically)')
    .option('--script <file>', 'bash script whose tc commands are recorded and applied at start')
    .option('--control <path>', `control socket for live \`tunqos tc ...\` (default ${defaultControlPath()})`)
    .option('--metrics <host:port>', 'serve Prometheus metrics on HOST:PORT (PORT alone: 127.0.0.1)')
    .option('--no-warmup', 'skip the JIT warm-up at start (only to measure what it buys)')
    .option(
      '--keep-warm <time|off>',
      'while traffic is sparse (packets seen in the last second), wake at least this often so the next packet finds caches warm',
      '1ms',
    )
    .action(
      async (o: {
        dev: string[];
        ingress: string[];
        egress: string;
        config?: string;
        script?: string;
        control?: string;
        metrics?: string;
        warmup: boolean;
        keepWarm: string;
      }) => {
        const log = createLogger();
        let gw: Gateway;
        try {
          if (o.config && o.script) throw new UsageError('give either -c FILE or --script FILE, not both');
          const egress = parseEgress(o.egress);
          const keepWarm = parseKeepWarm(o.keepWarm);
          const ingress = parseIngress(o.ingress);
          const config: ConfigSource | undefined = o.config ? { file: o.config } : o.script ? { script: o.script } : undefined;
          gw = await runGateway({ devs: o.dev, egress, config, ingress, control: o.control, metrics: o.metrics, warmup: o.warmup, keepWarm }, {}, log);
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
      },
    );
}
