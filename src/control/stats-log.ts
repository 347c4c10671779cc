/**
 * Periodic statistics: rate estimates and structured snapshots of every counter.
 *
 *  - `sampleRates(provider, now)` feeds every qdisc's and class's RateEstimator with its byte and
 *    packet counters, so `tc -s` can print `rate 1Mbit 83pps` and metrics can export rates. The caller
 *    owns the timer and calls it about once a second (Linux's default estimator interval is also 1 s,
 *    with an EWMA on top; see RateEstimator in src/qdisc/stats.ts).
 *  - `snapshot(provider)` returns a plain object of all counters (JSON-ready), per shaped side, per
 *    qdisc and per class, plus per-class sojourn summaries: what `kill -USR1 <tunqos pid>` writes to
 *    the log via `logSnapshot`.
 *
 * Runs at timer/signal time only, never per packet.
 */
import { type Qdisc, formatHandle } from '../qdisc/qdisc';
import { DROP_REASON_NAMES, type QdiscStats } from '../qdisc/stats';
import type { Nanos } from '../time/clock';
import { type Direction, type SideProvider, parentLabel, walkTree } from './tree';

export interface CounterSnapshot {
  bytes: number;
  packets: number;
  drops: number;
  /** only the reasons with a non-zero count */
  dropsByReason: Record<string, number>;
  overlimits: number;
  requeues: number;
  qlen: number;
  backlog: number;
  /** estimated, bytes per second */
  rateBps: number;
  ratePps: number;
}

export interface QdiscSnapshot extends CounterSnapshot {
  kind: string;
  handle: string;
  parent: string;
}

export interface ClassSnapshot extends CounterSnapshot {
  /** kind of the qdisc the class belongs to */
  kind: string;
  classid: string;
  parent: string;
  /** `pfifo 0:` — the leaf qdisc, or null for an inner class */
  leaf: string | null;
}

export interface SojournSummary {
  class: string;
  count: number;
  meanSeconds: number;
}

export interface LinkSnapshot {
  dev: string;
  direction: Direction;
  qdiscs: QdiscSnapshot[];
  classes: ClassSnapshot[];
  sojourn: SojournSummary[];
}

export interface TreeSnapshot {
  links: LinkSnapshot[];
}

/** Feeds every rate estimator of every tree with the current counters. */
export function sampleRates(provider: SideProvider, now: Nanos): void {
  const sample = (s: QdiscStats): void => s.rate.sample(now, s.bytes, s.packets);
  for (const side of provider()) {
    walkTree(side.tree.root, { qdisc: (q) => sample(q.stats), cls: (c) => sample(c.stats) }, side.classesOf);
  }
}

function counters(s: QdiscStats): CounterSnapshot {
  const dropsByReason: Record<string, number> = {};
  for (let r = 0; r < DROP_REASON_NAMES.length; r++) if (s.dropsByReason[r] > 0) dropsByReason[DROP_REASON_NAMES[r]] = s.dropsByReason[r];
  return {
    bytes: s.bytes,
    packets: s.packets,
    drops: s.drops,
    dropsByReason,
    overlimits: s.overlimits,
    requeues: s.requeues,
    qlen: s.qlen,
    backlog: s.backlog,
    rateBps: s.rate.bps,
    ratePps: s.rate.pps,
  };
}

const describeQdisc = (q: Qdisc): string => `${q.kind} ${formatHandle(q.handle)}`;

/** Every counter of every tree, as a plain object. */
export function snapshot(provider: SideProvider): TreeSnapshot {
  const links: LinkSnapshot[] = [];
  for (const side of provider()) {
    const qdiscs: QdiscSnapshot[] = [];
    const classes: ClassSnapshot[] = [];
    walkTree(side.tree.root, {
      qdisc: (q) => qdiscs.push({ kind: q.kind, handle: formatHandle(q.handle), parent: parentLabel(q.parent), ...counters(q.stats) }),
      cls: (c, owner) =>
        classes.push({
          kind: owner.kind,
          classid: formatHandle(c.classid),
          parent: formatHandle(c.parentid),
          leaf: c.leaf ? describeQdisc(c.leaf) : null,
          ...counters(c.stats),
        }),
    }, side.classesOf);
    const sojourn: SojournSummary[] = [];
    if (side.sojourn) {
      for (const [classid, h] of side.sojourn.entries()) {
        sojourn.push({ class: formatHandle(classid === 0 ? side.tree.root.handle : classid), count: h.count, meanSeconds: h.count > 0 ? h.sum / h.count / 1e9 : 0 });
      }
    }
    links.push({ dev: side.dev, direction: side.direction, qdiscs, classes, sojourn });
  }
  return { links };
}

/** The part of a pino logger this module uses. */
export interface SnapshotLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Logs `snapshot(provider)` at info level (an error is logged, never thrown). The runtime runs it when
 * its snapshot trigger fires: `kill -USR1 <pid>` in the CLI (src/cli/signals.ts), since only cli/
 * reads signals.
 */
export function logSnapshot(logger: SnapshotLogger, provider: SideProvider): void {
  try {
    logger.info({ stats: snapshot(provider) }, 'tc statistics snapshot');
  } catch (e) {
    logger.error({ err: e }, 'tc statistics snapshot failed');
  }
}
