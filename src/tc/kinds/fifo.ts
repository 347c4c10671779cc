/**
 * tc options of pfifo and bfifo: `limit N` (packets for pfifo, a size for bfifo).
 * Printed as tc does: `limit 1000p` / `limit 15Kb`.
 */
import { Fifo, type FifoOptions } from '../../qdisc/fifo';
import type { Qdisc } from '../../qdisc/qdisc';
import { formatSize } from '../../time/units';
import { type QdiscKind, registerKind } from '../kinds';
import { intOf, sizeOf } from '../values';

function fifoKind(kind: 'pfifo' | 'bfifo'): QdiscKind<FifoOptions> {
  return {
    kind,
    classful: false,
    parseQdisc(args) {
      const opts: FifoOptions = {};
      while (!args.done()) {
        const key = args.next();
        if (key.text.toLowerCase() === 'limit') {
          const v = args.value(key);
          opts.limit = kind === 'pfifo' ? intOf(v, 'limit', 1) : sizeOf(v, 'limit');
          if (opts.limit < 1) throw args.error('limit must be at least 1', v);
        } else {
          throw args.error(`unknown ${kind} option "${key.text}" (${kind} takes: limit)`, key);
        }
      }
      return opts;
    },
    create(handle, opts, env) {
      return new Fifo(kind, handle, env, opts);
    },
    change(q: Qdisc, opts) {
      const f = q as Fifo;
      if (opts.limit !== undefined) f.setLimit(opts.limit);
    },
    formatQdisc(q: Qdisc) {
      const f = q as Fifo;
      return kind === 'pfifo' ? `limit ${f.limit}p` : `limit ${formatSize(f.limit)}`;
    },
    qdiscJson(q: Qdisc) {
      return { limit: (q as Fifo).limit };
    },
  };
}

export const pfifoKind = fifoKind('pfifo');
export const bfifoKind = fifoKind('bfifo');
registerKind(pfifoKind);
registerKind(bfifoKind);
