/**
 * tc options of RED (tc-red(8), tc/q_red.c + tc/tc_red.c): `limit` and `avpkt` (required, bytes),
 * `min`, `max` (bytes), `burst` (packets), `probability`, `bandwidth` (rate, or N% of … not offered),
 * `ecn`, `harddrop`, `nodrop`, `adaptive`/`adaptative`. Derivations exactly as tc does them:
 * max = min ? 3·min : limit/4; min = max/3; burst = (2·min + max)/(3·avpkt); bandwidth 10Mbit when
 * not given (with tc's warning); Wlog = tc_red_eval_ewma, Plog = tc_red_eval_P, the idle-decay table
 * and Scell_log = tc_red_eval_idle_damping, max_P = probability·2^32.
 * Printed: `limit 400000b min 30000b max 90000b ecn` (+ `ewma W probability P Scell_log S` with -d);
 * xstats `  marked N early N pdrop N other N`.
 */
import type { Qdisc } from '../../qdisc/qdisc';
import { Red, type RedParams, TC_RED_ADAPTATIVE, TC_RED_ECN, TC_RED_HARDDROP, TC_RED_NODROP } from '../../qdisc/red';
import { u32 } from '../../time/psched';
import { formatSize } from '../../time/units';
import { type QdiscKind, createAndChange, registerKind } from '../kinds';
import { redEvalEwma, redEvalIdleDamping, redEvalP } from '../red-eval';
import type { Token } from '../tokens';
import { intOf, rateOf, sizeOf } from '../values';

export const redKind: QdiscKind<RedParams> = {
  kind: 'red',
  classful: false,
  parseQdisc(args, ctx) {
    let limit = 0;
    let qmin = 0;
    let qmax = 0;
    let burst = 0;
    let avpkt = 0;
    let probability = 0.02;
    let rate = 0;
    let flags = 0;
    let last: Token | undefined = args.peek();
    const at: Record<string, Token> = {};
    while (!args.done()) {
      const key = args.next();
      const k = key.text.toLowerCase();
      last = key;
      if (k === 'limit' || k === 'min' || k === 'max' || k === 'avpkt') {
        const v = args.value(key);
        at[k] = v;
        const n = sizeOf(v, k);
        if (k === 'limit') limit = n;
        else if (k === 'min') qmin = n;
        else if (k === 'max') qmax = n;
        else avpkt = n;
      } else if (k === 'burst') {
        burst = intOf(args.value(key), 'burst');
      } else if (k === 'probability') {
        const v = args.value(key);
        probability = Number(v.text);
        if (!/^[0-9.eE+-]+$/.test(v.text) || !Number.isFinite(probability) || probability < 0 || probability > 1) {
          throw args.error('Illegal "probability"', v);
        }
      } else if (k === 'bandwidth') {
        const v = args.value(key);
        if (v.text.includes('%')) throw args.error('Illegal "bandwidth" (a percentage of the device speed is not known for a TUN)', v);
        rate = u32(rateOf(v, 'bandwidth'));
      } else if (k === 'ecn') flags |= TC_RED_ECN;
      else if (k === 'harddrop') flags |= TC_RED_HARDDROP;
      else if (k === 'nodrop') flags |= TC_RED_NODROP;
      else if (k === 'adaptive' || k === 'adaptative') flags |= TC_RED_ADAPTATIVE;
      else throw args.error(`What is "${key.text}"? (red takes: limit min max avpkt burst probability bandwidth ecn harddrop nodrop adaptive)`, key);
    }
    if (!limit || !avpkt) throw args.error('RED: Required parameter (limit, avpkt) is missing', last ?? args.last());
    if (!qmax) qmax = qmin ? qmin * 3 : Math.floor(limit / 4);
    if (!qmin) qmin = Math.floor(qmax / 3);
    if (!burst) burst = Math.floor((2 * qmin + qmax) / (3 * avpkt));
    if (!rate) {
      rate = 1_250_000; // 10Mbit
      ctx.warn('RED: set bandwidth to 10Mbit (bandwidth not given, assuming 10Mbit)', last);
    }
    const Wlog = redEvalEwma(qmin, burst, avpkt);
    if (Wlog < 0) {
      throw args.error(`tc_red_eval_ewma() burst ${burst} is too small ? Try burst ${1 + Math.floor(qmin / avpkt)}; RED: failed to calculate EWMA constant.`, at.min ?? last);
    }
    if (Wlog >= 10) ctx.warn(`RED: WARNING. Burst ${burst} seems to be too large.`, last);
    const Plog = redEvalP(qmin, qmax, probability);
    if (Plog < 0) throw args.error('RED: failed to calculate probability.', at.max ?? last);
    const stab = new Uint8Array(256);
    const ScellLog = redEvalIdleDamping(Wlog, avpkt, rate, stab);
    if (ScellLog < 0) throw args.error('RED: failed to calculate idle damping table.', last);
    // kernel red_check_params
    if (qmin > qmax) throw args.error(`red: min ${qmin} is larger than max ${qmax}`, at.min ?? last);
    if (qmax > limit) throw args.error(`red: max ${qmax} is larger than limit ${limit}`, at.max ?? last);
    return { limit, qthMin: qmin, qthMax: qmax, Wlog, Plog, ScellLog, stab, maxP: u32(probability * 2 ** 32), flags };
  },
  ...createAndChange(Red),
  formatQdisc(q: Qdisc, details: boolean) {
    const p = (q as Red).params;
    const parts = [`limit ${formatSize(p.limit)}`, `min ${formatSize(p.qthMin)}`, `max ${formatSize(p.qthMax)}`];
    if (p.flags & TC_RED_ECN) parts.push('ecn');
    if (p.flags & TC_RED_HARDDROP) parts.push('harddrop');
    if (p.flags & TC_RED_ADAPTATIVE) parts.push('adaptive');
    if (p.flags & TC_RED_NODROP) parts.push('nodrop');
    if (details) {
      parts.push(`ewma ${p.Wlog}`);
      parts.push(p.maxP ? `probability ${Number((p.maxP / 2 ** 32).toPrecision(6))}` : `Plog ${p.Plog}`);
      parts.push(`Scell_log ${p.ScellLog}`);
    }
    return parts.join(' ');
  },
  formatQdiscXstats(q: Qdisc) {
    const r = q as Red;
    return [`  marked ${r.marked} early ${r.early} pdrop ${r.pdrop} other ${r.other}`];
  },
  qdiscJson(q: Qdisc) {
    const r = q as Red;
    const p = r.params;
    return {
      limit: p.limit,
      min: p.qthMin,
      max: p.qthMax,
      ecn: (p.flags & TC_RED_ECN) !== 0,
      harddrop: (p.flags & TC_RED_HARDDROP) !== 0,
      adaptive: (p.flags & TC_RED_ADAPTATIVE) !== 0,
      nodrop: (p.flags & TC_RED_NODROP) !== 0,
      marked: r.marked,
      early: r.early,
      pdrop: r.pdrop,
      other: r.other,
    };
  },
};
registerKind(redKind);
