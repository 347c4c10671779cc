/**
 * `tc qdisc add|replace|change|del` played on a shadow (tc_modify_qdisc and tc_get_qdisc's delete in
 * net/sched/sch_api.c): the checks Linux makes, the new qdisc created fresh, the grafts recorded.
 */
import { formatHandle } from '../../qdisc/qdisc';
import type { QdiscCommand } from '../command';
import { type ParseContext, type QdiscKind, findKind, kindNames } from '../kinds';
import { ingressKind } from '../kinds/ingress';
import { Args, TcError, type Token } from '../tokens';
import type { ApplyTarget } from './apply';
import { type Attachment, type SQdisc, type Shadow, attachment, attachmentOf, dropSubtree, label, setAttached } from './shadow';

export function kindOrError(t: Token): QdiscKind {
  const k = findKind(t.text);
  if (!k) throw new TcError(`unknown qdisc kind "${t.text}" (tunqos supports: ${kindNames().join(', ')})`, t);
  return k;
}

export function playQdisc(sh: Shadow, cmd: QdiscCommand, ctx: ParseContext, target: ApplyTarget): void {
  const a = cmd.parent !== undefined ? attachment(sh, cmd.parent, cmd.parentToken ?? cmd.anchor) : undefined;
  if (cmd.verb === 'add' || cmd.verb === 'replace') addOrReplace(sh, cmd, a!, ctx, target);
  else changeOrDelete(sh, cmd, a, ctx);
}

/** `add` and `replace`: a fresh qdisc at `a`, unless `replace` names the one already there */
function addOrReplace(sh: Shadow, cmd: QdiscCommand, a: Attachment, ctx: ParseContext, target: ApplyTarget): void {
  const kind = kindOrError(cmd.kind!);
  if (kind === ingressKind && a.where !== 'ingress') {
    throw new TcError('the ingress qdisc attaches at "ingress" (tc qdisc add dev X handle ffff: ingress)', cmd.kind);
  }
  if (a.where === 'ingress' && kind !== ingressKind) {
    throw new TcError(`only the ingress qdisc attaches at ingress; to shape downloads graft ${kind.kind} under it: parent ffff:`, cmd.kind);
  }
  const cur = a.current;
  const curNode = cur !== 0 ? sh.qdiscs.get(cur) : undefined;
  if (cmd.verb === 'add') {
    if (cur !== 0) throw new TcError('Exclusivity flag on, cannot modify (a qdisc is already there: use replace or change)', cmd.kind ?? cmd.parentToken ?? cmd.anchor);
    if (cmd.handle !== undefined && sh.qdiscs.has(cmd.handle)) {
      throw new TcError(`Exclusivity flag on, cannot override (handle ${formatHandle(cmd.handle)} is already used on ${sh.model.name})`, cmd.handleToken);
    }
  } else if (replaceInPlace(sh, cmd, kind, cur, curNode, ctx)) return;
  const handle = cmd.handle ?? nextFreeHandle(sh, target);
  const opts = kind.parseQdisc(new Args(cmd.options, cmd.kind), ctx);
  const q = kind.create(handle, opts, sh.model.env);
  q.parent = a.parentValue;
  const node = sh.describe(q, kind, a.side, true);
  if (curNode) {
    sh.push({ op: 'ungraft', where: a.where, classid: a.classid, holder: a.holder?.inst ?? null, q: curNode.inst, label: label(curNode) });
    dropSubtree(sh, cur);
  }
  sh.qdiscs.set(handle, node);
  setAttached(sh, a, handle);
  sh.push({ op: 'graft', where: a.where, classid: a.classid, holder: a.holder?.inst ?? null, q: node.inst, kind });
}

/**
 * `replace` of the qdisc already at the attachment, same handle (or none given) and kind: a change in
 * place (true). False when a new qdisc is to be created over it; throws when that is not allowed.
 */
function replaceInPlace(sh: Shadow, cmd: QdiscCommand, kind: QdiscKind, cur: number, curNode: SQdisc | undefined, ctx: ParseContext): boolean {
  const same = curNode && (cmd.handle === undefined || cmd.handle === cur);
  if (same && curNode.kind === kind) {
    const opts = kind.parseQdisc(new Args(cmd.options, cmd.kind), ctx);
    sh.push({ op: 'change', q: curNode.inst, kind, opts });
    return true;
  }
  if (same && cmd.handle !== undefined) {
    throw new TcError(`qdisc ${formatHandle(cur)} is ${curNode.kind.kind}, not ${kind.kind}: delete it first, or replace it under a new handle`, cmd.kind);
  }
  if (cmd.handle !== undefined && cmd.handle !== cur && sh.qdiscs.has(cmd.handle)) {
    throw new TcError(`handle ${formatHandle(cmd.handle)} is already used on ${sh.model.name}`, cmd.handleToken);
  }
  return false;
}

/** `change` and `del`: the qdisc named by parent and/or handle */
function changeOrDelete(sh: Shadow, cmd: QdiscCommand, a: Attachment | undefined, ctx: ParseContext): void {
  const dev = sh.model.name;
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
    a = attachmentOf(sh, node);
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
  sh.push({ op: 'ungraft', where: a.where, classid: a.classid, holder: a.holder?.inst ?? null, q: node.inst, label: label(node) });
  dropSubtree(sh, node.handle);
  setAttached(sh, a, 0);
}

/** the next automatic handle (8001:, ...) not in use on this device */
function nextFreeHandle(sh: Shadow, target: ApplyTarget): number {
  for (let i = 0; i < 0x8000; i++) {
    const h = target.allocHandle();
    if (!sh.qdiscs.has(h)) return h;
  }
  throw new TcError('no free qdisc handle left');
}
