/**
 * Network namespaces through ip(8): create, run commands inside, list the processes inside, delete.
 *
 * Everything the gateway builds lives inside namespaces it created itself, so deleting the namespaces
 * removes every device, address, route and rule with them. The one thing a namespace deletion does
 * not undo is a process still running inside it (it keeps the namespace alive, unnamed), so `remove`
 * kills the namespace's processes first.
 *
 * Setup commands are synchronous (`execFileSync`): they are short, their failure should stop the
 * setup with the command's own stderr, and teardown must also work from a process 'exit' handler,
 * where nothing asynchronous runs any more. Long runs (iperf3, ping) use `runAsync`.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`command failed (${code === null ? 'killed' : `exit ${code}`}): ${argv.join(' ')}${stderr ? `\n${stderr.trim()}` : ''}`);
    this.name = 'CommandError';
  }
}

/** Runs argv (in the current namespace), returns stdout; throws CommandError with stderr on failure. */
export function run(argv: readonly string[], timeoutMs = 20_000): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) throw new CommandError(argv, null, String(r.error.message));
  if (r.status !== 0) throw new CommandError(argv, r.status, r.stderr ?? '');
  return r.stdout ?? '';
}

/** Like run, but never throws: for teardown. Returns whether the command succeeded. */
export function tryRun(argv: readonly string[], timeoutMs = 10_000): boolean {
  try {
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: timeoutMs });
    return r.status === 0;
  } catch {
    return false;
  }
}

/** argv prefixed so that it runs inside namespace `ns`. */
export function inNs(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/** Runs argv inside `ns` synchronously; returns stdout, throws CommandError on failure. */
export function runInNs(ns: string, argv: readonly string[], timeoutMs?: number): string {
  return run(inNs(ns, argv), timeoutMs);
}

export interface AsyncResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs argv to completion without blocking the event loop; kills it (SIGKILL) after timeoutMs. */
export function runAsync(argv: readonly string[], timeoutMs: number, track?: (c: ChildProcess) => void): Promise<AsyncResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    track?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: stderr + String(e.message) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Spawns argv inside `ns` (ip netns exec replaces itself with argv, so child.pid is argv's pid). */
export function spawnInNs(ns: string, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const full = inNs(ns, argv);
  return spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

/** Names of all named network namespaces (`ip netns list`); [] when there are none or ip fails. */
export function listNamespaces(): string[] {
  try {
    const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    // Lines look like "name" or "name (id: 3)".
    return out
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter((n) => n.length > 0);
  } catch {
    return [];
  }
}

/** Pids of the processes whose network namespace is `ns`. */
export function namespacePids(ns: string): number[] {
  try {
    const out = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out
      .split('\n')
      .map((l) => Number.parseInt(l.trim(), 10))
      .filter((p) => Number.isInteger(p) && p > 0);
  } catch {
    return [];
  }
}

/**
 * Deletes namespace `ns` after SIGKILLing every process inside it (only processes this project put
 * there: namespaces are created per run with unique names). Never throws; returns whether the
 * namespace is gone.
 */
export function removeNamespace(ns: string): boolean {
  for (let attempt = 0; attempt < 5; attempt++) {
    for (const pid of namespacePids(ns)) {
      if (pid === process.pid) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    tryRun(['ip', 'netns', 'del', ns]);
    if (!listNamespaces().includes(ns)) return true;
    // A process may still be exiting; give it a moment.
    spawnSync('sleep', ['0.05']);
  }
  return !listNamespaces().includes(ns);
}
