/**
 * `tc class add|replace|change|del` played on a shadow (tc_ctl_tclass in net/sched/sch_api.c): the
 * class's qdisc and parent resolved and checked, the kind's options parsed against the class as this
 * batch left it, the class op recorded. A class with children, with filters attached, or that a
 * filter's classid/flowid still names cannot be deleted (Linux: "HTB class in use").
 */
import { TC_H_ROOT, isClassful, formatHandle } from '../../qdisc/qdisc';
import type { ClassCommand } from '../command';
import type { ParseContext } from '../kinds';
import { Args, TcError } from '../tokens';
import { kindOrError } from './play-qdisc';
import { type Shadow, dropSubtree } from './shadow';

export function playClass(sh: Shadow, cmd: ClassCommand, ctx: ParseContext): void {
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
    if (existing.leaf !== 0) dropSubtree(sh, existing.leaf);
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
    if (parentClass.leaf !== 0) dropSubtree(sh, parentClass.leaf);
    parentClass.leaf = 0;
    parentClass.children++;
  }
  q.classes.set(classid, { classid, parentid, children: 0, leaf: 0, opts, live: undefined });
  sh.push({ op: 'addClass', q: cq, kind, classid, parentid, opts });
}
