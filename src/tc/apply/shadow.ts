/**
 * The shadow of one device: what apply.ts plays commands on before anything live changes. It is a
 * structural copy of the device's tree (handles, kinds, classes, which qdisc hangs where) plus a clone
 * of its FilterSet; playing a command checks it against the shadow, updates the shadow, and records
 * the operations (Op) that commit.ts later replays on the live model, in order.
 */
import type { Qdisc, QdiscClass } from '../../qdisc/qdisc';
import { TC_H_INGRESS, TC_H_ROOT, isClassful, formatHandle } from '../../qdisc/qdisc';
import { INGRESS_HANDLE } from '../../qdisc/ingress';
import type { DeviceModel } from '../device';
import type { FilterSet } from '../filter-set';
import type { QdiscKind } from '../kinds';
import { TcError, type Token } from '../tokens';

/** where a qdisc hangs: the egress root, the ingress root, under the ingress qdisc, or under a class */
export type Where = 'root' | 'ingress' | 'ingress-child' | 'class';

export type Side = 'egress' | 'ingress';

export interface SClass {
  classid: number;
  parentid: number;
  children: number;
  /** handle of the grafted qdisc, 0 for the default leaf */
  leaf: number;
  /** options as parsed by the kind (set when added/changed in this batch) */
  opts: unknown;
  live: QdiscClass | undefined;
}

export interface SQdisc {
  kind: QdiscKind;
  handle: number;
  side: Side;
  inst: Qdisc;
  /** created by this batch (nothing live points at it yet) */
  fresh: boolean;
  classes: Map<number, SClass>;
}

/** One change for the live model, recorded while playing and replayed by commit.ts. */
export type Op =
  | { op: 'graft'; where: Where; classid: number; holder: Qdisc | null; q: Qdisc; kind: QdiscKind }
  | { op: 'ungraft'; where: Where; classid: number; holder: Qdisc | null; q: Qdisc; label: string }
  | { op: 'change'; q: Qdisc; kind: QdiscKind; opts: unknown }
  | { op: 'addClass'; q: Qdisc; kind: QdiscKind; classid: number; parentid: number; opts: unknown }
  | { op: 'changeClass'; q: Qdisc; kind: QdiscKind; classid: number; opts: unknown; prev: unknown }
  | { op: 'delClass'; q: Qdisc; kind: QdiscKind; classid: number };

export class Shadow {
  readonly qdiscs = new Map<number, SQdisc>();
  egressRoot: number;
  ingressRoot: number;
  ingressChild: number;
  readonly filters: FilterSet;
  /** set when a filter command (or a deletion that takes filters along) changed `filters` */
  filtersTouched = false;
  readonly ops: Op[] = [];
  /** the command each op came from (kinds' warnings during the replay are located there) */
  readonly opTokens: Token[] = [];
  /** the command being played */
  current: Token | undefined;

  constructor(readonly model: DeviceModel) {
    this.filters = model.filters.clone();
    for (const e of model.allQdiscs()) {
      if (e.q.handle === 0) continue;
      this.qdiscs.set(e.q.handle, this.describe(e.q, model.kindOf(e.q), e.side, false));
    }
    this.egressRoot = model.egress.root.handle;
    const ing = model.ingressQdisc;
    this.ingressRoot = ing ? ing.handle : 0;
    this.ingressChild = ing && !ing.childIsDefault ? ing.child.handle : 0;
  }

  push(op: Op): void {
    this.ops.push(op);
    this.opTokens.push(this.current!);
  }

  describe(q: Qdisc, kind: QdiscKind, side: Side, fresh: boolean): SQdisc {
    const classes = new Map<number, SClass>();
    if (isClassful(q)) {
      for (const c of q.classes()) {
        classes.set(c.classid, { classid: c.classid, parentid: c.parentid, children: 0, leaf: c.leaf?.handle ?? 0, opts: undefined, live: c });
      }
      for (const c of classes.values()) {
        const p = classes.get(c.parentid);
        if (p) p.children++;
      }
    }
    return { kind, handle: q.handle, side, inst: q, fresh, classes };
  }
}

/** A place a qdisc hangs (or can hang), and what is there now. */
export interface Attachment {
  where: Where;
  classid: number;
  /** the qdisc holding the class (where = class) or the ingress qdisc (where = ingress-child) */
  holder: SQdisc | null;
  /** handle currently there (0: the default) */
  current: number;
  side: Side;
  /** the parent value the kernel reports (TC_H_ROOT, TC_H_INGRESS, ffff:, classid) */
  parentValue: number;
}

function attachmentAt(where: Where, classid: number, holder: SQdisc | null, current: number): Attachment {
  const side: Side = where === 'root' ? 'egress' : where === 'class' ? holder!.side : 'ingress';
  const parentValue = where === 'root' ? TC_H_ROOT : where === 'ingress' ? TC_H_INGRESS : where === 'ingress-child' ? INGRESS_HANDLE : classid;
  return { where, classid, holder, current, side, parentValue };
}

/** The attachment a command's `root`, `ingress` or `parent X:Y` names, checked against the shadow. */
export function attachment(sh: Shadow, parent: number, at: Token): Attachment {
  const dev = sh.model.name;
  if (parent === TC_H_ROOT) return attachmentAt('root', 0, null, sh.egressRoot);
  if (parent === TC_H_INGRESS) return attachmentAt('ingress', 0, null, sh.ingressRoot);
  if ((parent & 0xffff) === 0) {
    if (parent === INGRESS_HANDLE) {
      if (sh.ingressRoot === 0) {
        throw new TcError(`no ingress qdisc on ${dev} (add one first: tc qdisc add dev ${dev} handle ffff: ingress)`, at);
      }
      return attachmentAt('ingress-child', 0, sh.qdiscs.get(INGRESS_HANDLE)!, sh.ingressChild);
    }
    throw new TcError(`parent ${formatHandle(parent)} names a qdisc: a qdisc hangs under a class (parent X:Y), root or ingress`, at);
  }
  const major = (parent & 0xffff0000) >>> 0;
  const holder = sh.qdiscs.get(major);
  if (!holder) throw new TcError(`no qdisc ${formatHandle(major)} on ${dev} for parent ${formatHandle(parent)}`, at);
  const cls = holder.classes.get(parent);
  if (!cls || !isClassful(holder.inst)) throw new TcError(`class ${formatHandle(parent)} does not exist on ${dev}`, at);
  if (cls.children > 0) throw new TcError(`class ${formatHandle(parent)} has child classes: only a leaf class holds a qdisc`, at);
  return attachmentAt('class', parent, holder, cls.leaf);
}

/** Where an existing qdisc hangs, found by searching the shadow. */
export function attachmentOf(sh: Shadow, node: SQdisc): Attachment {
  const h = node.handle;
  if (sh.egressRoot === h) return attachmentAt('root', 0, null, h);
  if (sh.ingressRoot === h) return attachmentAt('ingress', 0, null, h);
  if (sh.ingressChild === h) return attachmentAt('ingress-child', 0, sh.qdiscs.get(INGRESS_HANDLE)!, h);
  for (const q of sh.qdiscs.values()) {
    for (const c of q.classes.values()) {
      if (c.leaf === h) return attachmentAt('class', c.classid, q, h);
    }
  }
  throw new Error(`tunqos bug: qdisc ${formatHandle(h)} hangs nowhere`);
}

/** Records that `handle` (0: the default) now hangs at `a`. */
export function setAttached(sh: Shadow, a: Attachment, handle: number): void {
  if (a.where === 'root') sh.egressRoot = handle;
  else if (a.where === 'ingress') {
    sh.ingressRoot = handle;
    if (handle === 0) sh.ingressChild = 0;
  } else if (a.where === 'ingress-child') sh.ingressChild = handle;
  else a.holder!.classes.get(a.classid)!.leaf = handle;
}

/** Removes qdisc `handle` and everything under it from the shadow, with the filters attached there. */
export function dropSubtree(sh: Shadow, handle: number): void {
  const node = sh.qdiscs.get(handle);
  if (!node) return;
  for (const c of node.classes.values()) {
    if (c.leaf !== 0) dropSubtree(sh, c.leaf);
    dropFilters(sh, c.classid);
  }
  if (handle === INGRESS_HANDLE && sh.ingressChild !== 0) {
    dropSubtree(sh, sh.ingressChild);
    sh.ingressChild = 0;
  }
  dropFilters(sh, handle);
  sh.qdiscs.delete(handle);
}

function dropFilters(sh: Shadow, parent: number): void {
  if (sh.filters.deleteParent(parent)) sh.filtersTouched = true;
}

/** `qdisc htb 1:`, how a purge note names a qdisc */
export function label(n: SQdisc): string {
  return `qdisc ${n.kind.kind} ${formatHandle(n.handle)}`;
}
