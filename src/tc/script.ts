/**
 * Shell scripts as configurations: run a bash script and record the `tc` commands it would run.
 *
 * People keep their tc setups in shell scripts (LARTC's `U32="tc filter add ..."; $U32 match ...`,
 * `${DOWNLINK}kbit`, `$[9*$UPLINK/10]`, loops over clients). tunqos runs such a script with real bash,
 * so variables, arithmetic, loops and functions behave exactly as in bash, but with `tc` defined as a
 * shell function that only records its arguments (NUL-separated, with the script line it was called
 * from: bash's BASH_LINENO) instead of talking to a kernel. The recorded commands are then parsed and
 * applied atomically like a config file, located as `SCRIPT (tc call #N):LINE:COL` where COL counts
 * in the expanded command `tc ARGS...`.
 *
 * Safety: the script runs as the invoking user with no root needed. Commands that would change the
 * system in a typical tc script (ip, ifconfig, iptables, ip6tables, sysctl, modprobe, ethtool, tcpdump,
 * insmod, rmmod) are also replaced by functions that record them and do nothing; they are reported as
 * warnings. Anything else the script runs does run: a script given to tunqos should only hold tc logic.
 * The script gets no input, runs with a 60 s time limit, and its own exit status is only a warning
 * (a shell script's later commands run even when an earlier one failed).
 * A script's `tc ... show` calls print nothing at load time; they are dropped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LexedCommand } from './lexer';
import { TcError, type Token } from './tokens';

/** commands a tc script may run that tunqos never lets touch the system */
export const NEUTRALISED_COMMANDS = ['ip', 'ifconfig', 'iptables', 'ip6tables', 'sysctl', 'modprobe', 'insmod', 'rmmod', 'ethtool', 'tcpdump'];

export interface ScriptRecord {
  /** the tc calls, in order, each as tokens located in the script */
  calls: LexedCommand[];
  /** neutralised commands, non-zero exit, stderr of the script */
  warnings: string[];
  exitCode: number;
}

const PRELUDE = `
tc() {
  printf '%s\\0' "\${BASH_LINENO[0]}" "$#" "$@" >> "$TUNQOS_TC_RECORD"
  return 0
}
__tunqos_neutralised() {
  printf '%s\\0' "\${BASH_LINENO[1]}" "$#" "$@" >> "$TUNQOS_SKIP_RECORD"
  return 0
}
${NEUTRALISED_COMMANDS.map((c) => `${c}() { __tunqos_neutralised ${c} "$@"; }`).join('\n')}
source "$1"
`;

interface RawCall {
  line: number;
  argv: string[];
}

function readRecord(path: string): RawCall[] {
  if (!existsSync(path)) return [];
  const parts = readFileSync(path, 'utf8').split('\0');
  const calls: RawCall[] = [];
  let i = 0;
  while (i + 1 < parts.length) {
    const line = Number(parts[i]);
    const n = Number(parts[i + 1]);
    if (!Number.isInteger(n) || n < 0) break;
    calls.push({ line: Number.isFinite(line) ? line : 0, argv: parts.slice(i + 2, i + 2 + n) });
    i += 2 + n;
  }
  return calls;
}

/** Runs `file` with bash, `tc` recorded. Throws TcError when the script cannot be run at all. */
export function recordScript(file: string, opts: { timeoutMs?: number; displayName?: string } = {}): ScriptRecord {
  if (!existsSync(file)) throw new TcError(`cannot read script "${file}"`);
  const name = opts.displayName ?? file;
  const dir = mkdtempSync(join(tmpdir(), 'tunqos-script-'));
  const rec = join(dir, 'tc-calls');
  const skip = join(dir, 'neutralised');
  try {
    const r = spawnSync('bash', ['-c', PRELUDE, 'tunqos-script', file], {
      env: { ...process.env, TUNQOS_TC_RECORD: rec, TUNQOS_SKIP_RECORD: skip },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    if (r.error) throw new TcError(`cannot run script "${file}" with bash: ${r.error.message}`);
    const warnings: string[] = [];
    for (const s of readRecord(skip)) {
      warnings.push(`${name}:${s.line}: warning: not run (tunqos only records tc): ${s.argv.join(' ')}`);
    }
    const exitCode = r.status ?? 1;
    const err = (r.stderr ?? '').trim();
    if (err) for (const l of err.split('\n')) warnings.push(`${name}: warning: script stderr: ${l}`);
    if (r.signal) warnings.push(`${name}: warning: script killed by ${r.signal} (time limit?)`);
    else if (exitCode !== 0) warnings.push(`${name}: warning: script exited with status ${exitCode}`);
    const calls = readRecord(rec).map((c, i) => toCommand(c, `${name} (tc call #${i + 1})`));
    return { calls: calls.filter((c): c is LexedCommand => c !== null), warnings, exitCode };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function toCommand(c: RawCall, file: string): LexedCommand | null {
  // columns count in the expanded command line `tc ARG ARG ...`
  const anchor: Token = { text: 'tc', file, line: c.line, col: 1 };
  let col = 4;
  const tokens: Token[] = c.argv.map((text) => {
    const t: Token = { text, file, line: c.line, col };
    col += text.length + 1;
    return t;
  });
  if (tokens.length === 0) return null;
  return { tokens, anchor };
}
