/**
 * `tc filter add|replace|change|del` played on a shadow: the filter command parsed, its parent
 * checked against the shadow's qdiscs and classes (`root` is the egress root qdisc), and applied to
 * the shadow's FilterSet, which commit.ts installs whole.
 */
import { formatHandle, TC_H_ROOT } from '../../qdisc/qdisc';
import type { FilterCommandWords } from '../command';
import { parseFilterCommand } from '../filter-command';
import type { ParseContext } from '../kinds';
import { ingressKind } from '../kinds/ingress';
import { Args, TcError } from '../tokens';
import type { Shadow } from './shadow';

export function playFilter(sh: Shadow, cmd: FilterCommandWords, ctx: ParseContext): void {
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
