/**
 * A tiny strict-priority classful qdisc for control-plane tests, built only from the real contracts
 * (Qdisc, ClassfulQdisc, QdiscStats, Fifo): packets go to the band whose classid is in
 * arena.classid[pkt] (else the first band), parents learn child changes from qlen/backlog deltas, and
 * a drop in a band is counted by the band's leaf, the band and the root, as Linux PRIO/HTB do.
 */
import type { Arena } from '../../src/packet/arena';
import type { Classifier } from '../../src/classify/classifier';
import { createQdiscEnv } from '../../src/qdisc/env';
import { Fifo } from '../../src/qdisc/fifo';
import { type ClassfulQdisc, type Qdisc, type QdiscClass, type QdiscOwner, TC_H_ROOT, XMIT_DROP, tcHandle } from '../../src/qdisc/qdisc';
import { DropReason, QdiscStats } from '../../src/qdisc/stats';
import { seededRandom } from '../../src/qdisc/env';

export class FakeBand implements QdiscClass {
  filters: Classifier | null = null;
  readonly stats = new QdiscStats();
  constructor(
    readonly classid: number,
    readonly parentid: number,
    readonly leaf: Qdisc,
  ) {}
}

export class FakePrio implements ClassfulQdisc, QdiscOwner {
  readonly kind = 'prio';
  parent = TC_H_ROOT;
  readonly stats = new QdiscStats();
  filters: Classifier | null = null;
  owner: QdiscOwner | null = null;
  wakeAt = Infinity;
  readonly bands: FakeBand[];

  constructor(
    public handle: number,
    private readonly arena: Arena,
    limits: number[],
  ) {
    const env = createQdiscEnv(arena, seededRandom(1));
    this.bands = limits.map((limit, i) => {
      const leaf = new Fifo('pfifo', 0, env, { limit });
      const band = new FakeBand(tcHandle(handle >>> 16, i + 1), handle, leaf);
      leaf.parent = band.classid;
      leaf.owner = this;
      return band;
    });
  }

  classes(): QdiscClass[] {
    return this.bands;
  }
  getClass(classid: number): QdiscClass | undefined {
    return this.bands.find((b) => b.classid === classid);
  }
  graft(): Qdisc | null {
    throw new Error('not in this fake');
  }
  childReduced(_child: Qdisc, packets: number, bytes: number): void {
    this.stats.qlen -= packets;
    this.stats.backlog -= bytes;
  }

  enqueue(pkt: number, now: number): number {
    const band = this.bands.find((b) => b.classid === this.arena.classid[pkt]) ?? this.bands[0];
    const q0 = band.leaf.stats.qlen;
    const b0 = band.leaf.stats.backlog;
    const verdict = band.leaf!.enqueue(pkt, now);
    const dq = band.leaf.stats.qlen - q0;
    const db = band.leaf.stats.backlog - b0;
    this.stats.qlen += dq;
    this.stats.backlog += db;
    band.stats.qlen += dq;
    band.stats.backlog += db;
    if (verdict === XMIT_DROP) {
      this.stats.countDrop(DropReason.QueueFull);
      band.stats.countDrop(DropReason.QueueFull);
    }
    return verdict;
  }

  dequeue(now: number): number {
    for (const band of this.bands) {
      const pkt = band.leaf.dequeue(now);
      if (pkt < 0) continue;
      const len = this.arena.len[pkt];
      this.stats.qlen--;
      this.stats.backlog -= len;
      this.stats.countSent(len);
      band.stats.qlen--;
      band.stats.backlog -= len;
      band.stats.countSent(len);
      return pkt;
    }
    return -1;
  }

  peek(): number {
    for (const band of this.bands) {
      const p = band.leaf.peek(0);
      if (p >= 0) return p;
    }
    return -1;
  }

  reset(): void {
    for (const b of this.bands) b.leaf.reset();
  }
}

/** Prometheus text → samples; `value(name, labels)` finds the one sample whose labels include `labels`. */
export function parseExposition(text: string): { samples: Array<{ name: string; labels: Record<string, string>; value: number }>; value(name: string, labels?: Record<string, string>): number } {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return {
    samples,
    value(name, want = {}) {
      const hits = samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v));
      if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(want)}`);
      return hits[0].value;
    },
  };
}
