/**
 * Start-up benchmark (root): how long tunqos takes to answer as a command-line tool, and how soon
 * `tunqos run` forwards after it was started. A script that calls `tunqos tc` a few hundred times
 * against a live gateway pays the first figure each time; a gateway restarted under traffic pays the
 * second once.
 *
 *   tunqos --version          median of 20 runs of `node bin/tunqos.js --version`: node, the bundle in
 *                             dist/ and commander, nothing else (the floor of every command)
 *   tunqos tc -s qdisc show   median of 20 against a running gateway (configs/demo.tc on its TUN),
 *                             over the control socket; target ≤ 150 ms
 *   tunqos run                from spawn to the first packet it forwarded: the client pings the
 *                             server every 2 ms through the TUN (unanswered while nobody reads it),
 *                             tunqos is spawned, and the first reply's timestamp (ping -D) ends the
 *                             clock; target ≤ 1 s. Beside it, when its log lines say so, where that
 *                             time went (modules loaded, JIT warm-up, devices open, control socket).
 *
 * Every row stands beside the real `tc -s qdisc show` (median of 20), the reference for what a
 * command-line tool costs. The commands run as the user would type them: a fresh node process each.
 * One untimed start comes first: the bin rebuilds dist/ then if a source changed, so no row includes a rebuild.
 *
 * Usage: npx tsx bench/startup.ts     (root: it builds a client/gateway/server namespace topology)
 * Teardown (namespaces, processes, the temporary directory) runs at the end, on an error and on Ctrl-C.
 * The machine is shared: the figures move with its load; compare the rows of one run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CONFIG } from '../src/demo/demo';
import { median } from '../src/testbed/stats';
import { devicesOf, renameDevice } from '../src/testbed/script';
import { canBuildTopology, createTopology, IFACES, type Topology } from '../src/testbed/topology';
import { TUNQOS_BIN, spawnTunqos, type TunqosProcess } from '../src/testbed/tunqos-process';

const RUNS = 20;
const TC_TARGET_MS = 150;
const RUN_TARGET_MS = 1000;
const PING_INTERVAL_S = 0.002;
const FORWARD_TIMEOUT_MS = 15_000;

/** Wall-clock now in ms with sub-ms precision (ping -D prints the wall clock in µs). */
const wallMs = (): number => performance.timeOrigin + performance.now();

/** Median wall time of RUNS runs of argv; fails unless every run exits 0 and `check` accepts its output. */
function medianRun(argv: readonly string[], check: (stdout: string) => boolean = () => true): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
    const ms = performance.now() - t0;
    if (r.status !== 0 || !check(r.stdout)) {
      throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
    }
    times.push(ms);
  }
  return median(times);
}

interface RunStart {
  /** spawn → the first packet forwarded (the first ping reply) */
  forwardMs: number;
  /** what the log says, in ms since spawn: first line, forwarding, control socket ready */
  log: { firstLine?: number; warmupMs?: number; forwarding?: number; control?: number };
}

/**
 * Starts `tunqos run` on the topology's TUN while the client pings the server every 2 ms, and returns
 * when the first reply arrives: the first packet tunqos forwarded (the replies come back through the
 * kernel, not the TUN, so they cost the same before and after). The log runs at debug level, as JSON
 * lines with epoch-ms times, so its lines tell where the start-up went.
 */
async function measureRun(topo: Topology, config: string, control: string): Promise<{ start: RunStart; proc: TunqosProcess }> {
  const pinger = topo.spawnIn('client', ['ping', '-n', '-D', '-i', String(PING_INTERVAL_S), '-W', '1', topo.addr.server], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise((r) => setTimeout(r, 200)); // the pinger is up and its requests are being dropped
  const firstReply = new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no packet forwarded within ${FORWARD_TIMEOUT_MS} ms`)), FORWARD_TIMEOUT_MS);
    pinger.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /^\[(\d+\.\d+)\] \d+ bytes from /m.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]) * 1000);
      }
    });
  });
  process.env.TUNQOS_LOG_LEVEL = 'debug'; // inherited through ip netns exec; JSON lines (stderr is a pipe)
  const t0 = wallMs();
  const proc = spawnTunqos(topo, ['run', '--dev', IFACES.tunUp, '--egress', 'tun', '-c', config, '--control', control]);
  const exitedEarly = proc.exited.then(({ code, signal }) => {
    throw new Error(`tunqos run exited (${code ?? signal}) before forwarding: ${proc.stderr().trim().split('\n').slice(-3).join(' | ')}`);
  });
  const replyAt = await Promise.race([firstReply, exitedEarly]);
  pinger.kill('SIGTERM');
  // the log lines up to now (pino writes synchronously; a moment for the pipe)
  await new Promise((r) => setTimeout(r, 100));
  return { start: { forwardMs: replyAt - t0, log: logTimes(proc.stderr(), t0) }, proc };
}

/** ms since t0 of the log lines that mark start-up stages (absent ones stay undefined). */
function logTimes(stderr: string, t0: number): RunStart['log'] {
  const out: RunStart['log'] = {};
  for (const line of stderr.split('\n')) {
    let j: { time?: number; msg?: string; ms?: number };
    try {
      j = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof j.time !== 'number' || typeof j.msg !== 'string') continue;
    const at = j.time - t0;
    out.firstLine ??= at;
    if (j.msg === 'JIT warm-up done' && typeof j.ms === 'number') out.warmupMs = j.ms;
    if (j.msg.startsWith('forwarding on ')) out.forwarding ??= at;
    if (j.msg.startsWith('control socket ready')) out.control ??= at;
  }
  return out;
}

function row(label: string, ms: number | undefined, target: string, ref: string): string {
  const v = ms === undefined ? '—' : `${ms.toFixed(0)} ms`;
  return `${label.padEnd(40)}${v.padStart(9)}   ${target.padEnd(10)}${ref.padStart(12)}`;
}

async function main(): Promise<void> {
  const can = canBuildTopology();
  if (!can.ok) throw new Error(`bench/startup.ts needs root, ip(8) and /dev/net/tun: ${can.reason}`);
  // One untimed start: bin/tunqos.js rebuilds dist/ here if a source is newer, so no row includes it.
  const first = spawnSync(process.execPath, [TUNQOS_BIN, '--version'], { encoding: 'utf8', timeout: 60_000 });
  if (first.status !== 0) throw new Error(`tunqos --version failed: ${first.stderr.trim()}`);
  const tmp = mkdtempSync(join(tmpdir(), 'tunqos-startup-'));
  let topo: Topology | undefined;
  const teardown = (): void => {
    topo?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  };
  // Ctrl-C: tear down, then end as interrupted (installed before the topology's own handlers, which
  // would re-raise the signal and end the process before the temporary directory goes)
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      teardown();
      process.stderr.write(`bench/startup.ts: ${sig}, torn down\n`);
      process.exit(130);
    });
  }
  const node = process.execPath;
  try {
    process.stderr.write(`measuring (${RUNS} runs each) ...\n`);
    const tcRef = medianRun(['tc', '-s', 'qdisc', 'show']);
    const version = medianRun([node, TUNQOS_BIN, '--version'], (out) => /^\d+\.\d+\.\d+/.test(out));

    const demo = readFileSync(DEMO_CONFIG, 'utf8');
    const config = join(tmp, 'demo.tc');
    writeFileSync(config, renameDevice(demo, devicesOf(demo)[0]!, IFACES.tunUp));
    const control = join(tmp, 'control.sock');
    topo = createTopology({ mode: 'tun' });
    const { start } = await measureRun(topo, config, control);
    const show = medianRun([node, TUNQOS_BIN, 'tc', '--control', control, '-s', 'qdisc', 'show'], (out) => out.includes('qdisc htb 1: root'));

    const ref = `${tcRef.toFixed(1)} ms`;
    const lines = [
      `tunqos start-up: median of ${RUNS} (tunqos as a fresh node process each time, like a shell script calls it)`,
      `${''.padEnd(40)}${'tunqos'.padStart(9)}   ${'target'.padEnd(10)}${'tc -s qdisc'.padStart(12)}`,
      row('tunqos --version', version, '', ref),
      row('tunqos tc -s qdisc show (live gateway)', show, `≤ ${TC_TARGET_MS} ms`, ref),
      row('tunqos run: spawn → first packet fwd', start.forwardMs, `≤ ${RUN_TARGET_MS} ms`, ''),
      `  of which (from its log, ms after spawn): first log line ${fmt(start.log.firstLine)}, JIT warm-up ${fmt(start.log.warmupMs)} long,` +
        ` forwarding ${fmt(start.log.forwarding)}, control socket ${fmt(start.log.control)}`,
      `verdict: tc ${show <= TC_TARGET_MS ? 'meets' : 'MISSES'} its target, run ${start.forwardMs <= RUN_TARGET_MS ? 'meets' : 'MISSES'} its target`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    teardown();
  }
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? '?' : `${ms.toFixed(0)} ms`;
}

main().catch((e) => {
  process.stderr.write(`bench/startup.ts: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
