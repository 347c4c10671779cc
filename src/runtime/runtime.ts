/**
 * The running shaper: the composition root of `tunqos run`, usable in-process (tests, benchmarks).
 *
 * `startRuntime(opts, hooks, log)` puts a shaper together in this order, and undoes what it did if any
 * step fails (the error is thrown: a TcError for a bad config line, RunOptionsError for options that
 * describe no runnable shaper, a NativeError for a device that cannot be opened):
 *
 *  1. Validate the config on a scratch TcSystem before anything opens. This also tells which devices
 *     exist (`dev X` in the config), and its trees, a scratch copy of the real ones, warm the JIT
 *     (src/runtime/warmup.ts). The config is validated twice by design: the real system needs the
 *     devices' MTUs, known only once they are open.
 *  2. Open every TUN (created if absent) and bring it up (`ip link set NAME up txqueuelen N`).
 *  3. Build the real TcSystem with each device's MTU and apply the config (already validated).
 *  4. One Forwarder per shaped side: device X's egress tree reads TUN X and writes it back (or out of
 *     a raw socket, `--egress raw:IFACE`); with `--ingress X=TUN`, X's ingress tree reads and writes
 *     TUN. All share one packet arena. Start them.
 *  5. The control plane (src/runtime/control-plane.ts): the 1 s rate sampler, the snapshot trigger,
 *     the control socket for live `tunqos tc`, metrics.
 *
 * Ownership: a link belongs to start-up until its forwarder is built, then to the forwarder, whose
 * stop() closes it; so each link has one closer at a time. Signals are not read here (only cli/ reads
 * signals): the caller passes a snapshot trigger in the hooks and calls `stop()` when it is told to.
 * The devices are reached through `RuntimeDevices` (real TUNs, timerfds and `ip` by default) so that
 * tests can start a runtime on MemoryLinks without root.
 */
import { execFileSync } from 'node:child_process';
import type { Logger } from 'pino';
import { executeRequest } from '../control/batch';
import { dropsByReason } from '../control/drops';
import { SojournTable } from '../control/sojourn';
import type { ShapedSide } from '../control/tree';
import { Forwarder } from '../forwarder/forwarder';
import type { Link } from '../link/link';
import type { NativeError } from '../link/native';
import { RawEgress } from '../link/raw';
import { TimerfdTimer } from '../link/timerfd';
import { TunLink } from '../link/tun';
import { Arena } from '../packet/arena';
import { DEFAULT_TXQUEUELEN } from '../qdisc/env';
import type { ClassfulQdisc, Direction, QdiscTree } from '../qdisc/qdisc';
import { recordScript } from '../tc/script';
import { type ConfigSource, TcSystem, type TcReply, loadConfig } from '../tc/system';
import { type Clock, MonotonicClock } from '../time/clock';
import type { WakeupTimer } from '../time/timer';
import { formatTime } from '../time/units';
import { startControlPlane } from './control-plane';
import { warmUp } from './warmup';

export type Egress = { kind: 'tun' } | { kind: 'raw'; iface: string };

/** Default keep-warm interval: 1 ms (why this value: bench/NOTES.md, "Keep-warm"). */
export const DEFAULT_KEEP_WARM_NS = 1e6;

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
  /** keep-warm interval in ns (src/forwarder/wakeup.ts); 0 turns it off; default DEFAULT_KEEP_WARM_NS */
  keepWarm?: number;
  /** the qdiscs' random source (SFQ perturbation, RED): Math.random in production, seeded in tests */
  random: () => number;
  /** how devices, timers and the clock are reached (default: the real ones, realDevices()) */
  devices?: RuntimeDevices;
}

/** Options that describe no shaper that can run (a usage error for the CLI: exit 2). */
export class RunOptionsError extends Error {}

/** The runtime's edge to the system: real TUNs by default, MemoryLinks in tests. */
export interface RuntimeDevices {
  /** opens (creating if absent) the TUN `name` over `arena` */
  openTun(name: string, arena: Arena, onError: (err: NativeError) => void): Link;
  /** brings an opened device up with this queue length */
  linkUp(name: string, txQueueLen: number): void;
  /** a raw socket bound to `iface`, for `--egress raw:IFACE` */
  openRaw(iface: string, arena: Arena, mtu: number): Link;
  timer(): WakeupTimer;
  clock: Clock;
}

/** TUN devices through the addon, `ip link`, raw sockets, timerfds and CLOCK_MONOTONIC. */
export function realDevices(): RuntimeDevices {
  return {
    openTun: (name, arena, onError) => TunLink.open(name, arena, { onError }),
    linkUp: ipLinkUp,
    openRaw: (iface, arena, mtu) => new RawEgress(iface, arena, mtu),
    timer: () => new TimerfdTimer(),
    clock: new MonotonicClock(),
  };
}

/** One forwarded TUN: a direction (side) of a configured device. */
export interface RunningDevice {
  /** the TUN device read */
  readonly name: string;
  /** the tc device whose tree shapes it (the TUN itself, or X for `--ingress X=TUN`) */
  readonly dev: string;
  readonly direction: Direction;
  readonly tree: QdiscTree;
  readonly link: Link;
  readonly egress: Link;
  readonly forwarder: Forwarder;
  readonly sojourn: SojournTable;
}

export interface RuntimeHooks {
  /** called once every device forwards */
  onStarted?(rt: Runtime): void | Promise<void>;
  /** called before the devices close */
  onStopping?(rt: Runtime): void | Promise<void>;
  /**
   * Called once at start with a function that logs a snapshot of every counter; returns the function
   * that stops triggering it. The CLI wires it to SIGUSR1 (src/cli/signals.ts).
   */
  snapshotTrigger?(logSnapshot: () => void): () => void;
}

export class Runtime {
  readonly devices: RunningDevice[] = [];
  private stopped = false;
  private readonly cleanups: Array<() => void | Promise<void>> = [];
  readonly log: Logger;
  readonly system: TcSystem;
  readonly arena: Arena;
  readonly clock: Clock;
  private readonly hooks: RuntimeHooks;

  constructor(log: Logger, system: TcSystem, arena: Arena, clock: Clock, hooks: RuntimeHooks) {
    this.log = log;
    this.system = system;
    this.arena = arena;
    this.clock = clock;
    this.hooks = hooks;
  }

  device(name: string): RunningDevice | undefined {
    return this.devices.find((d) => d.name === name);
  }

  /** every shaped side, for metrics and snapshots (each tree's root is read afresh at use) */
  sides(): ShapedSide[] {
    return this.devices.map((d) => {
      const model = this.system.devices.get(d.dev);
      const classesOf = model ? (q: ClassfulQdisc) => model.classesOf(q) : undefined;
      return { dev: d.dev, direction: d.direction, tree: d.tree, sojourn: d.sojourn, classesOf };
    });
  }

  /** one live tc command or batch (control socket): applied atomically, then every forwarder is kicked */
  execute(argv: string[]): TcReply {
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
   * Closes what start-up opened (control socket, metrics, sampler, snapshot trigger) and stops every
   * forwarder (which closes its links), without the stop hooks: also the undo of a start-up that failed
   * half-way, so that a listening socket or an armed timer does not keep the failed process alive.
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
      const drops = dropsByReason(d.forwarder);
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

function ipLinkUp(name: string, txQueueLen: number): void {
  try {
    execFileSync('ip', ['link', 'set', 'dev', name, 'up', 'txqueuelen', String(txQueueLen)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`cannot bring ${name} up with ip(8): ${stderr || (e as Error).message}`);
  }
}

/**
 * Step 1: validates the config on a scratch system and returns it with the device names (the
 * `--dev`s, the ingress devices and every device the config names). A script is recorded once, here,
 * and the same record is applied to the real system.
 */
function probeConfig(opts: RunOptions, ingress: Map<string, string>): { opts: RunOptions; probe: TcSystem; devNames: Set<string> } {
  const dup = opts.devs.find((d, i) => opts.devs.indexOf(d) !== i);
  if (dup) throw new RunOptionsError(`--dev ${dup} is given twice`);
  if (opts.config?.script) opts = { ...opts, config: { recorded: recordScript(opts.config.script) } };
  const devNames = new Set(opts.devs);
  for (const d of ingress.keys()) devNames.add(d);
  const probe = new TcSystem({ random: opts.random, arena: new Arena(4096) }); // room for the warm-up's queues; dropped after start-up
  for (const d of devNames) probe.addDevice(d);
  if (opts.config) loadConfig(opts.config, { system: probe });
  for (const name of probe.devices.keys()) devNames.add(name);
  if (devNames.size === 0) throw new RunOptionsError('run needs a device: --dev NAME, or a config (-c FILE) that names one');
  for (const [dev, tun] of ingress) {
    if (devNames.has(tun) && !ingress.has(tun)) {
      throw new RunOptionsError(`TUN ${tun} cannot be both the egress device ${tun} and the ingress of ${dev}`);
    }
  }
  return { opts, probe, devNames };
}

/**
 * Validates the config, opens every device and starts forwarding (the steps of the header). On any
 * failure, what was opened is closed again and the error is thrown.
 */
export async function startRuntime(options: RunOptions, hooks: RuntimeHooks, log: Logger): Promise<Runtime> {
  const ingress = options.ingress ?? new Map<string, string>();
  const txQueueLen = options.txQueueLen ?? DEFAULT_TXQUEUELEN;
  const io = options.devices ?? realDevices();
  const { opts, probe, devNames } = probeConfig(options, ingress);
  if (opts.warmup !== false) {
    const t0 = performance.now();
    const warm = warmUp([...probe.devices.values()].flatMap((m) => [m.egress, m.ingress]), probe.arena);
    log.debug({ packets: warm.offered, ms: Math.round(performance.now() - t0) }, 'JIT warm-up done');
  }

  // 2. Open the TUN devices (their MTU is known only then). Until a forwarder owns a link, start-up does.
  const arena = new Arena();
  const unowned = new Set<Link>();
  const links = new Map<string, Link>();
  let rt: Runtime | undefined;
  try {
    for (const name of [...devNames, ...ingress.values()]) {
      if (links.has(name)) continue;
      const link = io.openTun(name, arena, (err: NativeError) => log.error({ dev: name, code: err.code }, err.message));
      unowned.add(link);
      io.linkUp(link.name, txQueueLen);
      links.set(name, link);
    }

    // 3. The real tc system, with each device's MTU, then the config (already validated).
    const system = new TcSystem({
      random: opts.random,
      arena,
      env: (dev) => ({ mtu: links.get(dev)?.mtu ?? 1500, txQueueLen }),
      warn: (m) => log.warn(m),
    });
    for (const d of devNames) system.addDevice(d);
    if (opts.config) {
      const loaded = loadConfig(opts.config, { system });
      for (const w of loaded.warnings) log.warn(w);
    }

    // 4. One forwarder per shaped side.
    const r = new Runtime(log, system, arena, io.clock, hooks);
    rt = r;
    const keepWarm = opts.keepWarm ?? DEFAULT_KEEP_WARM_NS;
    const addForwarder = (tunName: string, dev: string, direction: Direction): void => {
      const link = links.get(tunName)!;
      const model = system.devices.get(dev)!;
      const tree = direction === 'egress' ? model.egress : model.ingress;
      let tx: Link = link;
      if (direction === 'egress' && opts.egress.kind === 'raw') {
        tx = io.openRaw(opts.egress.iface, arena, link.mtu);
        unowned.add(tx);
      }
      const sojourn = new SojournTable();
      const forwarder = new Forwarder({ rx: link, tx, clock: io.clock, timer: io.timer(), tree, sojourn, keepWarm });
      unowned.delete(link);
      unowned.delete(tx);
      r.devices.push({ name: link.name, dev, direction, tree, link, egress: tx, forwarder, sojourn });
    };
    for (const d of devNames) addForwarder(d, d, 'egress');
    for (const [dev, tun] of ingress) addForwarder(tun, dev, 'ingress');

    for (const d of r.devices) {
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
    // 5. The control plane.
    await startControlPlane(r, opts, hooks);
    if (hooks.onStarted) await hooks.onStarted(r);
    return r;
  } catch (e) {
    if (rt) await rt.release();
    for (const l of unowned) l.close();
    throw e;
  }
}
