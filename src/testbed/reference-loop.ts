/**
 * The reference forwarder: bench/tunloop.c, a C loop that reads a packet from the TUN and writes it
 * straight back, compiled on first use with `cc -O2` into bench/out/ (ignored by git). It is the
 * user-space floor tunqos is measured against, and a forwarder the native tests can use to prove the
 * topology's routing without depending on tunqos.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './netns';
import type { Topology } from './topology';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TUNLOOP_SOURCE = join(repoRoot, 'bench', 'tunloop.c');
export const TUNLOOP_BINARY = join(repoRoot, 'bench', 'out', 'tunloop');

/** Compiles bench/tunloop.c unless the binary is newer than the source; returns the binary's path. */
export function buildTunloop(): string {
  const fresh = existsSync(TUNLOOP_BINARY) && statSync(TUNLOOP_BINARY).mtimeMs >= statSync(TUNLOOP_SOURCE).mtimeMs;
  if (!fresh) {
    mkdirSync(dirname(TUNLOOP_BINARY), { recursive: true });
    run(['cc', '-O2', '-Wall', '-o', TUNLOOP_BINARY, TUNLOOP_SOURCE], 60_000);
  }
  return TUNLOOP_BINARY;
}

/** Starts the C loop on TUN `dev` in the gateway and waits until it holds the device. */
export async function startTunloop(topo: Topology, dev: string = topo.tuns[0]!): Promise<ChildProcess> {
  const bin = buildTunloop();
  const child = topo.spawnInGateway([bin, dev], { stdio: ['ignore', 'ignore', 'pipe'] });
  await topo.waitAttached([dev], true, 10_000, child);
  return child;
}

/** Stops a forwarder child (SIGTERM, then SIGKILL) and waits until the TUN devices are released. */
export async function stopForwarder(topo: Topology, child: ChildProcess, devs: readonly string[] = topo.tuns): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  await topo.waitAttached(devs, false, 5000);
}
