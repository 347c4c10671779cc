/**
 * What the native tests check about the host: whether they can run at all, and a snapshot of the
 * root namespace (links, rules, routes, named namespaces) to prove a topology left nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { canBuildTopology } from '../../src/testbed/topology';

export const native = canBuildTopology();
export const hasIperf3 = spawnSync('iperf3', ['--version'], { stdio: 'ignore' }).status === 0;
export const hasPing = spawnSync('ping', ['-V'], { stdio: 'ignore' }).status === 0;

function lines(argv: string[]): string[] {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

export interface HostSnapshot {
  links: string[];
  rules: string[];
  routes: string[];
  namespaces: string[];
}

/** Root-namespace state, reduced to names/lines that a leaking topology would add. */
export function hostSnapshot(): HostSnapshot {
  return {
    links: lines(['ip', '-o', 'link', 'show']).map((l) => l.split(':')[1]!.trim().split('@')[0]!),
    rules: lines(['ip', 'rule', 'show']),
    routes: lines(['ip', 'route', 'show', 'table', 'all']),
    namespaces: lines(['ip', 'netns', 'list']).map((l) => l.split(/\s+/)[0]!),
  };
}

/** Whether a process is still alive (signal 0 probe). */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0; it is dead for our purposes.
  const stat = spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).stdout ?? '';
  return !/^\d+ \(.*\) Z /.test(stat);
}
