/**
 * The live replay: the ops a shadow recorded, done on the live model in command order (grafts of the
 * fresh qdiscs, kinds' change/addClass/changeClass/deleteClass, ungrafts), each with its undo; the
 * shadow's FilterSet installed; the qdiscs that left the tree purged last, once everything succeeded.
 */
import type { Qdisc } from '../../qdisc/qdisc';
import { isClassful, formatHandle } from '../../qdisc/qdisc';
import type { IngressQdisc } from '../../qdisc/ingress';
import type { DeviceModel } from '../device';
import { TcError, type Token } from '../tokens';
import type { Op, Shadow } from './shadow';

/**
 * Replays the shadow's ops on the live model, installs its FilterSet, then purges the qdiscs that left
 * the tree (a note for each that held packets). A throwing op undoes the ones before it, in reverse.
 */
export function commit(sh: Shadow, notes: string[], locate: (t: Token | undefined) => void): void {
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

/** one op on the live model, with its undo and what to purge once all succeeded */
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
      model.classAdded(q, op.classid);
      undo.push(() => {
        kind.deleteClass?.(q, op.classid);
        model.classRemoved(q, op.classid);
      });
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
      model.classRemoved(q, op.classid);
      return;
    }
  }
}
