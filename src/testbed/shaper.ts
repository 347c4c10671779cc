/**
 * One tc script, two shapers: the demo, the shaping tests and bench/shaping.ts run the same `tc`
 * commands either on the KERNEL (the gateway's egress veth `gs`, topology mode 'kernel') or on
 * TUNQOS (`tunqos run -c FILE --control PATH` on the topology's TUN devices, mode 'tun'), so every
 * figure tunqos produces can be put beside the kernel's own for the same configuration.
 *
 * Scripts are written with placeholders for device names, replaced before use:
 *   $DEV   the device whose egress shapes client → server ("upload"): `gs` for the kernel, `tqup`
 *          for tunqos.
 * A script may also be written for a fixed device (configs/demo.tc names its own device):
 * `renameDevice` rewrites every `dev NAME` in it.
 *
 * The kernel side runs each command with `tc` inside the gateway namespace. This kernel has HTB, TBF
 * and u32 but no SFQ, RED, netem or act_police, so only those scripts can be compared; the others
 * are measured on tunqos alone, against what the configuration promises.
 *
 * Statistics come from the running gateway's control socket (`tc -s -j class show dev X` and
 * `tc -s qdisc show dev X`, src/control/socket.ts) in this process: no `tunqos tc` child per poll.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendTc } from '../control/socket';
import { parseRate } from '../time/units';
import { IFACES, type Topology } from './topology';
import { spawnTunqos, type TunqosProcess } from './tunqos-process';

/** Replaces `$DEV` (and any other `$NAME` given) in a script template. */
export function renderScript(template: string, vars: Record<string, string>): string {
  return template.replace(/\$([A-Z][A-Z0-9_]*)/g, (whole, name: string) => vars[name] ?? whole);
}

/** Rewrites `dev FROM` into `dev TO` everywhere in a tc script (word boundaries respected). */
export function renameDevice(text: string, from: string, to: string): string {
  const esc = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`(\\bdev\\s+)${esc}(?![\\w.-])`, 'g'), `$1${to}`);
}

/** The device names of the first `dev X` in a script (used to adapt a fixed-device config). */
export function devicesOf(text: string): string[] {
  const names = new Set<string>();
  for (const m of stripComments(text).matchAll(/\bdev\s+([\w.-]+)/g)) names.add(m[1]!);
  return [...names];
}

function stripComments(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('\n');
}

/**
 * The commands of a script as argv lists (without the leading `tc`): comments removed, backslash
 * continuations joined, blank lines skipped. Enough for the scripts of this project (no quoting).
 */
export function scriptCommands(text: string): string[][] {
  const joined = text.replace(/\\\n/g, ' ');
  const out: string[][] = [];
  for (const raw of joined.split('\n')) {
    const words = raw.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    out.push(words[0] === 'tc' ? words.slice(1) : words);
  }
  return out;
}

/** Device names a script template resolves to, per shaper. */
export const KERNEL_DEVICES = { DEV: IFACES.gatewayServerSide } as const;
export const TUNQOS_DEVICES = { DEV: IFACES.tunUp } as const;

/** Runs every command of a (rendered) script with the kernel's tc in the gateway namespace. */
export function applyKernelScript(topo: Topology, text: string): void {
  for (const argv of scriptCommands(text)) topo.exec('gateway', ['tc', ...argv]);
}

/** Removes the kernel's root and ingress qdiscs of a gateway device (errors ignored). */
export function clearKernelQdiscs(topo: Topology, dev: string): void {
  for (const argv of [['qdisc', 'del', 'dev', dev, 'root'], ['qdisc', 'del', 'dev', dev, 'ingress']]) {
    try {
      topo.exec('gateway', ['tc', ...argv]);
    } catch {
      /* nothing there */
    }
  }
}

/** A running `tunqos run -c FILE --control PATH` in a topology's gateway. */
export interface ShaperProcess {
  proc: TunqosProcess;
  /** control socket path */
  control: string;
  /** the config file it was started with */
  configFile: string;
  /** runs a tc command against it (argv without `tc`); throws when tc fails */
  tc(argv: string[]): Promise<string>;
  /** SIGTERM, wait for the exit (SIGKILL after 5 s), remove the temporary files; never throws */
  stop(): Promise<void>;
}

export interface StartShaperOptions {
  /** feed $DEV's ingress side from the topology's second TUN (`--ingress tqup=tqdn`); needs a
   *  topology built with directions 'both' */
  ingress?: boolean;
  /** extra `tunqos run` arguments (e.g. --metrics) */
  extra?: readonly string[];
  timeoutMs?: number;
}

/**
 * Writes `text` (already rendered for tunqos's device names) to a private temporary directory and
 * starts tunqos on the topology's TUN device(s) with it and a control socket beside it.
 */
export async function startShaper(topo: Topology, text: string, options: StartShaperOptions = {}): Promise<ShaperProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tunqos-shape-'));
  const configFile = join(dir, 'shape.tc');
  const control = join(dir, 'control.sock');
  writeFileSync(configFile, text, { mode: 0o600 });
  const up = IFACES.tunUp;
  const args = ['run', '--dev', up, '--egress', 'tun', '-c', configFile, '--control', control];
  const tuns: string[] = [up];
  if (options.ingress) {
    if (topo.directions !== 'both') throw new Error('startShaper: ingress needs a topology with directions "both"');
    args.push('--ingress', `${up}=${IFACES.tunDown}`);
    tuns.push(IFACES.tunDown);
  }
  args.push(...(options.extra ?? []));
  const proc = spawnTunqos(topo, args);
  try {
    await topo.waitAttached(tuns, true, options.timeoutMs ?? 20_000, proc.child);
    await waitForControl(control, proc, 10_000);
  } catch (e) {
    proc.child.kill('SIGKILL');
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
    const tail = proc.stderr().trim().split('\n').slice(-4).join(' | ');
    throw new Error(`tunqos ${args.join(' ')}: ${(e as Error).message}${tail ? `: ${tail}` : ''}`);
  }
  let stopped: Promise<void> | null = null;
  return {
    proc,
    control,
    configFile,
    async tc(argv: string[]): Promise<string> {
      const r = await sendTc(control, argv, { timeoutMs: 10_000 });
      if (r.code !== 0) throw new Error(`tunqos tc ${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
      return r.stdout;
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        const c = proc.child;
        if (c.exitCode === null && c.signalCode === null) {
          c.kill('SIGTERM');
          const t = setTimeout(() => c.kill('SIGKILL'), 5_000);
          await proc.exited;
          clearTimeout(t);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

async function waitForControl(path: string, proc: TunqosProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await sendTc(path, ['qdisc', 'show'], { timeoutMs: 2_000 });
      return;
    } catch (e) {
      if (proc.child.exitCode !== null) throw new Error(`tunqos exited (${proc.child.exitCode}) before its control socket answered: ${proc.stderr().trim().slice(-400)}`);
      if (Date.now() > deadline) throw new Error(`tunqos control socket ${path} did not answer: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One class as `tc -s -j class show` reports it, with rate and ceil parsed (bits per second). */
export interface ClassSample {
  kind: string;
  handle: string;
  parent: string | null;
  leaf: string | null;
  /** configured rate and ceil in bit/s (HTB); NaN for kinds without them */
  rateBps: number;
  ceilBps: number;
  prio: number;
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
  backlog: number;
  qlen: number;
}

/** Parses the JSON of `tc -s -j class show` (tunqos prints the qdisc fields; see src/tc/show.ts). */
export function parseClassJson(json: string): ClassSample[] {
  const arr = JSON.parse(json) as Array<Record<string, any>>;
  return arr.map((o) => {
    const options = typeof o.options === 'string' ? o.options : '';
    const rate = /\brate (\S+)/.exec(options)?.[1];
    const ceil = /\bceil (\S+)/.exec(options)?.[1];
    const prio = /\bprio (\d+)/.exec(options)?.[1];
    return {
      kind: String(o.class ?? o.kind ?? ''),
      handle: String(o.handle),
      parent: o.root ? null : o.parent !== undefined ? String(o.parent) : null,
      leaf: o.leaf !== undefined ? String(o.leaf) : null,
      rateBps: rate ? parseRate(rate) * 8 : NaN,
      ceilBps: ceil ? parseRate(ceil) * 8 : rate ? parseRate(rate) * 8 : NaN,
      prio: prio ? Number(prio) : 0,
      bytes: Number(o.bytes ?? 0),
      packets: Number(o.packets ?? 0),
      drops: Number(o.drops ?? 0),
      overlimits: Number(o.overlimits ?? 0),
      backlog: Number(o.backlog ?? 0),
      qlen: Number(o.qlen ?? 0),
    };
  });
}

/** Per-qdisc counters of the text `tc -s qdisc show` (the kernel's format), with RED's xstats. */
export interface QdiscSample {
  kind: string;
  handle: string;
  parent: string;
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
  /** RED: CE marks, early drops, drops over the hard limit (0 for other kinds) */
  marked: number;
  early: number;
  pdrop: number;
}

/** Parses the text of `tc -s qdisc show` (kernel or tunqos: the same format). */
export function parseQdiscText(text: string): QdiscSample[] {
  const out: QdiscSample[] = [];
  let cur: QdiscSample | null = null;
  for (const line of text.split('\n')) {
    const head = /^qdisc (\S+) (\S+) (root|parent (\S+)|ingress)/.exec(line);
    if (head) {
      cur = {
        kind: head[1]!,
        handle: head[2]!,
        parent: head[3] === 'root' ? 'root' : head[3] === 'ingress' ? 'ingress' : head[4]!,
        bytes: 0,
        packets: 0,
        drops: 0,
        overlimits: 0,
        marked: 0,
        early: 0,
        pdrop: 0,
      };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const sent = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(line);
    if (sent) {
      cur.bytes = Number(sent[1]);
      cur.packets = Number(sent[2]);
      cur.drops = Number(sent[3]);
      cur.overlimits = Number(sent[4]);
    }
    for (const key of ['marked', 'early', 'pdrop'] as const) {
      const m = new RegExp(`\\b${key} (\\d+)`).exec(line);
      if (m) cur[key] = Number(m[1]);
    }
  }
  return out;
}

/** Class samples of a running tunqos device. */
export async function readClasses(shaper: ShaperProcess, dev: string): Promise<ClassSample[]> {
  return parseClassJson(await shaper.tc(['-s', '-j', 'class', 'show', 'dev', dev]));
}

/** Qdisc samples of a running tunqos device. */
export async function readQdiscs(shaper: ShaperProcess, dev: string): Promise<QdiscSample[]> {
  return parseQdiscText(await shaper.tc(['-s', 'qdisc', 'show', 'dev', dev]));
}

/** Qdisc samples of a kernel device in the gateway. */
export function readKernelQdiscs(topo: Topology, dev: string): QdiscSample[] {
  return parseQdiscText(topo.exec('gateway', ['tc', '-s', 'qdisc', 'show', 'dev', dev]));
}

/** Jain's fairness index of a list of throughputs: (Σx)² / (n·Σx²); 1 = perfectly fair. */
export function jainIndex(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sum = values.reduce((a, b) => a + b, 0);
  const sq = values.reduce((a, b) => a + b * b, 0);
  return sq === 0 ? NaN : (sum * sum) / (values.length * sq);
}
