/**
 * Where a lone packet's time goes (root): the kernel's own trace events split the trip of each idle
 * ping through a forwarder into
 *
 *   xmit → wake-up     the kernel hands the packet to the TUN (net_dev_start_xmit) until it wakes the
 *                      forwarder's thread (sched_wakeup)
 *   wake-up → running  until that thread is on a CPU (sched_switch)
 *   running → write()  user space: from running again to the write() that sends the packet back
 *                      (sys_enter_write); for Node this is epoll, libuv, the addon, V8 and tunqos
 *
 * for the C loop (bench/tunloop.c), tunqos with its default keep-warm ticks and tunqos with
 * `--keep-warm off`, on one topology, in interleaved rounds, with the ping RTT and the forwarder's CPU
 * time beside them. It is the measurement behind the keep-warm design (src/forwarder/wakeup.ts; the
 * figures are in bench/NOTES.md): the kernel parts are the same for all three; what differs is the
 * user-space part after a long sleep.
 *
 * Uses tracefs (/sys/kernel/tracing) events only, filtered to the device and process under test, and
 * restores every event it touched (also on failure and SIGINT). Another user of tracefs at the same
 * time would see these events switched on and off.
 *
 * Usage: npx tsx bench/wakeup.ts [--rounds N] [--pings N] [--interval SECONDS]   (defaults 3, 40, 0.05)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { processCpuNanos } from '../src/testbed/cpu-time';
import { iperfTcp, ping, startIperfServer } from '../src/testbed/iperf';
import { median } from '../src/testbed/stats';
import { startTunloop } from '../src/testbed/reference-loop';
import { canBuildTopology, createTopology, sweep } from '../src/testbed/topology';
import { startTunqos } from '../src/testbed/tunqos-process';

const TRACEFS = '/sys/kernel/tracing';
const EVENTS = ['net/net_dev_start_xmit', 'sched/sched_wakeup', 'sched/sched_switch', 'syscalls/sys_enter_write'] as const;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`bench/wakeup: ${name} needs a positive number, got "${process.argv[i + 1] ?? ''}"\n`);
    process.exit(2);
  }
  return v;
}
const ROUNDS = arg('--rounds', 3);
const PINGS = arg('--pings', 40);
const INTERVAL = arg('--interval', 0.05);

function tracefs(file: string, value: string): void {
  writeFileSync(`${TRACEFS}/${file}`, value);
}

/** Switches the events on, each filtered to this device and this process; clears the buffer. */
function traceOn(dev: string, pid: number): void {
  tracefs('tracing_on', '0');
  tracefs('trace_clock', 'mono');
  tracefs('trace', '');
  tracefs('events/net/net_dev_start_xmit/filter', `name == "${dev}"`);
  tracefs('events/sched/sched_wakeup/filter', `pid == ${pid}`);
  tracefs('events/sched/sched_switch/filter', `next_pid == ${pid}`);
  tracefs('events/syscalls/sys_enter_write/filter', `common_pid == ${pid}`);
  for (const e of EVENTS) tracefs(`events/${e}/enable`, '1');
  tracefs('tracing_on', '1');
}

/** Switches every event off and removes the filters (safe to call twice). */
function traceOff(): void {
  try {
    tracefs('tracing_on', '0');
    for (const e of EVENTS) {
      tracefs(`events/${e}/enable`, '0');
      tracefs(`events/${e}/filter`, '0');
    }
  } catch {
    // tracefs gone or not ours to write: nothing left to restore
  }
}

interface Event {
  t: number; // µs
  kind: string;
}

/** The trace buffer as (time, event name) pairs, in order. */
function readTrace(): Event[] {
  const out: Event[] = [];
  for (const line of readFileSync(`${TRACEFS}/trace`, 'utf8').split('\n')) {
    if (line.startsWith('#')) continue;
    // `… 6679.915088: net_dev_start_xmit: dev=…`, syscall events as `… 6679.915194: sys_write(fd: …)`
    const m = /\s(\d+\.\d+): (\w+)[:(]/.exec(line);
    if (m) out.push({ t: Number(m[1]) * 1e6, kind: m[2]! });
  }
  return out;
}

interface Split {
  toWakeup: number[];
  toRunning: number[];
  toWrite: number[];
  total: number[];
  /** packets that found the thread awake already (no wake-up before the write) */
  awake: number;
}

/** For every packet handed to the TUN, the next wake-up, switch-in and write() of the forwarder. */
function split(events: Event[], into: Split): void {
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.kind !== 'net_dev_start_xmit') continue;
    const t0 = events[i]!.t;
    let woke = NaN;
    let ran = NaN;
    for (let j = i + 1; j < events.length && events[j]!.t - t0 < 10_000; j++) {
      const e = events[j]!;
      if (e.kind === 'net_dev_start_xmit') break; // the next packet: this one was not written back
      if (e.kind === 'sched_wakeup' && Number.isNaN(woke)) woke = e.t;
      else if (e.kind === 'sched_switch' && Number.isNaN(ran)) ran = e.t;
      else if (e.kind === 'sys_write') {
        into.total.push(e.t - t0);
        if (Number.isNaN(woke) || Number.isNaN(ran)) into.awake++;
        else {
          into.toWakeup.push(woke - t0);
          into.toRunning.push(ran - woke);
          into.toWrite.push(e.t - ran);
        }
        break;
      }
    }
  }
}

interface Path {
  label: string;
  dev: string;
  pid: number;
  rtt: number[];
  cpu: number;
  wall: number;
  split: Split;
}

async function main(): Promise<void> {
  const can = canBuildTopology();
  if (!can.ok) throw new Error(`${can.reason}; run as root`);
  if (!existsSync(`${TRACEFS}/events/syscalls/sys_enter_write`)) throw new Error(`${TRACEFS} has no syscall events (tracefs not mounted, or a kernel without them)`);
  sweep();
  const topo = createTopology({ mode: 'kernel', spareTuns: 2 });
  const [warm, cold] = topo.spareTuns as [string, string];
  const newSplit = (): Split => ({ toWakeup: [], toRunning: [], toWrite: [], total: [], awake: 0 });
  const onSignal = (): void => {
    traceOff();
    topo.destroy();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    const srv = await startIperfServer(topo);
    const loop = await startTunloop(topo, topo.tuns[0]!);
    const tq = await startTunqos(topo, { devs: [warm] });
    const tqCold = await startTunqos(topo, { devs: [cold], extra: ['--keep-warm', 'off'] });
    const paths: Path[] = [
      { label: 'C loop', dev: topo.tuns[0]!, pid: loop.pid!, rtt: [], cpu: 0, wall: 0, split: newSplit() },
      { label: 'tunqos (keep-warm 1ms)', dev: warm, pid: tq.child.pid!, rtt: [], cpu: 0, wall: 0, split: newSplit() },
      { label: 'tunqos --keep-warm off', dev: cold, pid: tqCold.child.pid!, rtt: [], cpu: 0, wall: 0, split: newSplit() },
    ];
    // JIT, ARP and socket buffers warm on every path, as in bench/e2e.ts
    for (const p of paths) {
      topo.routeUpInto(p.dev);
      await iperfTcp(topo, { seconds: 1 }).catch(() => undefined);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const p of paths) {
        process.stderr.write(`round ${round}/${ROUNDS}: ${p.label} …\n`);
        topo.routeUpInto(p.dev);
        const cpu0 = processCpuNanos(p.pid);
        const t0 = performance.now();
        traceOn(p.dev, p.pid);
        try {
          const r = await ping(topo, { count: PINGS, interval: INTERVAL });
          p.rtt.push(...r.rttsMs.map((ms) => ms * 1000));
        } finally {
          traceOff();
        }
        p.wall += performance.now() - t0;
        p.cpu += (processCpuNanos(p.pid) - cpu0) / 1e6;
        split(readTrace(), p.split);
      }
    }
    srv.stop();
    print(paths);
  } finally {
    traceOff();
    topo.destroy();
    process.off('SIGINT', onSignal);
  }
}

function print(paths: Path[]): void {
  const us = (v: number[]): string => (v.length ? `${median(v).toFixed(0)} µs` : 'n/a');
  const c = median(paths[0]!.rtt);
  const rows = [
    ['', 'ping RTT', 'vs C loop', 'xmit→wake-up', 'wake-up→running', 'running→write()', 'xmit→write()', 'found awake', 'CPU'],
    ...paths.map((p) => {
      const rtt = median(p.rtt);
      const d = rtt - c;
      return [
        p.label,
        `${rtt.toFixed(0)} µs`,
        `${d >= 0 ? '+' : ''}${d.toFixed(0)} µs`,
        us(p.split.toWakeup),
        us(p.split.toRunning),
        us(p.split.toWrite),
        us(p.split.total),
        `${p.split.awake}/${p.split.total.length}`,
        `${((p.cpu / p.wall) * 100).toFixed(1)}%`,
      ];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(`\nidle pings ${INTERVAL * 1000} ms apart, ${ROUNDS} interleaved rounds of ${PINGS}; medians over all packets\n`);
  for (const r of rows) process.stdout.write(`${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}\n`);
  process.stdout.write('CPU: the forwarder process during its pings, as a share of one core\n');
}

main().catch((e) => {
  traceOff();
  process.stderr.write(`bench/wakeup: ${(e as Error).message}\n`);
  process.exit(1);
});
