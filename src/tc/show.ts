/**
 * `tc [-s] [-d] [-j] qdisc|class|filter show dev X`: the text (and JSON) iproute2 prints.
 *
 * The generic parts are tc's (tc/tc_qdisc.c print_qdisc, tc/tc_class.c print_class, tc/tc_util.c
 * print_tcstats_attr); the middle of each line comes from the kind (QdiscKind.formatQdisc/formatClass)
 * and the extra statistics lines from its xstats formatters:
 *   qdisc htb 1: root refcnt 2 r2q 10 default 0x30 direct_packets_stat 0 direct_qlen 1000
 *    Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) 
 *    backlog 0b 0p requeues 0
 *   class htb 1:10 parent 1:1 leaf 10: prio 0 rate 5Mbit ceil 5Mbit burst 15Kb cburst 1600b 
 * Order is the kernel's dump order: the root qdisc, then the other (named) qdiscs in the order of the
 * device's 16-bucket qdisc hash (hash_32(handle, 4), newest first in a bucket), then the ingress qdisc
 * and what hangs under it. Classes: the root qdisc's, then each hashed qdisc's in the same order, each
 * qdisc's in the walk order of its class hash (DeviceModel.classesOf, tc/class-order.ts).
 * `refcnt 2` is what a single-queue device (a TUN) shows for its root. Qdiscs with handle 0 other than
 * the root (default leaves) are invisible, as in Linux. The JSON follows `tc -j qdisc show`
 * (iproute2 6.1 prints no JSON for classes; tunqos prints the same fields as for qdiscs).
 * Recorded kernel output: test/fixtures/kernel/show/.
 */
import { type ClassfulQdisc, type Qdisc, type QdiscClass, TC_H_INGRESS, TC_H_ROOT, formatHandle, isClassful } from '../qdisc/qdisc';
import type { QdiscStats } from '../qdisc/stats';
import { formatRate, formatSize } from '../time/units';
import type { ShowFlags } from './command';
import { type DeviceModel, type QdiscEntry, qdiscHashBucket } from './device';

/** qdiscs as `tc qdisc show` lists them (visible ones, kernel order) */
export function visibleQdiscs(model: DeviceModel): QdiscEntry[] {
  const all = model.allQdiscs();
  const ordered = (side: 'egress' | 'ingress'): QdiscEntry[] => {
    const es = all.filter((e) => e.side === side);
    if (es.length === 0) return [];
    const [root, ...rest] = es;
    const named = rest.filter((e) => e.q.handle !== 0);
    named.sort((a, b) => {
      const d = qdiscHashBucket(a.q.handle) - qdiscHashBucket(b.q.handle);
      return d !== 0 ? d : model.graftOrder(b.q) - model.graftOrder(a.q);
    });
    return [root, ...named];
  };
  const egress = ordered('egress');
  const ingress = model.ingressQdisc ? ordered('ingress') : [];
  return [...egress, ...ingress];
}

function statsLines(s: QdiscStats): string[] {
  return [
    ` Sent ${s.bytes} bytes ${s.packets} pkt (dropped ${s.drops}, overlimits ${s.overlimits} requeues ${s.requeues}) `,
    // iproute2 prints the rate estimate on the backlog line when the kernel has an estimator; tunqos's
    // gateway samples one for every qdisc and class each second (src/control/stats-log.ts)
    `${s.rate.active ? ` rate ${formatRate(s.rate.bps)} ${Math.round(s.rate.pps)}pps` : ''} backlog ${formatSize(s.backlog)} ${s.qlen}p requeues ${s.requeues}`,
  ];
}

function statsJson(s: QdiscStats): Record<string, number> {
  const base: Record<string, number> = { bytes: s.bytes, packets: s.packets, drops: s.drops, overlimits: s.overlimits, requeues: s.requeues, backlog: s.backlog, qlen: s.qlen };
  return s.rate.active ? { ...base, rate: Math.round(s.rate.bps), pps: Math.round(s.rate.pps) } : base;
}

/** how print_qdisc and print_class go on after the handle: `root ` (with `rootWords`) or `parent X:Y ` */
function parentWords(isRoot: boolean, parent: number, rootWords: string): string {
  return isRoot ? rootWords : `parent ${formatHandle(parent)} `;
}

export interface QdiscSelector {
  /** TC_H_ROOT, TC_H_INGRESS, a classid (parent), or undefined */
  parent?: number;
  handle?: number;
}

export function showQdiscs(model: DeviceModel, flags: ShowFlags, sel: QdiscSelector = {}): string {
  let entries = visibleQdiscs(model);
  if (sel.parent === TC_H_ROOT) entries = entries.filter((e) => e.parent === TC_H_ROOT);
  else if (sel.parent === TC_H_INGRESS) entries = entries.filter((e) => e.parent === TC_H_INGRESS);
  else if (sel.parent !== undefined) entries = entries.filter((e) => e.parent === sel.parent);
  if (sel.handle !== undefined) entries = entries.filter((e) => e.q.handle === sel.handle);
  if (flags.json) {
    return `${JSON.stringify(
      entries.map((e) => {
        const kind = model.kindOf(e.q);
        const o: Record<string, unknown> = { kind: kind.kind, handle: formatHandle(e.q.handle) };
        if (e.parent === TC_H_ROOT) {
          o.root = true;
          o.refcnt = 2;
        } else o.parent = formatHandle(e.parent);
        o.options = kind.qdiscJson ? kind.qdiscJson(e.q) : {};
        if (flags.stats) Object.assign(o, statsJson(e.q.stats));
        return o;
      }),
    )}\n`;
  }
  const lines: string[] = [];
  for (const e of entries) {
    const kind = model.kindOf(e.q);
    lines.push(`qdisc ${kind.kind} ${formatHandle(e.q.handle)} ${parentWords(e.parent === TC_H_ROOT, e.parent, 'root refcnt 2 ')}${kind.formatQdisc(e.q, flags.details)}`);
    if (flags.stats) {
      lines.push(...statsLines(e.q.stats));
      if (kind.formatQdiscXstats) lines.push(...kind.formatQdiscXstats(e.q));
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export interface ClassEntry {
  q: ClassfulQdisc;
  cls: QdiscClass;
}

/** classes as `tc class show` lists them */
export function visibleClasses(model: DeviceModel): ClassEntry[] {
  const out: ClassEntry[] = [];
  for (const e of visibleQdiscs(model)) {
    if (!isClassful(e.q)) continue;
    for (const cls of model.classesOf(e.q)) out.push({ q: e.q, cls });
  }
  return out;
}

/** whether tc shows the class as `root`: HTB and CBQ report top-level classes so; other kinds name their qdisc as the parent */
function classIsRoot(model: DeviceModel, q: Qdisc, cls: QdiscClass): boolean {
  if (cls.parentid === TC_H_ROOT) return true;
  const k = model.kindOf(q).kind;
  return cls.parentid === q.handle && (k === 'htb' || k === 'cbq');
}

export interface ClassSelector {
  parent?: number;
  classid?: number;
}

export function showClasses(model: DeviceModel, flags: ShowFlags, sel: ClassSelector = {}): string {
  let entries = visibleClasses(model);
  if (sel.parent === TC_H_ROOT) entries = entries.filter((e) => e.cls.parentid === e.q.handle && e.q === model.egress.root);
  else if (sel.parent !== undefined) {
    const p = sel.parent;
    entries = entries.filter((e) => e.cls.parentid === p || ((p & 0xffff) === 0 && e.q.handle === p));
  }
  if (sel.classid !== undefined) entries = entries.filter((e) => e.cls.classid === sel.classid);
  if (flags.json) {
    return `${JSON.stringify(
      entries.map(({ q, cls }) => {
        const kind = model.kindOf(q);
        const o: Record<string, unknown> = { class: kind.kind, handle: formatHandle(cls.classid) };
        if (classIsRoot(model, q, cls)) o.root = true;
        else o.parent = formatHandle(cls.parentid);
        if (cls.leaf && cls.leaf.handle !== 0) o.leaf = formatHandle(cls.leaf.handle);
        o.options = kind.formatClass ? kind.formatClass(q, cls, flags.details).trim() : '';
        if (flags.stats) Object.assign(o, statsJson(cls.stats));
        return o;
      }),
    )}\n`;
  }
  const lines: string[] = [];
  for (const { q, cls } of entries) {
    const kind = model.kindOf(q);
    const leaf = cls.leaf && cls.leaf.handle !== 0 ? `leaf ${formatHandle(cls.leaf.handle)} ` : '';
    const middle = kind.formatClass ? kind.formatClass(q, cls, flags.details) : '';
    lines.push(`class ${kind.kind} ${formatHandle(cls.classid)} ${parentWords(classIsRoot(model, q, cls), cls.parentid, 'root ')}${leaf}${middle}`);
    if (flags.stats) {
      // tbf dumps no class statistics in Linux: tc prints only the blank separator
      if (kind.kind !== 'tbf') lines.push(...statsLines(cls.stats));
      if (kind.formatClassXstats) lines.push(...kind.formatClassXstats(q, cls));
      lines.push('');
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
