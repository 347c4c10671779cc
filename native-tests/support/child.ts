/**
 * Starting the topology child process and reading its first output line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Role } from '../../src/testbed/topology';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const TUNQOS_BIN = join(repoRoot, 'bin', 'tunqos.js');

export interface ChildTopology {
  child: ChildProcess;
  ns: Record<Role, string>;
  pid: number;
}

/** Starts native-tests/support/topology-child.ts and waits for its namespace names. */
export function startTopologyChild(mode = 'tun'): Promise<ChildTopology> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'topology-child.ts'), mode], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`topology child gave no output: ${err}`));
    }, 20_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        const parsed = JSON.parse(out.slice(0, nl)) as { ns: Record<Role, string>; pid: number };
        resolve({ child, ns: parsed.ns, pid: parsed.pid });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`topology child exited (${code}) early: ${err}`));
    });
  });
}

/** Resolves with the exit code and signal once the child has exited. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}
