/**
 * tunqos as a separate process in the gateway namespace (`tunqos run …` via ip netns exec), the way
 * the demo, the native tests and the end-to-end benchmark use it. Its stderr is kept (the last few
 * KB) for error messages; stdout is discarded, so a chatty logger can never block on a full pipe.
 */
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Topology } from './topology';

export const TUNQOS_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tunqos.js');

export interface TunqosProcess {
  child: ChildProcess;
  /** the tail of what it wrote to stderr so far */
  stderr(): string;
  /** resolves when it has exited */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `tunqos ARGS…` in the gateway namespace without waiting for anything. */
export function spawnTunqos(topo: Topology, args: readonly string[]): TunqosProcess {
  const child = topo.spawnInGateway([process.execPath, TUNQOS_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-8000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, stderr: () => err, exited };
}

export interface RunOptions {
  /** 'tun' (write back into the TUN) or 'raw' (raw socket bound to the topology's server-side veth) */
  egress?: 'tun' | 'raw';
  /** TUN devices to forward (default: the topology's tuns) */
  devs?: readonly string[];
  /** tc script to load (-c) */
  config?: string;
  /** extra arguments for `tunqos run` */
  extra?: readonly string[];
  timeoutMs?: number;
}

/**
 * Starts `tunqos run --dev <each TUN of the topology> --egress …` and waits until it holds every
 * TUN device; throws with its stderr if it exits first or takes too long (and kills it).
 */
export async function startTunqos(topo: Topology, options: RunOptions = {}): Promise<TunqosProcess> {
  const devs = options.devs ?? topo.tuns;
  const args = ['run'];
  for (const dev of devs) args.push('--dev', dev);
  args.push('--egress', options.egress === 'raw' ? `raw:${topo.rawEgress}` : 'tun');
  if (options.config) args.push('-c', options.config);
  if (options.extra) args.push(...options.extra);
  const proc = spawnTunqos(topo, args);
  try {
    await topo.waitAttached(devs, true, options.timeoutMs ?? 20_000, proc.child);
  } catch (e) {
    proc.child.kill('SIGKILL');
    await proc.exited;
    const tail = proc.stderr().trim().split('\n').slice(-4).join(' | ');
    throw new Error(`tunqos ${args.join(' ')}: ${(e as Error).message}${tail ? `: ${tail}` : ''}`);
  }
  return proc;
}
