/**
 * tc options of HTB (tc-htb(8), iproute2 tc/q_htb.c) and what `tc qdisc|class show` prints for it.
 *
 * qdisc: `default MINOR` (hex), `r2q N` (10), `direct_qlen P` (txqueuelen), `offload` (accepted,
 * ignored with a warning), `debug X` (accepted, ignored).
 * class: `rate R` (required: `"rate" is required.`), `ceil R` (default rate), `burst|buffer|maxburst B`,
 * `cburst|cbuffer|cmaxburst|csize B` (defaults: see defaultBurst in src/qdisc/htb.ts — larger than tc's
 * 1600 bytes, and shown as used), `prio P` (0..7; higher is clamped to 7 as the kernel does),
 * `quantum Q`, `mtu M` (1600: enters the default bursts), `mpu`, `overhead`, `linklayer
 * ethernet|atm|adsl`. Keywords match by prefix where iproute2 uses matches() and exactly where it
 * uses strcmp(), and errors reuse iproute2's words ("What is "foo"?", "Double "rate" spec").
 * Bursts travel as tc sends them, in psched ticks (µs truncated, then ×15.625 truncated), so the show
 * output reads back exactly what the kernel prints (1600 bytes at 6 Mbit → "cburst 1599b").
 * `tc class change` replaces all parameters, as with tc and Linux: what the command does not name goes
 * back to its default (ceil = rate, computed bursts, prio 0); tokens and queued packets are kept.
 * Extra warnings tunqos gives (tc gives none): ceil below rate, children whose rates add up to more
 * than their parent's, prio above 7, a parent that does not exist (Linux then makes a root class),
 * linklayer atm.
 * Reference: iproute2 tc/q_htb.c (htb_parse_opt, htb_parse_class_opt, htb_print_opt, htb_print_xstats),
 * recorded outputs in test/fixtures/kernel/htb/.
 */
import { Htb, type HtbClass, type HtbClassOptions, type HtbOptions, burstToBuffer, defaultBurst } from '../../qdisc/htb';
import { type ClassfulQdisc, type Qdisc, type QdiscClass, formatHandle } from '../../qdisc/qdisc';
import { pschedNs2Ticks, tcCalcXmitsizeSat } from '../../time/psched';
import { formatRate, formatSize } from '../../time/units';
import { type ParseContext, type QdiscKind, registerKind } from '../kinds';
import { type Args, TcError, type Token, matches } from '../tokens';
import { hexOf, intOf, rateOf, sizeOf } from '../values';

/** What a parsed `tc class ... htb` carries: the class options plus which bursts were given. */
export interface HtbClassSpec extends HtbClassOptions {
  /** bursts in bytes as written (undefined: default) — converted against the rate when applied */
  burstBytes?: number;
  cburstBytes?: number;
}

function sizeAndCell(t: Token, what: string): number {
  // get_size_and_cell: "15k/8" — the cell is of the rate tables, obsolete since Linux 3.8
  return sizeOf({ ...t, text: t.text.split('/')[0] }, what);
}

export function parseHtbQdisc(args: Args, ctx: ParseContext): HtbOptions {
  const opts: HtbOptions = {};
  while (!args.done()) {
    const key = args.next();
    const w = key.text.toLowerCase();
    if (matches(w, 'r2q')) opts.r2q = intOf(args.value(key), 'r2q');
    else if (matches(w, 'default')) opts.defcls = hexOf(args.value(key), 'default', 0xffffffff) & 0xffff;
    else if (matches(w, 'debug')) args.value(key);
    else if (matches(w, 'direct_qlen')) opts.directQlen = intOf(args.value(key), 'direct_qlen');
    else if (matches(w, 'offload')) ctx.warn('htb offload needs a NIC that supports it: ignored', key);
    else throw args.error(`What is "${key.text}"? (htb qdisc takes: default, r2q, direct_qlen, offload)`, key);
  }
  return opts;
}

export function parseHtbClass(args: Args, ctx: ParseContext): HtbClassSpec {
  let rate: number | undefined;
  let ceil: number | undefined;
  const spec: Partial<HtbClassSpec> = {};
  const anchor = args.last();
  while (!args.done()) {
    const key = args.next();
    const w = key.text.toLowerCase();
    if (matches(w, 'prio')) {
      const v = args.value(key);
      spec.prio = intOf(v, 'prio');
      if (spec.prio > 7) ctx.warn(`prio ${spec.prio} is above 7: the kernel uses 7`, v);
    } else if (matches(w, 'mtu')) spec.mtu = intOf(args.value(key), 'mtu');
    else if (matches(w, 'mpu')) spec.mpu = intOf(args.value(key), 'mpu', 0, 0xffff);
    else if (matches(w, 'overhead')) spec.overhead = intOf(args.value(key), 'overhead', 0, 0xffff);
    else if (matches(w, 'linklayer')) {
      const v = args.value(key);
      const l = v.text.toLowerCase();
      if (l === 'ethernet') spec.linklayer = 'ethernet';
      else if (l === 'atm' || l === 'adsl') {
        spec.linklayer = 'atm';
        ctx.warn('linklayer atm: every packet is charged as whole 53-byte ATM cells of 48 bytes payload', v);
      } else throw args.error(`Illegal "linklayer" "${v.text}" (ethernet, atm or adsl)`, v);
    } else if (matches(w, 'quantum')) spec.quantum = intOf(args.value(key), 'quantum');
    else if (matches(w, 'burst') || w === 'buffer' || w === 'maxburst') spec.burstBytes = sizeAndCell(args.value(key), key.text);
    else if (matches(w, 'cburst') || w === 'cbuffer' || w === 'cmaxburst' || w === 'csize') {
      spec.cburstBytes = sizeAndCell(args.value(key), key.text);
    } else if (w === 'ceil') {
      const v = args.value(key);
      if (ceil !== undefined) throw new TcError('Double "ceil" spec', v);
      ceil = Math.floor(rateOf(v, 'ceil'));
      if (ceil <= 0) throw new TcError('ceil must be above 0', v);
    } else if (w === 'rate') {
      const v = args.value(key);
      if (rate !== undefined) throw new TcError('Double "rate" spec', v);
      rate = Math.floor(rateOf(v, 'rate'));
      if (rate <= 0) throw new TcError('rate must be above 0', v);
    } else {
      throw args.error(
        `What is "${key.text}"? (htb class takes: rate, ceil, burst, cburst, prio, quantum, mtu, mpu, overhead, linklayer)`,
        key,
      );
    }
  }
  if (rate === undefined) throw new TcError('"rate" is required.', anchor);
  if (ceil !== undefined && ceil < rate) {
    ctx.warn(`ceil ${formatRate(ceil)} is below rate ${formatRate(rate)}: the class can never reach its rate (tc accepts it)`, anchor);
  }
  return { ...spec, rate, ceil: ceil ?? rate };
}

/** the bursts a spec gets on the device: as given, or tunqos's defaults (rate × timerSlack + mtu) */
export function resolveBuffers(spec: HtbClassSpec, q: Htb): HtbClassOptions {
  const ceil = spec.ceil ?? spec.rate;
  const mtu = spec.mtu ?? 1600;
  return {
    ...spec,
    buffer: spec.buffer ?? burstToBuffer(spec.rate, spec.burstBytes ?? defaultBurst(spec.rate, q.env, mtu)),
    cbuffer: spec.cbuffer ?? burstToBuffer(ceil, spec.cburstBytes ?? defaultBurst(ceil, q.env, mtu)),
  };
}

/** warns when the children of `parent` are guaranteed more than the parent (HTB then cannot keep both) */
export function warnOversubscribed(q: Htb, cl: HtbClass): void {
  const parent = cl.parent;
  if (!parent) return;
  let sum = 0;
  for (const c of q.classes()) if (c.parent === parent) sum += c.rate;
  if (sum > parent.rate) {
    q.env.warn(
      `the children of class ${formatHandle(parent.classid)} are guaranteed ${formatRate(sum)}, more than its rate ${formatRate(parent.rate)}: each still gets its rate, the parent lends nothing`,
    );
  }
}

const tcRate = (bytesPerSec: number): string => formatRate(bytesPerSec);

export function formatHtbQdisc(q: Qdisc, details: boolean): string {
  const h = q as Htb;
  let s = `r2q ${h.r2q} default ${h.defcls === 0 ? '0' : `0x${h.defcls.toString(16)}`} direct_packets_stat ${h.directPackets}`;
  if (details) s += ' ver 3.17';
  s += ` direct_qlen ${h.directQlen}`;
  if (h.offload) s += ' offload';
  return s;
}

export function formatHtbClass(_q: ClassfulQdisc, c: QdiscClass, details: boolean): string {
  const cl = c as HtbClass;
  let s = '';
  if (cl.level === 0) {
    s += `prio ${cl.prio} `;
    if (details) s += `quantum ${cl.quantum} `;
  }
  s += `rate ${tcRate(cl.rate)} `;
  if (cl.overhead) s += `overhead ${cl.overhead} `;
  s += `ceil ${tcRate(cl.ceil)} `;
  const burst = formatSize(tcCalcXmitsizeSat(cl.rate, pschedNs2Ticks(cl.buffer)));
  const cburst = formatSize(tcCalcXmitsizeSat(cl.ceil, pschedNs2Ticks(cl.cbuffer)));
  if (cl.atm || details) s += `linklayer ${cl.atm ? 'atm' : 'ethernet'} `;
  if (details) {
    s += `burst ${burst}/1 mpu ${formatSize(cl.mpu)} cburst ${cburst}/1 mpu ${formatSize(cl.mpu)} level ${cl.level} `;
  } else {
    s += `burst ${burst} cburst ${cburst} `;
  }
  return s;
}

/** PSCHED_NS2TICKS clamped to an int, as htb_dump_class_stats does */
const ticks = (ns: number): number => Math.max(-0x80000000, Math.min(0x7fffffff, pschedNs2Ticks(ns)));

export function formatHtbClassXstats(_q: ClassfulQdisc, c: QdiscClass): string[] {
  const cl = c as HtbClass;
  return [` lended: ${cl.lends} borrowed: ${cl.borrows} giants: ${cl.giants}`, ` tokens: ${ticks(cl.tokens)} ctokens: ${ticks(cl.ctokens)}`];
}

export const htbKind: QdiscKind<HtbOptions, HtbClassSpec> = {
  kind: 'htb',
  classful: true,
  parseQdisc: parseHtbQdisc,
  create(handle, opts, env) {
    return new Htb(handle, env, opts);
  },
  change(q, opts) {
    // Linux's HTB has no change operation; tunqos lets default, r2q and direct_qlen change live.
    (q as Htb).setOptions(opts);
  },
  formatQdisc: formatHtbQdisc,
  qdiscJson(q) {
    const h = q as Htb;
    return { r2q: h.r2q, default: `0x${h.defcls.toString(16)}`, direct_packets_stat: h.directPackets, direct_qlen: h.directQlen };
  },
  defaultClass(q) {
    return (q as Htb).defcls;
  },
  parseClass(args, ctx) {
    return parseHtbClass(args, ctx);
  },
  addClass(q, classid, parentid, spec) {
    const h = q as Htb;
    const cl = h.addClass(classid, parentid, resolveBuffers(spec, h));
    warnOversubscribed(h, cl);
    return cl;
  },
  changeClass(q, classid, spec) {
    const h = q as Htb;
    const cl = h.changeClass(classid, resolveBuffers(spec, h));
    warnOversubscribed(h, cl);
  },
  deleteClass(q, classid) {
    (q as Htb).deleteClass(classid);
  },
  formatClass: formatHtbClass,
  formatClassXstats: formatHtbClassXstats,
  classOptions(_q, c) {
    const cl = c as HtbClass;
    return {
      rate: cl.rate,
      ceil: cl.ceil,
      buffer: cl.buffer,
      cbuffer: cl.cbuffer,
      prio: cl.prio,
      quantum: cl.userQuantum ? cl.quantum : undefined,
      overhead: cl.overhead,
      mpu: cl.mpu,
      linklayer: cl.atm ? 'atm' : 'ethernet',
      mtu: cl.mtu,
    };
  },
};

registerKind(htbKind);
