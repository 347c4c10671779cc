/**
 * Parsers of tc's show output, as tunqos prints it (src/tc/show.ts) and as the kernel's tc does (the
 * text format is the same): `tc -s -j class show` → ClassSample[], `tc -s qdisc show` → QdiscSample[].
 * The testbed reads a running shaper's counters through them.
 */
import { parseRate } from '../time/units';

/** One class as `tc -s -j class show` reports it, with rate and ceil parsed (bits per second). */
export interface ClassSample {
  kind: string;
  handle: string;
  parent: string | null;
  leaf: string | null;
  /** configured rate and ceil in bit/s (HTB); NaN for kinds without them */
  rateBps: number;
  ceilBps: number;
  prio: number;
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
  backlog: number;
  qlen: number;
}

/** Parses the JSON of `tc -s -j class show` (tunqos prints the qdisc fields; see src/tc/show.ts). */
export function parseClassJson(json: string): ClassSample[] {
  const arr = JSON.parse(json) as Array<Record<string, any>>;
  return arr.map((o) => {
    const options = typeof o.options === 'string' ? o.options : '';
    const rate = /\brate (\S+)/.exec(options)?.[1];
    const ceil = /\bceil (\S+)/.exec(options)?.[1];
    const prio = /\bprio (\d+)/.exec(options)?.[1];
    return {
      kind: String(o.class ?? o.kind ?? ''),
      handle: String(o.handle),
      parent: o.root ? null : o.parent !== undefined ? String(o.parent) : null,
      leaf: o.leaf !== undefined ? String(o.leaf) : null,
      rateBps: rate ? parseRate(rate) * 8 : NaN,
      ceilBps: ceil ? parseRate(ceil) * 8 : rate ? parseRate(rate) * 8 : NaN,
      prio: prio ? Number(prio) : 0,
      bytes: Number(o.bytes ?? 0),
      packets: Number(o.packets ?? 0),
      drops: Number(o.drops ?? 0),
      overlimits: Number(o.overlimits ?? 0),
      backlog: Number(o.backlog ?? 0),
      qlen: Number(o.qlen ?? 0),
    };
  });
}

/** Per-qdisc counters of the text `tc -s qdisc show` (the kernel's format), with RED's xstats. */
export interface QdiscSample {
  kind: string;
  handle: string;
  parent: string;
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
  /** RED: CE marks, early drops, drops over the hard limit (0 for other kinds) */
  marked: number;
  early: number;
  pdrop: number;
}

/** Parses the text of `tc -s qdisc show` (kernel or tunqos: the same format). */
export function parseQdiscText(text: string): QdiscSample[] {
  const out: QdiscSample[] = [];
  let cur: QdiscSample | null = null;
  for (const line of text.split('\n')) {
    const head = /^qdisc (\S+) (\S+) (root|parent (\S+)|ingress)/.exec(line);
    if (head) {
      cur = {
        kind: head[1]!,
        handle: head[2]!,
        parent: head[3] === 'root' ? 'root' : head[3] === 'ingress' ? 'ingress' : head[4]!,
        bytes: 0,
        packets: 0,
        drops: 0,
        overlimits: 0,
        marked: 0,
        early: 0,
        pdrop: 0,
      };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const sent = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(line);
    if (sent) {
      cur.bytes = Number(sent[1]);
      cur.packets = Number(sent[2]);
      cur.drops = Number(sent[3]);
      cur.overlimits = Number(sent[4]);
    }
    for (const key of ['marked', 'early', 'pdrop'] as const) {
      const m = new RegExp(`\\b${key} (\\d+)`).exec(line);
      if (m) cur[key] = Number(m[1]);
    }
  }
  return out;
}
