/**
 * CBQ commands, mapped onto the HTB engine (decision D5).
 *
 * CBQ (Floyd & Jacobson's class-based queueing, Kuznetsov's sch_cbq) was removed from Linux in 6.3 and
 * from iproute2 with it, yet the LARTC scripts (S-05, S-06) use it. tunqos accepts its syntax and builds
 * an HTB tree that keeps CBQ's intent; the qdisc is an Htb and `tc show` prints it as htb. Mapping:
 *   qdisc `bandwidth B avpkt A [mpu, cell, ewma, allot]`  → htb with no default class: unclassified
 *       packets go unshaped through the direct queue, as CBQ leaves them "at 1:0, not rate-limited";
 *   class `rate R`                 → rate R;
 *   `bounded`                       → ceil = rate; otherwise ceil = the parent's ceil (the `bandwidth`
 *                                     of the qdisc for a top-level class): a class borrows up the tree;
 *   `prio P` (1..8, 8 = lowest)     → HTB prio P−1;
 *   `allot`, `weight`               → the HTB quantum, normalised as CBQ does it:
 *                                     weight × allot × n / Σweights of the n classes at that prio
 *                                     (cbq_normalize_quanta; repaired to mtu/2+1 outside 1..32·mtu);
 *   children asking more than their parent's rate (S-05: 5 + 3 under 6) → their HTB rates scaled to
 *                                     share it in that proportion (CBQ bounds them; HTB would not);
 *   `maxburst N` with `avpkt A`      → burst N × A bytes (CBQ's maxidle lets N average packets through);
 *   `split S defmap M[/C]`          → unclassified packets at split node S go by their TOS priority
 *                                     (TC_PRIO 0..15) to the lowest-level class whose defmap has that
 *                                     bit, with the kernel's update rule (cbq_change_defmap/sync_defmap);
 *   `isolated`/`sharing`, `minburst`, `minidle`, `ewma`, `cell`, `estimator`: no HTB equivalent; accepted
 *                                     with a warning that says so.
 * Every cbq command warns once: "cbq is mapped onto htb (CBQ was removed from Linux 6.3)".
 * `tc class change ... cbq` keeps what it does not name (CBQ's kernel did), e.g. `cbq defmap 01/01`.
 * What differs from real CBQ: shaping is by token buckets, not idle-time estimation (no avgidle,
 * offtime, overlimit strategies); the link `bandwidth` is not enforced on the direct queue.
 * Reference: iproute2 tc/q_cbq.c (≤ 6.2), net/sched/sch_cbq.c (≤ 6.2), LARTC §9.5.4.
 */
import { Htb, type HtbClass, type HtbClassOptions } from '../../qdisc/htb';
import type { ClassfulQdisc, QdiscClass, QdiscEnv } from '../../qdisc/qdisc';
import { type ParseContext, type QdiscKind, registerKind } from '../kinds';
import { type Args, TcError, type Token } from '../tokens';
import { ClassHash } from '../class-order';
import { handleOf, intOf, rateOf, sizeOf } from '../values';
import { formatHtbClass, formatHtbClassXstats, formatHtbQdisc, htbKind } from './htb';

export const CBQ_MAPPED_WARNING = 'cbq is mapped onto htb (CBQ was removed from Linux 6.3)';
const TC_CBQ_MAXPRIO = 8;

export interface CbqQdiscOptions {
  bandwidth: number;
  avpkt: number;
  mpu?: number;
}

export interface CbqClassSpec {
  rate?: number;
  bandwidth?: number;
  allot?: number;
  /** CBQ priority 1..8 */
  prio?: number;
  weight?: number;
  avpkt?: number;
  maxburst?: number;
  mpu?: number;
  bounded?: boolean;
  isolated?: boolean;
  /** split node classid (the qdisc handle for 1:0) */
  split?: number;
  defmap?: number;
}

/** An HTB instance that remembers the CBQ parameters it was built from. */
export class CbqHtb extends Htb {
  readonly bandwidth: number;
  readonly avpkt: number;
  readonly cbq = new Map<number, CbqClassSpec>();
  /**
   * The classes in the kernel's class-hash walk order (tc/class-order.ts). cbq_sync_defmap and the
   * other walks below visit classes in that order, and the defmap's tie-break (the first class of the
   * lowest level) depends on it; the HTB engine itself keeps classes in the order they were added.
   */
  readonly order = new ClassHash();
  constructor(handle: number, env: QdiscEnv, opts: CbqQdiscOptions) {
    super(handle, env, { defcls: 0 });
    this.bandwidth = opts.bandwidth;
    this.avpkt = opts.avpkt;
    this.rootDefaults = new Int32Array(16);
  }

  /** cbq_walk's order: the class hash's */
  walkClasses(): HtbClass[] {
    return this.order.walk().map((id) => this.getClass(id) as HtbClass);
  }
}

function parseQdisc(args: Args, ctx: ParseContext): CbqQdiscOptions {
  const anchor = args.last();
  ctx.warn(CBQ_MAPPED_WARNING, anchor);
  let bandwidth = 0;
  let avpkt = 0;
  let mpu: number | undefined;
  const ignored: Token[] = [];
  while (!args.done()) {
    const key = args.next();
    const w = key.text.toLowerCase();
    if (w === 'bandwidth' || w === 'rate') bandwidth = Math.floor(rateOf(args.value(key), 'bandwidth'));
    else if (w === 'avpkt') avpkt = sizeOf(args.value(key), 'avpkt');
    else if (w === 'mpu') mpu = sizeOf(args.value(key), 'mpu');
    else if (w === 'cell') cellOf(args.value(key));
    else if (w === 'ewma') ewmaOf(args.value(key));
    else if (w === 'allot') sizeOf(args.value(key), 'allot');
    else throw args.error(`What is "${key.text}"? (cbq qdisc takes: bandwidth, avpkt, mpu, cell, ewma, allot)`, key);
    if (w === 'cell' || w === 'ewma') ignored.push(key);
  }
  if (bandwidth === 0) throw new TcError('CBQ: bandwidth is required parameter.', anchor);
  if (avpkt === 0) throw new TcError('CBQ: "avpkt" is required.', anchor);
  for (const t of ignored) ctx.warn(`cbq ${t.text} has no htb equivalent: ignored`, t);
  return { bandwidth, avpkt, mpu };
}

function cellOf(t: Token): number {
  const cell = sizeOf(t, 'cell');
  if (cell < 1 || (cell & (cell - 1)) !== 0) throw new TcError('cell must be 2^n', t);
  return cell;
}

function ewmaOf(t: Token): number {
  const v = intOf(t, 'ewma');
  if (v > 31) throw new TcError('ewma_log must be < 32', t);
  return v;
}

function parseClass(args: Args, ctx: ParseContext, _q: unknown, existing?: CbqClassSpec): CbqClassSpec {
  const anchor = args.last();
  ctx.warn(CBQ_MAPPED_WARNING, anchor);
  const s: CbqClassSpec = { ...(existing ?? {}) };
  const approx = (t: Token, what: string): void => ctx.warn(`cbq ${t.text}: ${what}`, t);
  while (!args.done()) {
    const key = args.next();
    const w = key.text.toLowerCase();
    if (w === 'rate') s.rate = Math.floor(rateOf(args.value(key), 'rate'));
    else if (w === 'bandwidth') s.bandwidth = Math.floor(rateOf(args.value(key), 'bandwidth'));
    else if (w === 'allot') s.allot = sizeOf(args.value(key), 'allot');
    else if (w === 'weight') s.weight = sizeOf(args.value(key), 'weight');
    else if (w === 'avpkt') s.avpkt = sizeOf(args.value(key), 'avpkt');
    else if (w === 'mpu') s.mpu = sizeOf(args.value(key), 'mpu');
    else if (w === 'maxburst') s.maxburst = intOf(args.value(key), 'maxburst');
    else if (w === 'prio') {
      const v = args.value(key);
      const p = intOf(v, 'prio');
      if (p > TC_CBQ_MAXPRIO) throw new TcError(`"prio" must be number in the range 1...${TC_CBQ_MAXPRIO}`, v);
      s.prio = p;
    } else if (w === 'bounded') s.bounded = true;
    else if (w === 'borrow') s.bounded = false;
    else if (w === 'isolated' || w === 'sharing') {
      s.isolated = w === 'isolated';
      if (s.isolated) approx(key, 'htb lends only through the parent, so siblings may still use what this class leaves');
    } else if (w === 'split') {
      const v = args.value(key);
      try {
        s.split = handleOf(v, 'split');
      } catch {
        throw new TcError('Invalid split node ID.', v);
      }
    } else if (w === 'defmap') {
      const v = args.value(key);
      const m = /^([0-9a-f]{1,8})(?:\/([0-9a-f]{1,8}))?$/i.exec(v.text);
      if (!m) throw new TcError('Invalid defmap, should be MASK32[/MASK]', v);
      const def = parseInt(m[1], 16);
      const mask = m[2] === undefined ? 0xffffffff : parseInt(m[2], 16);
      s.defmap = (((s.defmap ?? 0) & ~mask) | (def & mask)) >>> 0;
    } else if (w === 'minburst' || w === 'minidle') {
      intOf(args.value(key), w);
      approx(key, 'no htb equivalent (token buckets need no idle-time tuning): ignored');
    } else if (w === 'ewma') {
      ewmaOf(args.value(key));
      approx(key, 'no htb equivalent: ignored');
    } else if (w === 'cell') {
      cellOf(args.value(key));
      approx(key, 'no htb equivalent (rate tables are gone): ignored');
    } else if (w === 'estimator') {
      args.value(key);
      args.value(key);
      approx(key, 'ignored (tunqos estimates rates itself)');
    } else {
      throw args.error(`What is "${key.text}"? (cbq class takes: bandwidth, rate, allot, prio, weight, avpkt, maxburst, minburst, mpu, bounded, isolated, split, defmap)`, key);
    }
  }
  if (!existing && s.rate === undefined) throw new TcError('CBQ: a new class needs "rate"', anchor);
  return s;
}

/** the HTB parameters of a CBQ class (quantum is set afterwards by normaliseQuanta) */
function htbOptions(q: CbqHtb, parentid: number, s: CbqClassSpec, scale = 1): HtbClassOptions {
  const rate = Math.max(1, Math.floor((s.rate as number) * scale));
  const parent = q.getClass(parentid);
  const ceil = s.bounded ? rate : Math.max(rate, parent ? parent.ceil : q.bandwidth);
  const avpkt = s.avpkt ?? q.avpkt;
  const burst = s.maxburst ? s.maxburst * avpkt : undefined;
  return {
    rate,
    ceil,
    prio: Math.max(0, Math.min(TC_CBQ_MAXPRIO, s.prio || TC_CBQ_MAXPRIO) - 1),
    quantum: 1, // placeholder until normaliseQuanta
    mpu: s.mpu,
    ...(burst ? { buffer: (burst * 1e9) / rate, cbuffer: (burst * 1e9) / ceil } : {}),
  };
}

/**
 * CBQ keeps a bounded parent's children inside the parent's rate whatever their own rates add up to
 * (S-05: 5 + 3 Mbit under a 6 Mbit parent share it 5:3). HTB guarantees every child its rate, so when
 * the children of a class (or of the link) are given more than it has, their HTB rates are scaled down
 * in proportion — the shares CBQ would give — and a warning says so. Parents are done before children.
 */
function applyAll(q: CbqHtb, warned: Set<number>): void {
  const depth = (c: HtbClass): number => (c.parent ? 1 + depth(c.parent) : 0);
  const all = q.walkClasses().sort((a, b) => depth(a) - depth(b));
  for (const cl of all) {
    const s = q.cbq.get(cl.classid);
    if (!s) continue;
    const siblings = all.filter((c) => c.parent === cl.parent);
    const sum = siblings.reduce((acc, c) => acc + (q.cbq.get(c.classid)?.rate ?? 0), 0);
    const room = cl.parent ? cl.parent.rate : q.bandwidth;
    const scale = sum > room ? room / sum : 1;
    const parentKey = cl.parent ? cl.parent.classid : q.handle;
    if (scale < 1 && !warned.has(parentKey)) {
      warned.add(parentKey);
      q.env.warn(
        `cbq: the classes under ${parentKey.toString(16)} ask for more than its rate; their htb rates are scaled by ${scale.toFixed(3)} so that they share it in proportion, as CBQ would`,
      );
    }
    q.changeClass(cl.classid, htbOptions(q, cl.parentid, s, scale));
  }
  normaliseQuanta(q);
}

/** cbq_normalize_quanta: quantum = weight × allot × n / Σ weight over the n classes of each prio */
function normaliseQuanta(q: CbqHtb): void {
  const mtu = q.env.mtu;
  const byPrio = new Map<number, { n: number; sum: number }>();
  const weight = (s: CbqClassSpec): number => s.weight || ((s.prio || TC_CBQ_MAXPRIO) === TC_CBQ_MAXPRIO ? 1 : (s.rate as number));
  const allot = (s: CbqClassSpec): number => Math.max(s.allot ?? 0, Math.floor(((s.avpkt ?? q.avpkt) * 3) / 2));
  for (const s of q.cbq.values()) {
    const p = s.prio || TC_CBQ_MAXPRIO;
    const e = byPrio.get(p) ?? { n: 0, sum: 0 };
    e.n++;
    e.sum += weight(s);
    byPrio.set(p, e);
  }
  for (const [classid, s] of q.cbq) {
    const cl = q.getClass(classid);
    if (!cl) continue;
    const e = byPrio.get(s.prio || TC_CBQ_MAXPRIO) as { n: number; sum: number };
    let quantum = Math.floor((weight(s) * allot(s) * e.n) / e.sum);
    if (quantum <= 0 || quantum > 32 * mtu) quantum = Math.floor(mtu / 2) + 1;
    cl.quantum = quantum;
    cl.userQuantum = true;
  }
}

/** CBQ's level: 0 for a leaf, one more than the highest child otherwise (the root is above all) */
function cbqLevel(q: CbqHtb, classid: number): number {
  let level = -1;
  for (const c of q.walkClasses()) {
    if ((classid === q.handle && c.parent === null) || (c.parent !== null && c.parent.classid === classid)) {
      level = Math.max(level, cbqLevel(q, c.classid));
    }
  }
  return level + 1;
}

/** cbq_sync_defmap for class `classid` (its split's defaults table) */
function syncDefmap(q: CbqHtb, classid: number): void {
  const s = q.cbq.get(classid);
  if (!s || s.split === undefined) return;
  const split = s.split;
  const table = defaultsOf(q, split);
  if (!table) return;
  const minor = classid & 0xffff;
  const defmap = s.defmap ?? 0;
  for (let i = 0; i < 16; i++) if (table[i] === minor && !(defmap & (1 << i))) table[i] = 0;
  for (let i = 0; i < 16; i++) {
    if (table[i] !== 0) continue;
    let level = cbqLevel(q, split);
    for (const c of q.walkClasses()) {
      const cs = q.cbq.get(c.classid);
      if (cs && cs.split === split && (cs.defmap ?? 0) & (1 << i)) {
        const l = cbqLevel(q, c.classid);
        if (l < level) {
          table[i] = c.minor;
          level = l;
        }
      }
    }
  }
}

function defaultsOf(q: CbqHtb, split: number): Int32Array | null {
  if (split === q.handle) return q.rootDefaults;
  const cl = q.getClass(split);
  if (!cl) return null;
  if (!cl.defaults) cl.defaults = new Int32Array(16);
  return cl.defaults;
}

/** the split must be an ancestor (cbq_change_defmap); 1:0, the qdisc, always is */
function checkSplit(q: CbqHtb, classid: number, parentid: number, s: CbqClassSpec): void {
  if (s.split === undefined) return;
  if ((s.split & 0xffff) === 0) {
    s.split = q.handle;
    return;
  }
  for (let c = q.getClass(parentid) ?? null; c; c = c.parent) if (c.classid === s.split) return;
  q.env.warn(`cbq split ${s.split.toString(16)} is not an ancestor of class ${classid.toString(16)}: defmap ignored`);
  s.split = undefined;
}

export const cbqKind: QdiscKind<CbqQdiscOptions, CbqClassSpec> = {
  kind: 'cbq',
  classful: true,
  parseQdisc,
  create(handle, opts, env) {
    return new CbqHtb(handle, env, opts);
  },
  change() {
    // bandwidth/avpkt only fed CBQ's idle-time estimator; nothing to change on the HTB engine
  },
  formatQdisc: formatHtbQdisc,
  parseClass,
  addClass(q, classid, parentid, spec) {
    const h = q as CbqHtb;
    const s = { ...spec };
    const cl = h.addClass(classid, parentid, htbOptions(h, parentid, s));
    h.order.insert(classid);
    checkSplit(h, classid, parentid, s);
    h.cbq.set(classid, s);
    applyAll(h, new Set());
    syncDefmap(h, classid);
    return cl;
  },
  changeClass(q, classid, spec) {
    const h = q as CbqHtb;
    const cl = h.getClass(classid) as HtbClass;
    const s = { ...spec };
    checkSplit(h, classid, cl.parentid, s);
    h.cbq.set(classid, s);
    applyAll(h, new Set());
    syncDefmap(h, classid);
  },
  deleteClass(q, classid) {
    const h = q as CbqHtb;
    const s = h.cbq.get(classid);
    h.deleteClass(classid);
    h.order.remove(classid);
    h.cbq.delete(classid);
    if (s && s.split !== undefined) {
      const table = defaultsOf(h, s.split);
      if (table) for (let i = 0; i < 16; i++) if (table[i] === (classid & 0xffff)) table[i] = 0;
    }
    applyAll(h, new Set());
  },
  formatClass: (q: ClassfulQdisc, c: QdiscClass, d: boolean) => formatHtbClass(q, c, d),
  formatClassXstats: formatHtbClassXstats,
  qdiscJson: htbKind.qdiscJson,
  classOptions(q, c) {
    return { ...((q as CbqHtb).cbq.get(c.classid) ?? {}) };
  },
};

registerKind(cbqKind);
