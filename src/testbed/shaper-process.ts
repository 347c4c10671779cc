/**
 * tunqos as the shaper under test: `tunqos run -c FILE --control PATH` started on a topology's TUN
 * device(s) with a rendered script (src/testbed/script.ts), waited for until its control socket
 * answers, and read through that socket (`tc -s -j class show dev X` and `tc -s qdisc show dev X`,
 * src/control/socket.ts) in this process: no `tunqos tc` child per poll.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendTc } from '../control/socket';
import { type ClassSample, parseClassJson, parseQdiscText, type QdiscSample } from './tc-output';
import { IFACES, type Topology } from './topology';
import { spawnTunqos, type TunqosProcess } from './tunqos-process';

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

/** Polls the control socket at `path` until it answers (or the process exits, or `timeoutMs` passes). */
export async function waitForControl(path: string, proc: TunqosProcess, timeoutMs: number): Promise<void> {
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

/** Class samples of a running tunqos device. */
export async function readClasses(shaper: ShaperProcess, dev: string): Promise<ClassSample[]> {
  return parseClassJson(await shaper.tc(['-s', '-j', 'class', 'show', 'dev', dev]));
}

/** Qdisc samples of a running tunqos device. */
export async function readQdiscs(shaper: ShaperProcess, dev: string): Promise<QdiscSample[]> {
  return parseQdiscText(await shaper.tc(['-s', 'qdisc', 'show', 'dev', dev]));
}
