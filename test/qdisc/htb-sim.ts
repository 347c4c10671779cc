/**
 * A small discrete-time simulator for HTB tests: saturated sources keep a few packets queued in their
 * class; the "link" dequeues back to back (optionally at a link rate), and when HTB is throttled the
 * clock jumps to its wakeAt, plus an optional random lateness (a scheduler that wakes up late).
 * Bytes are counted per source after a warm-up, so the initial burst does not distort rates.
 */
import type { Arena } from '../../src/packet/arena';
import type { Qdisc } from '../../src/qdisc/qdisc';
import { XMIT_DROP } from '../../src/qdisc/qdisc';
import type { Nanos } from '../../src/time/clock';

export const mbit = (x: number): number => (x * 1e6) / 8;
export const kbit = (x: number): number => (x * 1e3) / 8;

export interface Source {
  /** what to put in arena.priority (HTB's direct class selection); 0 = leave to filters/default */
  priority: number;
  size: number;
  /** packets kept queued (default 8) */
  keep?: number;
}

export interface SimOptions {
  duration: Nanos;
  /** bytes are counted from this time on (default 1 s) */
  warmup?: Nanos;
  /** serialisation rate of the link in bytes/s; undefined: infinitely fast (batch at each wake-up) */
  linkBps?: number;
  /** extra delay added to each wake-up (ns) */
  lateness?: () => Nanos;
  /** optional: window length (ns) for per-window byte counts */
  window?: Nanos;
}

export interface SimResult {
  /** bytes sent per source after warm-up */
  bytes: number[];
  /** bytes per source per window (whole run) */
  windows: number[][];
  /** rate per source in bytes/s over [warmup, duration] */
  rates: number[];
  wakeups: number;
}

export function simulate(q: Qdisc, arena: Arena, sources: Source[], o: SimOptions): SimResult {
  const warmup = o.warmup ?? 1e9;
  const bytes = sources.map(() => 0);
  const windows: number[][] = sources.map(() => []);
  const pending = sources.map(() => 0);
  let now = 0;
  let wakeups = 0;
  const offer = (i: number): void => {
    const s = sources[i];
    while (pending[i] < (s.keep ?? 8)) {
      const id = arena.alloc();
      if (id < 0) throw new Error('simulation arena exhausted');
      arena.len[id] = s.size;
      arena.priority[id] = s.priority;
      arena.flowHash[id] = i;
      if (q.enqueue(id, now) === XMIT_DROP) return;
      pending[i]++;
    }
  };
  for (let i = 0; i < sources.length; i++) offer(i);
  while (now < o.duration) {
    const pkt = q.dequeue(now);
    if (pkt >= 0) {
      const i = arena.flowHash[pkt];
      const len = arena.len[pkt];
      if (now >= warmup) bytes[i] += len;
      if (o.window) {
        const w = Math.floor(now / o.window);
        const row = windows[i];
        while (row.length <= w) row.push(0);
        row[w] += len;
      }
      pending[i]--;
      arena.free(pkt);
      offer(i);
      if (o.linkBps) now += (len * 1e9) / o.linkBps;
    } else {
      if (q.wakeAt === Infinity) break;
      now = Math.max(now, q.wakeAt) + (o.lateness ? o.lateness() : 0);
      wakeups++;
    }
  }
  const secs = (o.duration - warmup) / 1e9;
  return { bytes, windows, rates: bytes.map((b) => b / secs), wakeups };
}
