/**
 * Applying tc commands atomically: all of them, or none.
 *
 * How: every command is first played against a SHADOW of each device it names: a structural copy of
 * the tree (handles, kinds, classes, which qdisc hangs where) plus a clone of the device's FilterSet.
 * Playing a command on the shadow checks everything Linux checks (exclusivity of `add`, majors unique
 * per device, classes sharing their qdisc's major, leaf-only grafts, kinds that match, ...), parses the
 * kind's options against the state the earlier commands produced, and creates the NEW qdiscs (fresh
 * objects that nothing live points at yet). Any TcError aborts here, before anything live changed.
 * Only then is the list of recorded operations replayed on the live model, in command order: grafts
 * of the fresh qdiscs, kinds' change/addClass/changeClass/deleteClass, deletions. Qdiscs that leave the
 * tree are purged (their queued packets freed and counted as Purge drops) once everything succeeded.
 * Should a kind still throw during the replay (a bug: parsing is meant to validate completely), the
 * operations already done are undone in reverse order, as far as they can be, and the error reported.
 *
 * Semantics follow Linux's tc_modify_qdisc/tc_ctl_tclass (net/sched/sch_api.c):
 *  - `qdisc add` on an occupied parent: "Exclusivity flag on, cannot modify"; a handle already used
 *    on the device: "Exclusivity flag on, cannot override".
 *  - `qdisc replace`: creates, or changes the qdisc in place when it has the same handle/kind, or
 *    replaces it (the old tree is purged).
 *  - `qdisc change` and `class change` keep queued packets (the kinds' change/changeClass).
 *  - `qdisc del` purges and counts what the qdisc held; filters attached to it and its classes go too.
 *  - `class del` refuses a class with children, with filters attached to it, or that a filter's
 *    classid/flowid still names (Linux: "HTB class in use").
 */
import type { Qdisc, QdiscClass } from '../qdisc/qdisc';
import { TC_H_INGRESS, TC_H_ROOT, isClassful, formatHandle } from '../qdisc/qdisc';
import type { ClassCommand, FilterCommandWords, QdiscCommand, TcCommand } from './command';
import type { DeviceModel } from './device';
import { parseFilterCommand } from './filter-command';
import type { FilterSet } from './filter-set';
import { type ParseContext, type QdiscKind, findKind, kindNames } from './kinds';
import { INGRESS_HANDLE, IngressQdisc } from '../qdisc/ingress';
import { ingressKind } from './kinds/ingress';
import { Args, TcError, type Token, locate, tokensFromArgv } from './tokens';

/** What applyCommands works on: the devices, and how to name new ones and new qdiscs. */
export interface ApplyTarget {
  /** the device named `name`; `create` (config files) makes it when missing, else undefined */
  device(name: string, create: boolean): DeviceModel | undefined;
  /** the next automatic qdisc handle (8001:, 8002:, ... as the kernel hands them out) */
  allocHandle(): number;
  /** redirects the devices' env.warn (kinds' warnings while creating) to this sink during apply */
  setWarnSink(sink: ((message: string) => void) | null): void;
}

export interface ApplyOptions {
  /** create devices that do not exist yet (config files); live commands must name existing devices */
  createDevices: boolean;
  /**
   * scripts: a `del` of something absent is a warning, not an error (scripts start with
   * `tc qdisc del dev X root 2>/dev/null` and carry on when it fails, as bash does)
   */
  lenientDelete?: boolean;
}

export interface ApplyResult {
  /** `FILE:LINE:COL: warning: message` lines */
  warnings: string[];
  /** informational lines (e.g. what a delete purged) */
  notes: string[];
}

type Where = 'root' | 'ingress' | 'ingress-child' | 'class';

interface SClass {
  classid: number;
  parentid: number;
  children: number;
  /** handle of the grafted qdisc, 0 for the default leaf */
  leaf: number;
  /** options as parsed by the kind (set when added/changed in this batch) */
  opts: unknown;
  live: QdiscClass | undefined;
}

interface SQdisc {
  kind: QdiscKind;
  handle: number;
  side: 'egress' | 'ingress';
  inst: Qdisc;
  fresh: boolean;
  classes: Map<number, SClass>;
}

type Op =
  | { op: 'graft'; where: Where; classid: number; holder: Qdisc | null; q: Qdisc; kind: QdiscKind }
  | { op: 'ungraft'; where: Where; classid: number; holder: Qdisc | null; q: Qdisc; label: string }
  | { op: 'change'; q: Qdisc; kind: QdiscKind; opts: unknown }
  | { op: 'addClass'; q: Qdisc; kind: QdiscKind; classid: number; parentid: number; opts: unknown }
  | { op: 'changeClass'; q: Qdisc; kind: QdiscKind; classid: number; opts: unknown; prev: unknown }
  | { op: 'delClass'; q: Qdisc; kind: QdiscKind; classid: number };

/** the shadow of one device */
class Shadow {
  readonly qdiscs = new Map<number, SQdisc>();
  egressRoot: number;
  ingressRoot: number;
  ingressChild: number;
  readonly filters: FilterSet;
  readonly ops: Op[] = [];
  /** the command each op came from (kinds' warnings during the replay are located there) */
  readonly opTokens: Token[] = [];
  current: Token | undefined;
  push(op: Op): void {
    this.ops.push(op);
    this.opTokens.push(this.current!);
  }
  filtersTouched = false;

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

  describe(q: Qdisc, kind: QdiscKind, side: 'egress' | 'ingress', fresh: boolean): SQdisc {
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

function kindOrError(t: Token): QdiscKind {
  const k = findKind(t.text);
  if (!k) throw new TcError(`unknown qdisc kind "${t.text}" (tunqos supports: ${kindNames().join(', ')})`, t);
  return k;
}

/**
 * Applies `commands` (show commands are not allowed here) to `target`, atomically. Throws TcError
 * (`FILE:LINE:COL: message`) and changes nothing when any command is wrong.
 */
export function applyCommands(target: ApplyTarget, commands: readonly TcCommand[], options: ApplyOptions): ApplyResult {
  const warnings: string[] = [];
  const notes: string[] = [];
  const shadows = new Map<DeviceModel, Shadow>();
  let current: Token | undefined;
  const warn = (message: string, at?: Token): void => {
    const t = at ?? current;
    warnings.push(t ? `${locate(t)}: warning: ${message}` : `warning: ${message}`);
  };
  const ctx = { warn };
  const ctxFor = (model: DeviceModel): ParseContext => ({ env: model.env, warn });

  target.setWarnSink((m) => ctx.warn(m));
  try {
    // 1. validate everything on shadows, creating the fresh qdiscs
    for (const cmd of commands) {
      current = cmd.anchor;
      if (cmd.verb === 'show') throw new TcError('show commands cannot be part of a configuration change', cmd.anchor);
      for (const w of cmd.warnings) ctx.warn(w.message, w.at);
      if (!cmd.dev) throw new TcError('"dev" is required (e.g. dev tq0)', cmd.anchor);
      const model = target.device(cmd.dev.text, options.createDevices);
      if (!model) throw new TcError(`Cannot find device "${cmd.dev.text}"`, cmd.dev);
      let sh = shadows.get(model);
      if (!sh) {
        sh = new Shadow(model);
        shadows.set(model, sh);
      }
      const pctx = ctxFor(model);
      sh.current = cmd.anchor;
      try {
        if (cmd.object === 'qdisc') playQdisc(sh, cmd, pctx, target, notes);
        else if (cmd.object === 'class') playClass(sh, cmd, pctx, notes);
        else playFilter(sh, cmd, pctx);
      } catch (e) {
        if (!(e instanceof TcError && cmd.verb === 'del' && options.lenientDelete)) throw e;
        ctx.warn(`ignored (as a shell script would): ${e.reason}`, cmd.anchor);
      }
    }
    current = undefined;
    // 2. replay on the live models
    for (const sh of shadows.values()) commit(sh, notes, (t) => (current = t));
  } finally {
    target.setWarnSink(null);
  }
  return { warnings, notes };
}

// ---------------------------------------------------------------------------------------------
// qdisc commands on the shadow

interface Attachment {
  where: Where;
  classid: number;
  /** the qdisc holding the class (where = class) or the ingress qdisc (where = ingress-child) */
  holder: SQdisc | null;
  /** handle currently there (0: the default) */
  current: number;
  side: 'egress' | 'ingress';
  /** the parent value the kernel reports (TC_H_ROOT, TC_H_INGRESS, ffff:, classid) */
  parentValue: number;
}

function attachment(sh: Shadow, parent: number, at: Token): Attachment {
  const dev = sh.model.name;
  if (parent === TC_H_ROOT) return { where: 'root', classid: 0, holder: null, current: sh.egressRoot, side: 'egress', parentValue: TC_H_ROOT };
  if (parent === TC_H_INGRESS) {
    return { where: 'ingress', classid: 0, holder: null, current: sh.ingressRoot, side: 'ingress', parentValue: TC_H_INGRESS };
  }
  if ((parent & 0xffff) === 0) {
    if (parent === INGRESS_HANDLE) {
      if (sh.ingressRoot === 0) {
        throw new TcError(`no ingress qdisc on ${dev} (add one first: tc qdisc add dev ${dev} handle ffff: ingress)`, at);
      }
      return { where: 'ingress-child', classid: 0, holder: sh.qdiscs.get(INGRESS_HANDLE)!, current: sh.ingressChild, side: 'ingress', parentValue: INGRESS_HANDLE };
    }
    throw new TcError(`parent ${formatHandle(parent)} names a qdisc: a qdisc hangs under a class (parent X:Y), root or ingress`, at);
  }
  const major = (parent & 0xffff0000) >>> 0;
  const holder = sh.qdiscs.get(major);
  if (!holder) throw new TcError(`no qdisc ${formatHandle(major)} on ${dev} for parent ${formatHandle(parent)}`, at);
  const cls = holder.classes.get(parent);
  if (!cls || !isClassful(holder.inst)) throw new TcError(`class ${formatHandle(parent)} does not exist on ${dev}`, at);
  if (cls.children > 0) throw new TcError(`class ${formatHandle(parent)} has child classes: only a leaf class holds a qdisc`, at);
  return { where: 'class', classid: parent, holder, current: cls.leaf, side: holder.side, parentValue: parent };
}

function setAttached(sh: Shadow, a: Attachment, handle: number): void {
  if (a.where === 'root') sh.egressRoot = handle;
  else if (a.where === 'ingress') {
    sh.ingressRoot = handle;
    if (handle === 0) sh.ingressChild = 0;
  } else if (a.where === 'ingress-child') sh.ingressChild = handle;
  else a.holder!.classes.get(a.classid)!.leaf = handle;
}

/** removes qdisc `handle` and everything under it from the shadow, with the filters attached there */
function dropSubtree(sh: Shadow, handle: number, ctx: ParseContext): void {
  const node = sh.qdiscs.get(handle);
  if (!node) return;
  for (const c of node.classes.values()) {
    if (c.leaf !== 0) dropSubtree(sh, c.leaf, ctx);
    dropFilters(sh, c.classid, ctx);
  }
  if (handle === INGRESS_HANDLE && sh.ingressChild !== 0) {
    dropSubtree(sh, sh.ingressChild, ctx);
    sh.ingressChild = 0;
  }
  dropFilters(sh, handle, ctx);
  sh.qdiscs.delete(handle);
}

function dropFilters(sh: Shadow, parent: number, ctx: ParseContext): void {
  if (!sh.filters.parents().includes(parent)) return;
  const words = ['dev', sh.model.name, 'parent', formatHandle(parent)];
  const toks = tokensFromArgv(words, '<tunqos>');
  const del = parseFilterCommand('del', new Args(toks, toks[0]), ctx);
  sh.filters.apply(del, ctx);
  sh.filtersTouched = true;
}

function handleInUse(sh: Shadow, handle: number): boolean {
  return sh.qdiscs.has(handle);
}

function createFresh(sh: Shadow, cmd: QdiscCommand, kind: QdiscKind, handle: number, a: Attachment, ctx: ParseContext): SQdisc {
  const opts = kind.parseQdisc(new Args(cmd.options, cmd.kind), ctx);
  const q = kind.create(handle, opts, sh.model.env);
  q.parent = a.parentValue;
  const node = sh.describe(q, kind, a.side, true);
  return node;
}

function playQdisc(sh: Shadow, cmd: QdiscCommand, ctx: ParseContext, target: ApplyTarget, notes: string[]): void {
  const dev = sh.model.name;
  const at = cmd.kind ?? cmd.parentToken ?? cmd.anchor;
  let a: Attachment | undefined;
  if (cmd.parent !== undefined) a = attachment(sh, cmd.parent, cmd.parentToken ?? cmd.anchor);

  if (cmd.verb === 'add' || cmd.verb === 'replace') {
    const kind = kindOrError(cmd.kind!);
    const attach = a!;
    if (kind === ingressKind && attach.where !== 'ingress') {
      throw new TcError('the ingress qdisc attaches at "ingress" (tc qdisc add dev X handle ffff: ingress)', cmd.kind);
    }
    if (attach.where === 'ingress' && kind !== ingressKind) {
      throw new TcError(`only the ingress qdisc attaches at ingress; to shape downloads graft ${kind.kind} under it: parent ffff:`, cmd.kind);
    }
    const cur = attach.current;
    const curNode = cur !== 0 ? sh.qdiscs.get(cur) : undefined;
    if (cmd.verb === 'add') {
      if (cur !== 0) throw new TcError('Exclusivity flag on, cannot modify (a qdisc is already there: use replace or change)', at);
      if (cmd.handle !== undefined && handleInUse(sh, cmd.handle)) {
        throw new TcError(`Exclusivity flag on, cannot override (handle ${formatHandle(cmd.handle)} is already used on ${dev})`, cmd.handleToken);
      }
    } else {
      // replace: change in place when it is the same qdisc, else create and graft over it
      const same = curNode && (cmd.handle === undefined || cmd.handle === cur);
      if (same) {
        if (curNode.kind !== kind) {
          if (cmd.handle !== undefined) {
            throw new TcError(`qdisc ${formatHandle(cur)} is ${curNode.kind.kind}, not ${kind.kind}: delete it first, or replace it under a new handle`, cmd.kind);
          }
        } else {
          const opts = kind.parseQdisc(new Args(cmd.options, cmd.kind), ctx);
          sh.push({ op: 'change', q: curNode.inst, kind, opts });
          return;
        }
      }
      if (cmd.handle !== undefined && cmd.handle !== cur && handleInUse(sh, cmd.handle)) {
        throw new TcError(`handle ${formatHandle(cmd.handle)} is already used on ${dev}`, cmd.handleToken);
      }
    }
    const handle = cmd.handle ?? nextFreeHandle(sh, target);
    const node = createFresh(sh, cmd, kind, handle, attach, ctx);
    if (curNode) {
      sh.push({ op: 'ungraft', where: attach.where, classid: attach.classid, holder: attach.holder?.inst ?? null, q: curNode.inst, label: label(curNode) });
      dropSubtree(sh, cur, ctx);
    }
    sh.qdiscs.set(handle, node);
    setAttached(sh, attach, handle);
    sh.push({ op: 'graft', where: attach.where, classid: attach.classid, holder: attach.holder?.inst ?? null, q: node.inst, kind });
    return;
  }

  // change / del: find the qdisc by parent and/or handle
  let node: SQdisc | undefined;
  if (a) {
    node = a.current !== 0 ? sh.qdiscs.get(a.current) : undefined;
    if (cmd.handle !== undefined && node && node.handle !== cmd.handle) {
      throw new TcError(`the qdisc at ${cmd.parentToken!.text} is ${formatHandle(node.handle)}, not ${formatHandle(cmd.handle)}`, cmd.handleToken);
    }
    if (!node) {
      if (cmd.verb === 'del' && a.where === 'root') throw new TcError('Cannot delete qdisc with handle of zero (the default root)', cmd.parentToken);
      throw new TcError(`no qdisc at ${cmd.parentToken!.text} on ${dev}`, cmd.parentToken);
    }
  } else {
    node = sh.qdiscs.get(cmd.handle!);
    if (!node) throw new TcError(`qdisc ${formatHandle(cmd.handle!)} not found on ${dev}`, cmd.handleToken);
    a = attachmentOfNode(sh, node);
  }
  if (cmd.kind) {
    const kind = kindOrError(cmd.kind);
    if (kind !== node.kind) throw new TcError(`qdisc ${formatHandle(node.handle)} is ${node.kind.kind}, not ${kind.kind}`, cmd.kind);
  }
  if (cmd.verb === 'change') {
    if (!cmd.kind) throw new TcError('missing qdisc kind (the kind of the qdisc to change)', cmd.anchor);
    const opts = node.kind.parseQdisc(new Args(cmd.options, cmd.kind), ctx);
    sh.push({ op: 'change', q: node.inst, kind: node.kind, opts });
    return;
  }
  // del
  sh.push({ op: 'ungraft', where: a.where, classid: a.classid, holder: a.holder?.inst ?? null, q: node.inst, label: label(node) });
  dropSubtree(sh, node.handle, ctx);
  setAttached(sh, a, 0);
  void notes;
}

function label(n: SQdisc): string {
  return `qdisc ${n.kind.kind} ${formatHandle(n.handle)}`;
}

/** where an existing qdisc hangs, found by searching the shadow */
function attachmentOfNode(sh: Shadow, node: SQdisc): Attachment {
  const h = node.handle;
  if (sh.egressRoot === h) return { where: 'root', classid: 0, holder: null, current: h, side: 'egress', parentValue: TC_H_ROOT };
  if (sh.ingressRoot === h) return { where: 'ingress', classid: 0, holder: null, current: h, side: 'ingress', parentValue: TC_H_INGRESS };
  if (sh.ingressChild === h) {
    return { where: 'ingress-child', classid: 0, holder: sh.qdiscs.get(INGRESS_HANDLE)!, current: h, side: 'ingress', parentValue: INGRESS_HANDLE };
  }
  for (const q of sh.qdiscs.values()) {
    for (const c of q.classes.values()) {
      if (c.leaf === h) return { where: 'class', classid: c.classid, holder: q, current: h, side: q.side, parentValue: c.classid };
    }
  }
  throw new Error(`tunqos bug: qdisc ${formatHandle(h)} hangs nowhere`);
}

function nextFreeHandle(sh: Shadow, target: ApplyTarget): number {
  for (let i = 0; i < 0x8000; i++) {
    const h = target.allocHandle();
    if (!sh.qdiscs.has(h)) return h;
  }
  throw new TcError('no free qdisc handle left');
}

// ---------------------------------------------------------------------------------------------
// class commands on the shadow

function playClass(sh: Shadow, cmd: ClassCommand, ctx: ParseContext, _notes: string[]): void {
  const dev = sh.model.name;
  let classid = cmd.classid!;
  // the qdisc: the classid's major, or the parent's when the classid has none (`classid :10`)
  let major = (classid & 0xffff0000) >>> 0;
  if (major === 0) {
    if (cmd.parent === undefined) throw new TcError('a classid without major needs "parent"', cmd.classidToken);
    major = cmd.parent === TC_H_ROOT ? (sh.egressRoot >>> 0) : (cmd.parent & 0xffff0000) >>> 0;
    classid = (major | (classid & 0xffff)) >>> 0;
  }
  if ((classid & 0xffff) === 0) throw new TcError(`classid ${cmd.classidToken!.text} has minor 0: that is the qdisc itself (use e.g. ${formatHandle(major)}1)`, cmd.classidToken);
  const q = sh.qdiscs.get(major);
  if (!q) throw new TcError(`no qdisc ${formatHandle(major)} on ${dev} (add the qdisc before its classes)`, cmd.classidToken);
  if (cmd.kind) {
    const kind = kindOrError(cmd.kind);
    if (kind !== q.kind) throw new TcError(`class kind ${kind.kind} does not match qdisc ${formatHandle(major)} (${q.kind.kind})`, cmd.kind);
  }
  const kind = q.kind;
  const cq = q.inst;
  // the parent: the qdisc itself (root / X:0) or a class of the same qdisc
  let parentid: number | undefined;
  if (cmd.parent !== undefined) {
    if (cmd.parent === TC_H_ROOT) {
      if (sh.egressRoot !== major) throw new TcError(`"root" is ${formatHandle(sh.egressRoot)} on ${dev}, not ${formatHandle(major)}`, cmd.parentToken);
      parentid = major;
    } else {
      const pmajor = (cmd.parent & 0xffff0000) >>> 0;
      if (pmajor !== major) {
        throw new TcError(`a class has the major of its qdisc: ${formatHandle(classid)} cannot hang under ${formatHandle(cmd.parent)}`, cmd.parentToken);
      }
      if ((cmd.parent & 0xffff) !== 0 && !q.classes.has(cmd.parent)) {
        throw new TcError(`parent class ${formatHandle(cmd.parent)} does not exist on ${dev}`, cmd.parentToken);
      }
      if (cmd.parent === classid) throw new TcError('a class cannot be its own parent', cmd.parentToken);
      parentid = cmd.parent;
    }
  }
  const existing = q.classes.get(classid);
  if (cmd.verb === 'del') {
    if (!existing) throw new TcError(`class ${formatHandle(classid)} not found on ${dev}`, cmd.classidToken);
    if (!kind.deleteClass) throw new TcError(`${kind.kind} classes cannot be deleted`, cmd.classidToken);
    if (existing.children > 0) throw new TcError(`class ${formatHandle(classid)} has child classes: delete them first`, cmd.classidToken);
    if (sh.filters.parents().includes(classid)) {
      throw new TcError(`class ${formatHandle(classid)} has filters attached: delete them first (tc filter del dev ${dev} parent ${formatHandle(classid)})`, cmd.classidToken);
    }
    const user = sh.filters.filterPointingAt(classid);
    if (user) throw new TcError(`class ${formatHandle(classid)} is in use by filter ${user}: delete or change that filter first`, cmd.classidToken);
    if (existing.leaf !== 0) dropSubtree(sh, existing.leaf, ctx);
    q.classes.delete(classid);
    const p = q.classes.get(existing.parentid);
    if (p) p.children--;
    sh.push({ op: 'delClass', q: cq, kind, classid });
    return;
  }
  if (!kind.parseClass || !isClassful(cq)) throw new TcError(`${kind.kind} has no classes to ${cmd.verb}`, cmd.kind);
  const args = new Args(cmd.options, cmd.kind);
  if (existing && cmd.verb === 'add') {
    throw new TcError(`class ${formatHandle(classid)} already exists on ${dev} (use change or replace)`, cmd.classidToken);
  }
  if (existing) {
    // change / replace of an existing class: keep what the command does not name
    if (parentid !== undefined && parentid !== existing.parentid) {
      throw new TcError(`class ${formatHandle(classid)} hangs under ${formatHandle(existing.parentid)}: a class cannot move`, cmd.parentToken);
    }
    if (!kind.changeClass) throw new TcError(`${kind.kind} classes cannot be changed`, cmd.kind);
    const prev = existing.opts ?? (existing.live && kind.classOptions ? kind.classOptions(cq, existing.live) : undefined);
    const opts = kind.parseClass(args, ctx, cq, prev);
    existing.opts = opts;
    sh.push({ op: 'changeClass', q: cq, kind, classid, opts, prev });
    return;
  }
  if (cmd.verb === 'change') throw new TcError(`class ${formatHandle(classid)} not found on ${dev}`, cmd.classidToken);
  if (!kind.addClass) throw new TcError(`${kind.kind} classes cannot be added`, cmd.kind);
  if (parentid === undefined) throw new TcError('a class needs "parent X:Y" (or "root")', cmd.classidToken);
  const opts = kind.parseClass(args, ctx, cq, undefined);
  const parentClass = q.classes.get(parentid);
  if (parentClass) {
    // a leaf becoming an inner class loses its qdisc (Linux purges it)
    if (parentClass.leaf !== 0) dropSubtree(sh, parentClass.leaf, ctx);
    parentClass.leaf = 0;
    parentClass.children++;
  }
  q.classes.set(classid, { classid, parentid, children: 0, leaf: 0, opts, live: undefined });
  sh.push({ op: 'addClass', q: cq, kind, classid, parentid, opts });
}

// ---------------------------------------------------------------------------------------------
// filter commands on the shadow

function playFilter(sh: Shadow, cmd: FilterCommandWords, ctx: ParseContext): void {
  const f = parseFilterCommand(cmd.verb, new Args(cmd.args, cmd.verbToken), ctx);
  if (f.parent === TC_H_ROOT) {
    if (sh.egressRoot === 0) throw new TcError(`${sh.model.name} has no root qdisc with a handle to attach filters to`, f.anchor);
    f.parent = sh.egressRoot;
  }
  if (cmd.verb !== 'del') {
    const major = (f.parent & 0xffff0000) >>> 0;
    const q = sh.qdiscs.get(major);
    if (!q) throw new TcError(`no qdisc ${formatHandle(major)} on ${sh.model.name} for filters at parent ${formatHandle(f.parent)}`, f.anchor);
    if ((f.parent & 0xffff) !== 0 && !q.classes.has(f.parent)) {
      throw new TcError(`class ${formatHandle(f.parent)} does not exist on ${sh.model.name}`, f.anchor);
    }
    if (!q.kind.classful && q.kind !== ingressKind) {
      throw new TcError(`qdisc ${formatHandle(major)} (${q.kind.kind}) is classless: it runs no filters`, f.anchor);
    }
  }
  sh.filters.apply(f, ctx);
  sh.filtersTouched = true;
}

// ---------------------------------------------------------------------------------------------
// the live replay

function commit(sh: Shadow, notes: string[], locate: (t: Token | undefined) => void): void {
  const model = sh.model;
  const undo: (() => void)[] = [];
  const purge: { q: Qdisc; label: string }[] = [];
  try {
    sh.ops.forEach((op, i) => {
      locate(sh.opTokens[i]);
      replay(model, op, undo, purge);
    });
    locate(undefined);
  } catch (e) {
    for (let i = undo.length - 1; i >= 0; i--) {
      try {
        undo[i]();
      } catch {
        /* best effort: keep undoing the rest */
      }
    }
    model.attachFilters();
    const msg = e instanceof Error ? e.message : String(e);
    throw new TcError(`applying the change failed and was rolled back: ${msg}`);
  }
  if (sh.filtersTouched || sh.ops.length > 0) {
    model.filters = sh.filters;
    model.attachFilters();
  }
  for (const p of purge) {
    const packets = p.q.stats.qlen;
    p.q.owner = null;
    p.q.reset();
    if (packets > 0) notes.push(`${model.name}: ${p.label} deleted, ${packets} queued packet(s) purged`);
  }
}

function replay(model: DeviceModel, op: Op, undo: (() => void)[], purge: { q: Qdisc; label: string }[]): void {
  switch (op.op) {
    case 'graft': {
      const q = op.q;
      if (op.where === 'root') {
        const old = model.egress.root;
        model.egress.root = q;
        undo.push(() => (model.egress.root = old));
        if (old.handle === 0) purge.push({ q: old, label: 'default root' });
      } else if (op.where === 'ingress') {
        const old = model.ingress.root;
        model.ingress.root = q;
        undo.push(() => (model.ingress.root = old));
        purge.push({ q: old, label: 'ingress pass-through' });
      } else if (op.where === 'ingress-child') {
        const ing = op.holder as IngressQdisc;
        const old = ing.setChild(q);
        undo.push(() => ing.setChild(old));
        if (old.handle === 0) purge.push({ q: old, label: 'ingress pass-through' });
      } else {
        const holder = op.holder!;
        if (!isClassful(holder)) throw new Error(`qdisc ${formatHandle(holder.handle)} cannot graft`);
        const old = holder.graft(op.classid, q);
        undo.push(() => holder.graft(op.classid, old));
      }
      model.adopt(q, op.kind);
      return;
    }
    case 'ungraft': {
      const q = op.q;
      if (op.where === 'root') {
        const def = model.defaultRoot();
        model.egress.root = def;
        undo.push(() => (model.egress.root = q));
        purge.push({ q, label: op.label });
      } else if (op.where === 'ingress') {
        const def = model.defaultIngress();
        model.ingress.root = def;
        undo.push(() => (model.ingress.root = q));
        purge.push({ q, label: op.label });
      } else if (op.where === 'ingress-child') {
        const ing = op.holder as IngressQdisc;
        ing.setChild(null);
        undo.push(() => ing.setChild(q));
        purge.push({ q, label: op.label });
      } else {
        const holder = op.holder!;
        if (!isClassful(holder)) throw new Error(`qdisc ${formatHandle(holder.handle)} cannot graft`);
        // graft purges the old leaf (and reports it upwards) right away
        const packets = q.stats.qlen;
        holder.graft(op.classid, null);
        undo.push(() => holder.graft(op.classid, q));
        if (packets > 0) purge.push({ q, label: op.label });
      }
      return;
    }
    case 'change':
      op.kind.change(op.q, op.opts);
      return;
    case 'addClass': {
      const kind = op.kind;
      const q = op.q;
      if (!isClassful(q)) throw new Error('not classful');
      kind.addClass!(q, op.classid, op.parentid, op.opts);
      undo.push(() => kind.deleteClass?.(q, op.classid));
      return;
    }
    case 'changeClass': {
      const kind = op.kind;
      const q = op.q;
      if (!isClassful(q)) throw new Error('not classful');
      kind.changeClass!(q, op.classid, op.opts);
      if (op.prev !== undefined) undo.push(() => kind.changeClass!(q, op.classid, op.prev));
      return;
    }
    case 'delClass': {
      const q = op.q;
      if (!isClassful(q)) throw new Error('not classful');
      op.kind.deleteClass!(q, op.classid);
      return;
    }
  }
}
