/**
 * tc "options" of pfifo_fast: none (tc-pfifo_fast(8): not configurable with tc; the per-band length
 * is the device txqueuelen). Printed like PRIO: `bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1`.
 */
import { PfifoFast } from '../../qdisc/pfifo_fast';
import type { Qdisc } from '../../qdisc/qdisc';
import { type QdiscKind, registerKind } from '../kinds';
import { priomapText } from './prio';

export const pfifoFastKind: QdiscKind<Record<string, never>> = {
  kind: 'pfifo_fast',
  classful: false,
  parseQdisc(args) {
    if (!args.done()) throw args.error(`qdisc 'pfifo_fast' does not support option parsing`, args.peek());
    return {};
  },
  create(handle, _opts, env) {
    return new PfifoFast(handle, env);
  },
  change() {},
  formatQdisc(q: Qdisc) {
    return priomapText(3, (q as PfifoFast).priomap);
  },
  qdiscJson(q: Qdisc) {
    return { bands: 3, priomap: Array.from((q as PfifoFast).priomap) };
  },
};

registerKind(pfifoFastKind);
