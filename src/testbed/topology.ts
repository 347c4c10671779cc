/**
 * A client / gateway / server topology in three network namespaces, for the demo, the native tests
 * and the end-to-end benchmark.
 *
 *   client ns            gateway ns                                    server ns
 *   ┌─────────┐  veth   ┌──────────────────────────────────────┐ veth ┌─────────┐
 *   │ c0      │─────────│ gc        (ip_forward=1)          gs │──────│ s0      │
 *   │ 10.X.1.2│         │ 10.X.1.1   tqup (TUN)  tqdn (TUN) 10.X.2.1│  │ 10.X.2.2│
 *   └─────────┘         └──────────────────────────────────────┘      └─────────┘
 *
 * Routing: client and server have a default route via the gateway. In the gateway, when traffic is
 * diverted (`divert(true)`, the default in modes 'tun' and 'raw'), a policy rule sends what arrives
 * on gc for the server's subnet to table 100, whose only route is `default dev tqup`: the packet
 * leaves the kernel into the TUN, where the forwarder (tunqos, or the C loop) reads it. Whatever the
 * forwarder writes back into the TUN arrives from tqup, misses the rule (iif is tqup, not gc) and is
 * forwarded by the main table out of gs. With `directions: 'both'` the reverse direction does the
 * same through tqdn (rule on iif gs, table 101). Spare up-direction TUNs (tqu1, tqu2, …; tables 110+)
 * let a benchmark keep several forwarders attached and move the client→server route between them
 * (`routeUpInto`), so it can interleave its measurements without restarting anything. With `--egress raw:gs` the forwarder sends through
 * a raw socket bound to gs instead of writing back into the TUN. rp_filter is off in the gateway,
 * because a packet from the client arriving on tqup fails a strict reverse-path check (the client's
 * route points at gc).
 *
 * The TUN devices are precreated persistent (`ip tuntap add`, IFF_TUN|IFF_NO_PI) and set up, so
 * routes can point at them before any reader exists; a reader attaches with TUNSETIFF by name. A
 * persistent TUN without a reader has no carrier (no LOWER_UP) and drops what is routed to it, which
 * is how `waitAttached` tells that the forwarder has opened it.
 *
 * Interface names are fixed (c0, gc, gs, s0, tqup, tqdn): they live inside the namespaces, so they
 * cannot collide with other runs; the namespaces carry the unique part: tq{c,g,s}-<pid36>-<rand>.
 * The pid in the name lets `sweep` tell leftovers of dead runs from topologies still in use.
 * IPv6 is disabled in all three namespaces, so no router solicitation or MLD noise enters the TUN.
 *
 * Teardown: `destroy()` kills the processes started here and everything else inside the namespaces,
 * then deletes the namespaces (which removes every device, route and rule with them). It never
 * throws, is idempotent, and also runs from process 'exit', SIGINT, SIGTERM and SIGHUP handlers.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  inNs,
  listNamespaces,
  removeNamespace,
  run,
  runAsync,
  runInNs,
  spawnInNs,
  type AsyncResult,
} from './netns';

export type TopologyMode = 'kernel' | 'tun' | 'raw';
export type Role = 'client' | 'gateway' | 'server';

export interface TopologyOptions {
  /** kernel: plain forwarding; tun/raw: client→server traffic diverted into the TUN (raw only
   *  differs in the egress the forwarder is expected to use: a raw socket bound to gs). */
  mode?: TopologyMode;
  /** 'up': only client→server goes through a TUN; 'both': server→client through a second TUN. */
  directions?: 'up' | 'both';
  /** namespace name prefix; namespaces are `${prefix}c-…`, `${prefix}g-…`, `${prefix}s-…` */
  prefix?: string;
  /** second octet of the private addresses (10.X.1.0/24, 10.X.2.0/24); random when omitted */
  octet?: number;
  /** MTU of the veths and TUNs (default 1500) */
  mtu?: number;
  /** extra up-direction TUNs (tqu1, tqu2, …), each with its own table, for a benchmark that keeps
   *  several forwarders attached and switches the client→server route between them (routeUpInto) */
  spareTuns?: number;
}

export const DEFAULT_PREFIX = 'tq';

/** Interface names inside the namespaces. */
export const IFACES = {
  client: 'c0',
  gatewayClientSide: 'gc',
  gatewayServerSide: 'gs',
  server: 's0',
  tunUp: 'tqup',
  tunDown: 'tqdn',
} as const;

const TABLE_UP = 100;
const TABLE_DOWN = 101;
const TABLE_SPARE = 110;
const RULE_PRIO_UP = 1000;
const RULE_PRIO_DOWN = 1001;

const live = new Set<Topology>();
let handlersInstalled = false;

export class Topology {
  readonly id: string;
  readonly ns: Readonly<Record<Role, string>>;
  readonly mode: TopologyMode;
  readonly directions: 'up' | 'both';
  readonly mtu: number;
  /** addresses (no prefix length) and subnets (with /24) */
  readonly addr: {
    client: string;
    gatewayClientSide: string;
    gatewayServerSide: string;
    server: string;
    clientNet: string;
    serverNet: string;
  };
  readonly ifaces = IFACES;
  /** the TUN device(s) a forwarder must open: [tqup] or [tqup, tqdn] */
  readonly tuns: readonly string[];
  /** spare up-direction TUNs (see TopologyOptions.spareTuns) */
  readonly spareTuns: readonly string[];
  /** the interface a raw-socket egress binds to for the up direction */
  readonly rawEgress: string = IFACES.gatewayServerSide;
  /** the TUN client→server traffic is routed into, null for plain kernel forwarding */
  private upInto: string | null = null;
  private destroyed = false;
  private readonly children = new Set<ChildProcess>();

  constructor(id: string, prefix: string, octet: number, options: TopologyOptions) {
    this.id = id;
    this.ns = { client: `${prefix}c-${id}`, gateway: `${prefix}g-${id}`, server: `${prefix}s-${id}` };
    this.mode = options.mode ?? 'tun';
    this.directions = options.directions ?? 'up';
    this.mtu = options.mtu ?? 1500;
    this.addr = {
      client: `10.${octet}.1.2`,
      gatewayClientSide: `10.${octet}.1.1`,
      gatewayServerSide: `10.${octet}.2.1`,
      server: `10.${octet}.2.2`,
      clientNet: `10.${octet}.1.0/24`,
      serverNet: `10.${octet}.2.0/24`,
    };
    this.tuns = this.directions === 'both' ? [IFACES.tunUp, IFACES.tunDown] : [IFACES.tunUp];
    this.spareTuns = Array.from({ length: options.spareTuns ?? 0 }, (_, i) => `tqu${i + 1}`);
  }

  /** Routing table of an up-direction TUN (tqup and the spares), undefined for other names. */
  tableOf(dev: string): number | undefined {
    if (dev === IFACES.tunUp) return TABLE_UP;
    if (dev === IFACES.tunDown) return TABLE_DOWN;
    const i = this.spareTuns.indexOf(dev);
    return i >= 0 ? TABLE_SPARE + i : undefined;
  }

  /** Namespace name of a role (or a namespace name passed through). */
  nsOf(where: Role | string): string {
    return where === 'client' || where === 'gateway' || where === 'server' ? this.ns[where] : where;
  }

  /** Runs argv inside a namespace synchronously; returns stdout, throws CommandError on failure. */
  exec(where: Role | string, argv: readonly string[], timeoutMs?: number): string {
    return runInNs(this.nsOf(where), argv, timeoutMs);
  }

  /** Runs argv inside a namespace without blocking; the child is killed by destroy() if still running. */
  execAsync(where: Role | string, argv: readonly string[], timeoutMs: number): Promise<AsyncResult> {
    return runAsync(inNs(this.nsOf(where), argv), timeoutMs, (c) => this.track(c));
  }

  /** Starts a long-running process inside a namespace; destroy() SIGKILLs it if still alive. */
  spawnIn(where: Role | string, argv: readonly string[], options?: SpawnOptions): ChildProcess {
    const child = spawnInNs(this.nsOf(where), argv, options);
    this.track(child);
    return child;
  }

  /** Starts a process in the gateway namespace (the forwarder). */
  spawnInGateway(argv: readonly string[], options?: SpawnOptions): ChildProcess {
    return this.spawnIn('gateway', argv, options);
  }

  private track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /** Turns the policy routing into the TUN(s) on or off (off = plain kernel forwarding). */
  divert(on: boolean): void {
    const g = this.ns.gateway;
    const wasOn = this.upInto !== null;
    this.routeUpInto(on ? IFACES.tunUp : null);
    if (this.directions === 'both' && on !== wasOn) {
      runInNs(g, ['ip', 'rule', on ? 'add' : 'del', 'iif', IFACES.gatewayServerSide, 'to', this.addr.clientNet, 'lookup', String(TABLE_DOWN), 'priority', String(RULE_PRIO_DOWN)]);
    }
  }

  /**
   * Routes client→server traffic into TUN `dev` (tqup or a spare), or lets the kernel forward it
   * (null). The reverse direction is left as it is.
   */
  routeUpInto(dev: string | null): void {
    if (dev === this.upInto) return;
    const table = dev === null ? undefined : this.tableOf(dev);
    if (dev !== null && (table === undefined || dev === IFACES.tunDown)) throw new Error(`routeUpInto: ${dev} is not an up-direction TUN of ${this.ns.gateway}`);
    const g = this.ns.gateway;
    const rule = ['iif', IFACES.gatewayClientSide, 'to', this.addr.serverNet];
    if (this.upInto !== null) runInNs(g, ['ip', 'rule', 'del', ...rule, 'priority', String(RULE_PRIO_UP)]);
    this.upInto = null;
    if (table !== undefined) {
      runInNs(g, ['ip', 'rule', 'add', ...rule, 'lookup', String(table), 'priority', String(RULE_PRIO_UP)]);
      this.upInto = dev;
    }
  }

  get isDiverted(): boolean {
    return this.upInto !== null;
  }

  /** The TUN client→server traffic currently goes into (null: kernel forwarding). */
  get upDevice(): string | null {
    return this.upInto;
  }

  /** Whether a process holds TUN `name` open (a persistent TUN has carrier only while attached). */
  tunAttached(name: string): boolean {
    const out = runInNs(this.ns.gateway, ['ip', '-j', 'link', 'show', 'dev', name]);
    const info = JSON.parse(out) as Array<{ flags?: string[] }>;
    const flags = info[0]?.flags ?? [];
    return flags.includes('LOWER_UP') && !flags.includes('NO-CARRIER');
  }

  /** Packet counters of a device (`ip -s link`): rx = what the device handed to the kernel; for a
   *  TUN, rx counts what the forwarder wrote into it and tx what the kernel queued for the reader. */
  linkStats(where: Role | string, dev: string): { rxPackets: number; txPackets: number; rxDropped: number; txDropped: number } {
    const out = runInNs(this.nsOf(where), ['ip', '-j', '-s', 'link', 'show', 'dev', dev]);
    const s = (JSON.parse(out) as Array<{ stats64?: { rx: Record<string, number>; tx: Record<string, number> } }>)[0]?.stats64;
    return {
      rxPackets: s?.rx.packets ?? 0,
      txPackets: s?.tx.packets ?? 0,
      rxDropped: s?.rx.dropped ?? 0,
      txDropped: s?.tx.dropped ?? 0,
    };
  }

  /** Waits until every named TUN has (or, with attached=false, no longer has) a reader. */
  async waitAttached(names: readonly string[] = this.tuns, attached = true, timeoutMs = 15_000, child?: ChildProcess): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (names.every((n) => this.tunAttached(n) === attached)) return;
      if (child && attached && child.exitCode !== null) {
        throw new Error(`forwarder exited (code ${child.exitCode}) before attaching to ${names.join(', ')}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${names.join(', ')} to be ${attached ? 'attached' : 'released'} in ${this.ns.gateway}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Removes everything (processes, namespaces). Never throws; safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const c of this.children) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    this.children.clear();
    for (const ns of [this.ns.client, this.ns.gateway, this.ns.server]) removeNamespace(ns);
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** What is left of this topology in the system: namespaces still present. [] after destroy(). */
  leftovers(): string[] {
    const names = new Set(listNamespaces());
    return [this.ns.client, this.ns.gateway, this.ns.server].filter((n) => names.has(n));
  }
}

/** A short id that is unique per run: creator pid (base 36) and 4 random hex digits. */
function newId(): string {
  return `${process.pid.toString(36)}-${randomBytes(2).toString('hex')}`;
}

/**
 * Builds the topology. On any failure it removes what it created and rethrows, so a failed build
 * leaves nothing behind.
 */
export function createTopology(options: TopologyOptions = {}): Topology {
  installExitHandlers();
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const octet = options.octet ?? 16 + (randomBytes(1)[0]! % 200);
  const topo = new Topology(newId(), prefix, octet, options);
  live.add(topo);
  try {
    build(topo);
  } catch (e) {
    topo.destroy();
    throw e;
  }
  return topo;
}

function build(t: Topology): void {
  const { client: c, gateway: g, server: s } = t.ns;
  const a = t.addr;
  const mtu = String(t.mtu);
  for (const ns of [c, g, s]) {
    run(['ip', 'netns', 'add', ns]);
    runInNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    runInNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }
  // veth pairs created directly inside their namespaces: nothing ever exists in the root namespace.
  run(['ip', '-n', c, 'link', 'add', IFACES.client, 'mtu', mtu, 'type', 'veth', 'peer', 'name', IFACES.gatewayClientSide, 'netns', g, 'mtu', mtu]);
  run(['ip', '-n', g, 'link', 'add', IFACES.gatewayServerSide, 'mtu', mtu, 'type', 'veth', 'peer', 'name', IFACES.server, 'netns', s, 'mtu', mtu]);

  // rp_filter off before the interfaces exist in the gateway's view of "default" matters little:
  // set all/default and then each device, the effective value is the maximum of all and the device.
  runInNs(g, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);

  runInNs(c, ['ip', 'addr', 'add', `${a.client}/24`, 'dev', IFACES.client]);
  runInNs(c, ['ip', 'link', 'set', IFACES.client, 'up']);
  runInNs(c, ['ip', 'route', 'add', 'default', 'via', a.gatewayClientSide]);

  runInNs(s, ['ip', 'addr', 'add', `${a.server}/24`, 'dev', IFACES.server]);
  runInNs(s, ['ip', 'link', 'set', IFACES.server, 'up']);
  runInNs(s, ['ip', 'route', 'add', 'default', 'via', a.gatewayServerSide]);

  runInNs(g, ['ip', 'addr', 'add', `${a.gatewayClientSide}/24`, 'dev', IFACES.gatewayClientSide]);
  runInNs(g, ['ip', 'addr', 'add', `${a.gatewayServerSide}/24`, 'dev', IFACES.gatewayServerSide]);
  runInNs(g, ['ip', 'link', 'set', IFACES.gatewayClientSide, 'up']);
  runInNs(g, ['ip', 'link', 'set', IFACES.gatewayServerSide, 'up']);

  const allTuns = [...t.tuns, ...t.spareTuns];
  for (const tun of allTuns) {
    runInNs(g, ['ip', 'tuntap', 'add', 'dev', tun, 'mode', 'tun']);
    // txqueuelen 1000 as tunqos sets it on the devices it opens (the TUN default is 500), so the C
    // loop and tunqos are measured behind the same kernel queue.
    runInNs(g, ['ip', 'link', 'set', tun, 'mtu', mtu, 'txqueuelen', '1000', 'up']);
    runInNs(g, ['ip', 'route', 'add', 'default', 'dev', tun, 'table', String(t.tableOf(tun))]);
  }
  const devs = [IFACES.gatewayClientSide, IFACES.gatewayServerSide, ...allTuns];
  runInNs(g, ['sysctl', '-qw', ...devs.map((d) => `net.ipv4.conf.${d}.rp_filter=0`)]);

  if (t.mode !== 'kernel') t.divert(true);
}

/**
 * Removes leftovers of crashed runs: namespaces named `${prefix}{c,g,s}-<pid36>-<hex>` whose creator
 * pid is no longer alive (or every such namespace with force). Topologies of live processes (other
 * test files, other benchmark runs) are left alone. Returns the names removed. Never throws.
 */
export function sweep(prefix = DEFAULT_PREFIX, force = false): string[] {
  const pattern = new RegExp(`^${escapeRegExp(prefix)}[cgs]-([0-9a-z]+)-[0-9a-f]+$`);
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const m = pattern.exec(ns);
    if (!m) continue;
    const pid = Number.parseInt(m[1]!, 36);
    if (!force && isAlive(pid)) continue;
    if (removeNamespace(ns)) removed.push(ns);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Destroys every topology of this process that is still standing. Never throws. */
export function destroyAll(): void {
  for (const t of [...live]) t.destroy();
}

/**
 * Teardown on the way out: 'exit' (synchronous, so it still runs), and the terminating signals. A
 * signal handler removes itself and re-raises the signal when it was the only listener, so the
 * process still ends with the signal's usual status.
 */
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', destroyAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      destroyAll();
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** Whether this machine can build the topology: root, ip(8), /dev/net/tun. */
export function canBuildTopology(): { ok: boolean; reason?: string } {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'needs root' };
  const r = spawnSync('ip', ['-V'], { stdio: 'ignore' });
  if (r.status !== 0) return { ok: false, reason: 'ip(8) not found' };
  const fs = spawnSync('test', ['-c', '/dev/net/tun']);
  if (fs.status !== 0) return { ok: false, reason: '/dev/net/tun missing' };
  return { ok: true };
}
