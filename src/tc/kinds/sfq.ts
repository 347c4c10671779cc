/**
 * tc options of SFQ (tc-sfq(8), tc/q_sfq.c): `limit` (packets, > 1), `perturb` (seconds), `quantum`
 * (bytes), `divisor` (power of two ≤ 65536), `flows`, `depth`, `headdrop`. The per-flow RED options
 * (`redflowlimit min max avpkt burst probability ecn harddrop`) are parsed and refused.
 * Printed as iproute2 6.x does: `limit 127p quantum 1500b depth 127 divisor 1024 perturb 10sec`
 * (`flows N` before divisor with -d; `headdrop` after depth).
 */
import type { Qdisc } from '../../qdisc/qdisc';
import { Sfq, type SfqOptions } from '../../qdisc/sfq';
import { formatSize } from '../../time/units';
import { type QdiscKind, createAndChange, registerKind } from '../kinds';
import { intOf, sizeOf } from '../values';

const RED_WORDS = new Set(['redflowlimit', 'min', 'max', 'burst', 'avpkt', 'probability', 'ecn', 'harddrop']);

export const sfqKind: QdiscKind<SfqOptions> = {
  kind: 'sfq',
  classful: false,
  parseQdisc(args) {
    const o: SfqOptions = {};
    while (!args.done()) {
      const key = args.next();
      const k = key.text.toLowerCase();
      if (k === 'quantum') {
        o.quantum = sizeOf(args.value(key), 'quantum');
      } else if (k === 'perturb') {
        o.perturb = intOf(args.value(key), 'perturb', 0, 0x7fffffff);
      } else if (k === 'limit') {
        const v = args.value(key);
        o.limit = intOf(v, 'limit');
        if (o.limit < 2) throw args.error('Illegal "limit", must be > 1', v);
      } else if (k === 'divisor') {
        const v = args.value(key);
        o.divisor = intOf(v, 'divisor');
        if (o.divisor === 0 || o.divisor > 65536 || (o.divisor & (o.divisor - 1)) !== 0) {
          throw args.error(`sfq: divisor ${o.divisor} must be a power of 2 no larger than 65536`, v);
        }
      } else if (k === 'flows') {
        o.flows = intOf(args.value(key), 'flows');
      } else if (k === 'depth') {
        o.depth = intOf(args.value(key), 'depth');
      } else if (k === 'headdrop') {
        o.headdrop = true;
      } else if (RED_WORDS.has(k)) {
        throw args.error(`sfq: per-flow RED ("${key.text}") is not supported by tunqos`, key);
      } else {
        throw args.error(`What is "${key.text}"? (sfq takes: limit perturb quantum divisor flows depth headdrop)`, key);
      }
    }
    return o;
  },
  ...createAndChange(Sfq),
  formatQdisc(q: Qdisc, details: boolean) {
    const p = (q as Sfq).params;
    const parts = [`limit ${p.limit}p`, `quantum ${formatSize(p.quantum)}`, `depth ${p.maxdepth}`];
    if (p.headdrop) parts.push('headdrop');
    if (details) parts.push(`flows ${p.maxflows}`);
    parts.push(`divisor ${p.divisor}`);
    if (p.perturb) parts.push(`perturb ${p.perturb}sec`);
    return parts.join(' ');
  },
  qdiscJson(q: Qdisc) {
    const p = (q as Sfq).params;
    return { limit: p.limit, quantum: p.quantum, depth: p.maxdepth, headdrop: p.headdrop, flows: p.maxflows, divisor: p.divisor, perturb: p.perturb };
  },
};
registerKind(sfqKind);
