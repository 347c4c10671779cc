/**
 * `tc filter add|replace|change|del|show ... u32 ...`: the command parser and FilterSet, the filters
 * of one device side (egress or ingress), with `tc filter show` output as iproute2 6.1 prints it
 * against Linux 6.18 (recorded in test/fixtures/kernel/filters/).
 *
 * Semantics follow the kernel (net/sched/cls_api.c, cls_u32.c):
 *  - one u32 instance per (parent, prio), with a protocol; its root table gets the next htid (800:
 *    for the first instance on a parent, then 801:, 802: ... cyclically); `divisor` makes a table
 *    (`handle 2:` names it); `ht X:Y:` places a knode in bucket Y; `link` must name a non-root table;
 *  - knode ids: the lowest free id from 0x800 in the bucket, or `order N` / `handle X:Y:N`;
 *  - `add` of an existing handle fails; `replace`/`change` of an existing knode keep its selector and
 *    update classid, link and actions (what the kernel does); `change` never creates;
 *  - `del` with a handle removes one knode (or a non-root table not linked to), with a prio the whole
 *    instance, with neither every filter of the parent.
 * Leniencies (DESIGN.md D4, each with a warning): no `protocol` means all (and joins an existing prio
 * with that prio's protocol instead of failing as the kernel does); `flowid :N` is minor N of the
 * parent's major; a filter without a kind but with `match`/`flowid` is a u32 filter (S-08 catch-all).
 * Differences: tables are per parent (the kernel shares them across a qdisc's classes); a failed
 * command consumes no htid; the police/action lines of `show` could not be checked against this
 * kernel (act_police is not built) and follow iproute2's print_police/print_gact.
 */
import type { Arena } from '../packet/arena';
import { FilterAction, ACT_GACT, ACT_POLICE, ACTION_WORDS, actionName, TC_ACT_PIPE } from '../classify/action';
import { ETH_P_ALL, ETH_P_IP, ETH_P_IPV6, FilterChain, protocolName, type ChainEntry } from '../classify/chain';
import { Police, type PoliceOptions } from '../classify/police';
import {
  emptySel,
  formatU32Handle,
  TC_U32_EAT,
  TC_U32_OFFSET,
  TC_U32_ROOT,
  TC_U32_TERMINAL,
  TC_U32_VAROFFSET,
  U32Common,
  U32Knode,
  U32Program,
  U32Table,
  u32Hash,
  u32Htid,
  u32Key,
  u32Node,
  type U32Sel,
} from '../classify/u32';
import { TC_H_ROOT, tcHandle, tcMajor, tcMinor, formatHandle } from '../qdisc/qdisc';
import { formatRate, formatSize } from '../time/units';
import type { ParseContext } from './kinds';
import { TcError, type Args, type Token } from './tokens';
import { cInt, handleOf, rateOf, sizeOf } from './values';
import { parseHashkey, parseOffset, parseSelector, sampleBucket, u32HandleOf } from './filter-u32';

export type FilterVerb = 'add' | 'replace' | 'change' | 'del' | 'show';

export interface U32Options {
  sel: U32Sel;
  /** classid as given (may have major 0: `:20`) */
  classid: number | undefined;
  link: number | undefined;
  /** `ht` (table and bucket) */
  ht: number | undefined;
  divisor: number | undefined;
  order: number | undefined;
  actions: FilterAction[];
  /** `u32` with no options at all: only the instance (and its root table) is created */
  empty: boolean;
  tokens: { classid?: Token; link?: Token; ht?: Token; divisor?: Token; order?: Token };
}

export interface FilterCommand {
  verb: FilterVerb;
  dev: string | undefined;
  /** tc handle; TC_H_ROOT if `root` or not given */
  parent: number;
  prio: number | undefined;
  protocol: number | 'all';
  protocolGiven: boolean;
  /** u32 handle (htid:bucket:node) or undefined */
  handle: number | undefined;
  kind: 'u32' | undefined;
  u32: U32Options | undefined;
  anchor: Token;
  tokens: { prio?: Token; handle?: Token; protocol?: Token; parent?: Token };
}

const PROTOCOLS: Record<string, number> = { ip: ETH_P_IP, ipv4: ETH_P_IP, ipv6: ETH_P_IPV6, all: ETH_P_ALL };

function protoNum(p: number | 'all'): number {
  return p === 'all' ? ETH_P_ALL : p;
}

function parsePolice(args: Args, key: Token): Police {
  const o: PoliceOptions = {};
  let any = false;
  for (;;) {
    const w = args.peekWord();
    if (w === '') break;
    if (w === 'rate') {
      const k = args.next();
      o.rate = rateOf(args.value(k));
    } else if (w === 'burst' || w === 'buffer' || w === 'maxburst') {
      const k = args.next();
      o.burst = sizeOf(args.value(k), 'burst');
    } else if (w === 'mtu' || w === 'minburst') {
      const k = args.next();
      o.mtu = sizeOf(args.value(k), 'mtu');
    } else if (w === 'mpu') {
      const k = args.next();
      o.mpu = sizeOf(args.value(k), 'mpu');
    } else if (w === 'peakrate') {
      const k = args.next();
      o.peakrate = rateOf(args.value(k), 'peakrate');
    } else if (w === 'avrate') {
      const k = args.next();
      o.avrate = rateOf(args.value(k), 'avrate');
    } else if (w === 'overhead') {
      const k = args.next();
      o.overhead = cInt(args.value(k), 'overhead', 0, 0xffff);
    } else if (w === 'linklayer') {
      const k = args.next();
      const v = args.value(k);
      if (v.text.toLowerCase() !== 'ethernet') throw new TcError(`linklayer "${v.text}" is not supported (only ethernet)`, v);
    } else if (w === 'index') {
      const k = args.next();
      o.index = cInt(args.value(k), 'index', 0);
    } else if (w === 'conform-exceed') {
      const k = args.next();
      const v = args.value(k);
      const [ex, co] = v.text.toLowerCase().split('/');
      if (!(ex in ACTION_WORDS) || (co !== undefined && !(co in ACTION_WORDS))) {
        throw new TcError(`invalid conform-exceed "${v.text}" (EXCEED[/CONFORM], each of drop, pass, ok, continue, reclassify, pipe)`, v);
      }
      o.exceed = ACTION_WORDS[ex];
      if (co !== undefined) o.conform = ACTION_WORDS[co];
    } else if (w in ACTION_WORDS) {
      const v = args.next();
      const [ex, co] = v.text.toLowerCase().split('/');
      o.exceed = ACTION_WORDS[ex];
      if (co !== undefined) {
        if (!(co in ACTION_WORDS)) throw new TcError(`invalid conform action "${co}"`, v);
        o.conform = ACTION_WORDS[co];
      }
    } else if (/^(drop|pass|ok|continue|reclassify|pipe|shot)\//.test(w)) {
      const v = args.next();
      const [ex, co] = w.split('/');
      if (!(co in ACTION_WORDS)) throw new TcError(`invalid conform action "${co}"`, v);
      o.exceed = ACTION_WORDS[ex];
      o.conform = ACTION_WORDS[co];
    } else break;
    any = true;
  }
  if (!any || (!o.rate && !o.avrate && !o.mtu)) throw new TcError('police needs at least "rate RATE burst SIZE" (or avrate)', key);
  if (o.rate && !o.burst) throw new TcError('police: "burst" is required with "rate"', key);
  if (o.peakrate && !o.mtu) throw new TcError('police: "mtu" is required with "peakrate"', key);
  return new Police(o);
}

/** `action ...` after u32 options: gact verdicts and `police`. */
function parseAction(args: Args, key: Token, out: FilterAction[]): void {
  let t = args.next();
  let w = t.text.toLowerCase();
  if (w === 'gact') {
    t = args.next();
    w = t.text.toLowerCase();
  }
  if (w === 'police') {
    out.push(new FilterAction(ACT_POLICE, 0, parsePolice(args, t)));
  } else if (w in ACTION_WORDS) {
    out.push(new FilterAction(ACT_GACT, ACTION_WORDS[w], null));
  } else {
    throw new TcError(`unsupported action "${t.text}" (drop, pass, ok, continue, reclassify, pipe, police)`, t);
  }
  // optional `index N`
  if (args.peekWord() === 'index') {
    const k = args.next();
    cInt(args.value(k), 'index', 0);
  }
  void key;
}

function parseU32(args: Args, ctx: ParseContext, cmd: FilterCommand): U32Options {
  const o: U32Options = { sel: emptySel(), classid: undefined, link: undefined, ht: undefined, divisor: undefined, order: undefined, actions: [], empty: args.done(), tokens: {} };
  let sampleBkt: number | undefined;
  let sampleTok: Token | undefined;
  while (!args.done()) {
    const t = args.next();
    const w = t.text.toLowerCase();
    switch (w) {
      case 'match':
        parseSelector(args, o.sel);
        break;
      case 'offset':
        parseOffset(args, o.sel, t);
        break;
      case 'hashkey':
        parseHashkey(args, o.sel, t);
        break;
      case 'classid':
      case 'flowid': {
        const v = args.value(t);
        o.classid = handleOf(v, w);
        o.tokens.classid = v;
        o.sel.flags |= TC_U32_TERMINAL;
        if (tcMajor(o.classid) === 0 && o.classid !== 0) ctx.warn(`"${w} ${v.text}" has no major: taken as minor ${v.text.replace(/^:/, '')} of the parent's major (D4)`, v);
        break;
      }
      case 'divisor': {
        const v = args.value(t);
        const d = cInt(v, 'divisor', 0);
        if (d === 0 || d > 0x100 || (d & (d - 1)) !== 0) throw new TcError(`Illegal divisor ${v.text} (a power of two, 1..256)`, v);
        o.divisor = d;
        o.tokens.divisor = v;
        break;
      }
      case 'order': {
        const v = args.value(t);
        o.order = cInt(v, 'order', 0, 0xfff);
        o.tokens.order = v;
        break;
      }
      case 'link': {
        const v = args.value(t);
        const h = u32HandleOf(v, 'link');
        if (h & 0xfffff) throw new TcError('"link" must be a hash table (e.g. 2:)', v);
        o.link = h;
        o.tokens.link = v;
        break;
      }
      case 'ht': {
        const v = args.value(t);
        const h = u32HandleOf(v, 'ht');
        if (u32Node(h)) throw new TcError('Illegal "ht": it must name a table and bucket, not a node (e.g. 2:7b:)', v);
        o.ht = h;
        o.tokens.ht = v;
        break;
      }
      case 'sample': {
        const s = emptySel();
        parseSelector(args, s);
        let div = 256;
        if (args.peekWord() === 'divisor') {
          const k = args.next();
          const v = args.value(k);
          div = cInt(v, 'divisor', 1, 0x100);
          if (div & (div - 1)) throw new TcError(`Illegal divisor ${v.text} (a power of two, 1..256)`, v);
        }
        if (s.keys.length !== 1) throw new TcError('"sample" needs exactly one 32-bit word to hash', t);
        sampleBkt = sampleBucket(s, div);
        sampleTok = t;
        break;
      }
      case 'police':
        o.actions.push(new FilterAction(ACT_POLICE, 0, parsePolice(args, t)));
        o.sel.flags |= TC_U32_TERMINAL;
        break;
      case 'action':
      case 'actions':
        parseAction(args, t, o.actions);
        o.sel.flags |= TC_U32_TERMINAL;
        break;
      case 'skip_hw':
      case 'skip_sw':
        break;
      case 'indev':
        throw new TcError('"indev" is not supported (a tunqos link has one input)', t);
      default:
        throw new TcError(`unknown u32 option "${t.text}" (match, offset, hashkey, classid, flowid, divisor, order, link, ht, sample, police, action)`, t);
    }
  }
  if (sampleBkt !== undefined) {
    const base = o.ht ?? 0;
    o.ht = (u32Htid(base) | (sampleBkt << 12)) >>> 0;
    o.tokens.ht ??= sampleTok;
  }
  if (o.order !== undefined) {
    const h = cmd.handle ?? 0;
    if (u32Node(h) && u32Node(h) !== o.order) throw new TcError('"order" contradicts "handle"', o.tokens.order);
    cmd.handle = (h | o.order) >>> 0;
  }
  return o;
}

/** Parses the tokens after `filter <verb>`. */
export function parseFilterCommand(verb: string, args: Args, ctx: ParseContext): FilterCommand {
  const v = verb.toLowerCase();
  const normalized: FilterVerb | undefined =
    v === 'add' ? 'add' : v === 'replace' ? 'replace' : v === 'change' ? 'change' : v === 'del' || v === 'delete' ? 'del' : v === 'show' || v === 'list' || v === 'ls' ? 'show' : undefined;
  const anchor = args.peek() ?? args.last() ?? { text: verb, file: '<command line>', line: 1, col: 1 };
  if (!normalized) throw new TcError(`unknown filter command "${verb}" (add, replace, change, del, show)`, anchor);
  const cmd: FilterCommand = {
    verb: normalized,
    dev: undefined,
    parent: TC_H_ROOT,
    prio: undefined,
    protocol: 'all',
    protocolGiven: false,
    handle: undefined,
    kind: undefined,
    u32: undefined,
    anchor,
    tokens: {},
  };
  let handleTok: Token | undefined;
  while (!args.done()) {
    const w = args.peekWord();
    if (w === 'dev') {
      const k = args.next();
      cmd.dev = args.value(k).text;
    } else if (w === 'parent') {
      const k = args.next();
      const t = args.value(k);
      cmd.parent = t.text.toLowerCase() === 'root' ? TC_H_ROOT : handleOf(t, 'parent');
      cmd.tokens.parent = t;
    } else if (w === 'root') {
      cmd.tokens.parent = args.next();
      cmd.parent = TC_H_ROOT;
    } else if (w === 'ingress') {
      cmd.tokens.parent = args.next();
      cmd.parent = 0xffff0000;
    } else if (w === 'protocol') {
      const k = args.next();
      const t = args.value(k);
      const p = PROTOCOLS[t.text.toLowerCase()];
      if (p === undefined) throw new TcError(`protocol "${t.text}" is not supported (ip, ipv6, all): tunqos sees IP packets from a TUN device`, t);
      cmd.protocol = p === ETH_P_ALL ? 'all' : p;
      cmd.protocolGiven = true;
      cmd.tokens.protocol = t;
    } else if (w === 'prio' || w === 'pref' || w === 'priority' || w === 'preference') {
      const k = args.next();
      const t = args.value(k);
      cmd.prio = cInt(t, 'prio', 0, 0xffff);
      cmd.tokens.prio = t;
    } else if (w === 'handle') {
      const k = args.next();
      handleTok = args.value(k);
      cmd.tokens.handle = handleTok;
    } else if (w === 'chain') {
      const k = args.next();
      const t = args.value(k);
      if (cInt(t, 'chain', 0) !== 0) throw new TcError('only chain 0 is supported', t);
    } else if (w === 'estimator') {
      const k = args.next();
      args.value(k);
      args.value(k);
    } else if (w === 'u32') {
      args.next();
      cmd.kind = 'u32';
      break;
    } else if (w === 'match' || w === 'flowid' || w === 'classid') {
      ctx.warn('filter without a classifier kind: taken as "u32" (D4)', args.peek());
      cmd.kind = 'u32';
      break;
    } else if (normalized === 'show' || normalized === 'del') {
      throw new TcError(`unexpected "${args.peek()!.text}" in "filter ${verb}"`, args.peek());
    } else {
      const t = args.peek()!;
      throw new TcError(`filter kind "${t.text}" is not supported (tunqos classifies with u32)`, t);
    }
  }
  if (handleTok) cmd.handle = u32HandleOf(handleTok, 'handle');
  if (cmd.kind === 'u32' && normalized !== 'show') cmd.u32 = parseU32(args, ctx, cmd);
  else if (cmd.kind === 'u32' && !args.done()) throw new TcError(`unexpected "${args.peek()!.text}"`, args.peek());
  if (!cmd.protocolGiven && normalized !== 'del' && normalized !== 'show') ctx.warn('filter without "protocol": it applies to all protocols (D4)', anchor);
  if ((normalized === 'add' || normalized === 'replace' || normalized === 'change') && cmd.kind === undefined) {
    throw new TcError('filter needs a classifier ("u32 ...")', args.last() ?? anchor);
  }
  return cmd;
}

interface Tp {
  prio: number;
  protocol: number;
  root: number; // htid
}

/** The instances at one parent; `common` (tables, htid generator) is shared by every parent of one qdisc. */
class ParentFilters {
  readonly common: U32Common;
  tps: Tp[] = [];
  constructor(common: U32Common) {
    this.common = common;
  }
}

type TraceChain = FilterChain;

export class FilterSet {
  private readonly arena: Arena;
  private parentsMap = new Map<number, ParentFilters>();
  /** u32 tables per qdisc major (the kernel's tc_u_common is per qdisc) */
  private commons = new Map<number, U32Common>();
  private chains = new Map<number, FilterChain | null>();

  constructor(arena: Arena) {
    this.arena = arena;
  }

  clone(): FilterSet {
    const s = new FilterSet(this.arena);
    const map = new Map<U32Common, U32Common>();
    for (const [k, c] of this.commons) {
      const cc = c.clone();
      map.set(c, cc);
      s.commons.set(k, cc);
    }
    for (const [k, v] of this.parentsMap) {
      const p = new ParentFilters(map.get(v.common)!);
      p.tps = v.tps.map((t) => ({ ...t }));
      s.parentsMap.set(k, p);
    }
    return s;
  }

  /**
   * The filter (as `parent P pref N fh H`) whose classid/flowid names `classid`, or undefined: Linux
   * refuses to delete a class a filter still points at ("HTB class in use"), since the filter would
   * then send its traffic nowhere. A `flowid :N` resolves against the major of its parent.
   */
  filterPointingAt(classid: number): string | undefined {
    for (const [parent, pf] of this.parentsMap) {
      for (const tp of pf.tps) {
        for (const t of pf.common.tables) {
          if (t.prio !== tp.prio) continue;
          for (const b of t.buckets) {
            for (const n of b) {
              if (n.rawClassid === undefined) continue;
              const resolved = tcMajor(n.rawClassid) === 0 ? tcHandle(tcMajor(parent), n.rawClassid) : n.rawClassid;
              if (resolved === classid) return `parent ${formatHandle(parent)} pref ${tp.prio} fh ${formatU32Handle(n.handle)}`;
            }
          }
        }
      }
    }
    return undefined;
  }

  parents(): number[] {
    return [...this.parentsMap.entries()].filter(([, p]) => p.tps.length > 0).map(([k]) => k).sort((a, b) => a - b);
  }

  apply(cmd: FilterCommand, ctx: ParseContext): void {
    this.chains.clear();
    if (cmd.verb === 'show') return;
    if (cmd.verb === 'del') return this.del(cmd);
    let pf = this.parentsMap.get(cmd.parent);
    if (!pf) {
      const key = cmd.parent === TC_H_ROOT ? -1 : tcMajor(cmd.parent);
      let common = this.commons.get(key);
      if (!common) {
        common = new U32Common();
        this.commons.set(key, common);
      }
      pf = new ParentFilters(common);
      this.parentsMap.set(cmd.parent, pf);
    }
    const u = cmd.u32!;
    let prio = cmd.prio;
    let tp = prio === undefined ? undefined : pf.tps.find((t) => t.prio === prio);
    const proto = protoNum(cmd.protocol);
    if (tp && tp.protocol !== proto) {
      if (cmd.protocolGiven) throw new TcError(`protocol mismatch: filters with prio ${prio} already have protocol ${protocolName(tp.protocol)}`, cmd.tokens.protocol ?? cmd.anchor);
      ctx.warn(`filter without "protocol" joins prio ${prio}, which has protocol ${protocolName(tp.protocol)} (D4)`, cmd.tokens.prio ?? cmd.anchor);
    }
    const handle = cmd.handle ?? 0;
    if (tp) {
      // an existing knode or table named by handle?
      const existing = this.lookupHandle(pf, tp, handle);
      if (existing) {
        if (cmd.verb === 'add') throw new TcError(`filter ${formatU32Handle(handle)} already exists`, cmd.tokens.handle ?? cmd.anchor);
        if (existing instanceof U32Table) {
          if (u.divisor !== undefined && u.divisor !== existing.divisor) throw new TcError('the divisor of an existing hash table cannot change', u.tokens.divisor);
          return;
        }
        this.setParams(pf, existing, u, cmd);
        return;
      }
      if (cmd.verb === 'change') throw new TcError(`no filter ${formatU32Handle(handle)} at prio ${tp.prio} to change`, cmd.tokens.handle ?? cmd.anchor);
    } else {
      if (cmd.verb === 'change') throw new TcError('no such filter to change', cmd.tokens.prio ?? cmd.anchor);
      if (prio === undefined) prio = pf.tps.length ? pf.tps[0].prio - 1 : 0xc000;
      const root = pf.common.newHtid();
      pf.common.add(new U32Table(root, 1, prio, true));
      tp = { prio, protocol: proto, root };
      pf.tps.push(tp);
      pf.tps.sort((a, b) => a.prio - b.prio);
    }
    if (u.empty) {
      if (cmd.handle) throw new TcError('a filter handle needs options', cmd.tokens.handle);
      return;
    }
    try {
      this.create(pf, tp, u, cmd);
    } catch (e) {
      // the kernel keeps an instance it just created only if the filter was created
      const t = tp;
      if (!this.hasNodes(pf, t) && pf.common.tables.filter((x) => x.prio === t.prio).length === 1 && !cmd.tokens.prio) {
        pf.tps = pf.tps.filter((x) => x !== t);
        pf.common.tables = pf.common.tables.filter((x) => x.handle !== t.root);
      }
      throw e;
    }
  }

  /** removes an instance: its root table, and the other tables of its prio unless another instance still has that prio */
  private dropTp(pf: ParentFilters, tp: Tp): void {
    pf.tps = pf.tps.filter((t) => t !== tp);
    const c = pf.common;
    const samePrioElsewhere = [...this.parentsMap.values()].some((p) => p.common === c && p.tps.some((t) => t.prio === tp.prio));
    c.tables = c.tables.filter((t) => t.handle !== tp.root && (samePrioElsewhere || t.prio !== tp.prio));
  }

  private hasNodes(pf: ParentFilters, tp: Tp): boolean {
    return pf.common.tables.some((t) => t.prio === tp.prio && t.buckets.some((b) => b.length > 0));
  }

  private lookupHandle(pf: ParentFilters, tp: Tp, handle: number): U32Table | U32Knode | undefined {
    if (!handle) return undefined;
    const ht = u32Htid(handle) === TC_U32_ROOT ? pf.common.lookup(tp.root) : pf.common.lookup(handle);
    if (!ht) return undefined;
    if (u32Key(handle) === 0) return ht;
    return ht.find(((ht.handle | (handle & 0xfffff)) >>> 0));
  }

  private create(pf: ParentFilters, tp: Tp, u: U32Options, cmd: FilterCommand): void {
    const handle = cmd.handle ?? 0;
    if (u.divisor !== undefined) {
      if (u32Key(handle)) throw new TcError('"divisor" can only be used on a hash table handle (e.g. handle 2:)', cmd.tokens.handle ?? u.tokens.divisor);
      const htid = handle ? u32Htid(handle) : pf.common.newHtid();
      if (pf.common.lookup(htid)) throw new TcError(`hash table ${formatU32Handle(htid)} already exists`, cmd.tokens.handle ?? u.tokens.divisor);
      pf.common.add(new U32Table(htid, u.divisor, tp.prio, false));
      return;
    }
    let ht: U32Table | undefined;
    let bucketHtid: number;
    if (u.ht !== undefined) {
      ht = u32Htid(u.ht) === TC_U32_ROOT ? pf.common.lookup(tp.root) : pf.common.lookup(u.ht);
      if (!ht) throw new TcError(`hash table ${formatU32Handle(u32Htid(u.ht))} not found`, u.tokens.ht);
      bucketHtid = (ht.handle | (u.ht & 0xff000)) >>> 0;
    } else {
      ht = pf.common.lookup(tp.root)!;
      bucketHtid = ht.handle;
    }
    const bucket = u32Hash(bucketHtid);
    if (bucket > ht.divisor - 1) throw new TcError(`bucket ${bucket.toString(16)} is beyond the divisor ${ht.divisor} of table ${formatU32Handle(ht.handle)}`, u.tokens.ht);
    let node: number;
    if (handle) {
      if (u32Htid(handle) && u32Htid(handle ^ bucketHtid)) throw new TcError(`handle ${formatU32Handle(handle)} does not belong to table ${formatU32Handle(bucketHtid)}`, cmd.tokens.handle);
      node = u32Node(handle);
      if (node === 0) node = ht.newNodeId(bucket);
    } else node = ht.newNodeId(bucket);
    if (node === 0) throw new TcError('no free node id in that bucket', cmd.anchor);
    const h = (bucketHtid | node) >>> 0;
    if (ht.find(h)) throw new TcError(`filter ${formatU32Handle(h)} already exists`, cmd.tokens.handle ?? cmd.anchor);
    const n = new U32Knode(h, u.sel);
    this.setParams(pf, n, u, cmd);
    ht.insert(bucket, n);
  }

  /** classid, link and actions (u32_set_parms); the selector of an existing knode is kept */
  private setParams(pf: ParentFilters, n: U32Knode, u: U32Options, cmd: FilterCommand): void {
    if (u.link !== undefined) {
      const t = pf.common.lookup(u.link);
      if (!t) throw new TcError(`link: hash table ${formatU32Handle(u.link)} not found`, u.tokens.link);
      if (t.isRoot) throw new TcError('link: not allowed to link to a root table', u.tokens.link);
      n.link = u.link;
    }
    if (u.classid !== undefined) {
      n.rawClassid = u.classid;
      n.classid = tcMajor(u.classid) === 0 && cmd.parent !== TC_H_ROOT ? tcHandle(tcMajor(cmd.parent), tcMinor(u.classid)) : u.classid;
      n.sel.flags |= TC_U32_TERMINAL;
    }
    if (u.actions.length) {
      n.actions = u.actions;
      n.sel.flags |= TC_U32_TERMINAL;
    }
  }

  private del(cmd: FilterCommand): void {
    const pf = this.parentsMap.get(cmd.parent);
    if (!pf) throw new TcError(`no filters at parent ${cmd.parent === TC_H_ROOT ? 'root' : formatHandle(cmd.parent)}`, cmd.tokens.parent ?? cmd.anchor);
    if (cmd.prio === undefined) {
      if (cmd.handle !== undefined) throw new TcError('deleting a filter by handle needs its prio', cmd.tokens.handle);
      for (const tp of pf.tps) this.dropTp(pf, tp);
      this.parentsMap.delete(cmd.parent);
      return;
    }
    const tp = pf.tps.find((t) => t.prio === cmd.prio);
    if (!tp) throw new TcError(`no filter with prio ${cmd.prio}`, cmd.tokens.prio);
    if (cmd.protocolGiven && tp.protocol !== protoNum(cmd.protocol)) throw new TcError(`protocol mismatch: prio ${cmd.prio} has protocol ${protocolName(tp.protocol)}`, cmd.tokens.protocol);
    if (cmd.handle === undefined) {
      this.dropTp(pf, tp);
      return;
    }
    const found = this.lookupHandle(pf, tp, cmd.handle);
    if (!found) throw new TcError(`no filter ${formatU32Handle(cmd.handle)}`, cmd.tokens.handle);
    if (found instanceof U32Table) {
      if (found.isRoot) throw new TcError('not allowed to delete a root table', cmd.tokens.handle);
      const linked = pf.common.tables.some((x) => x.buckets.some((b) => b.some((n) => n.link === found.handle)));
      if (linked) throw new TcError(`table ${formatU32Handle(found.handle)} is in use (a filter links to it)`, cmd.tokens.handle);
      pf.common.remove(found);
      return;
    }
    for (const t of pf.common.tables) for (let i = 0; i < t.buckets.length; i++) t.buckets[i] = t.buckets[i].filter((n) => n !== found);
  }

  /** The compiled chain of a parent (cached until the next apply); null when it has no filters. */
  chainFor(parent: number): TraceChain | null {
    if (this.chains.has(parent)) return this.chains.get(parent)!;
    const pf = this.parentsMap.get(parent);
    let chain: FilterChain | null = null;
    if (pf && pf.tps.length) {
      const major = tcMajor(parent);
      const program = new U32Program(pf.common, (c) => (tcMajor(c) === 0 && parent !== TC_H_ROOT ? tcHandle(major, tcMinor(c)) : c));
      const entries: ChainEntry[] = pf.tps.map((tp) => ({ prio: tp.prio, protocol: tp.protocol, program, root: program.indexOf(tp.root) }));
      chain = new FilterChain(this.arena, entries);
    }
    this.chains.set(parent, chain);
    return chain;
  }

  /** `tc filter show`: every parent when `parent` is undefined (each line names it), else one parent. */
  show(parent: number | undefined, opts: { stats: boolean; details: boolean; prio?: number; protocol?: number }): string {
    const out: string[] = [];
    const parents = parent === undefined ? this.parents() : [parent];
    for (const p of parents) {
      const pf = this.parentsMap.get(p);
      if (!pf) continue;
      for (const tp of pf.tps) {
        if (opts.prio !== undefined && tp.prio !== opts.prio) continue;
        if (opts.protocol !== undefined && tp.protocol !== opts.protocol) continue;
        let head = 'filter ';
        if (parent === undefined) head += `parent ${formatHandle(p)} `;
        if (opts.protocol === undefined) head += `protocol ${protocolName(tp.protocol)} `;
        if (opts.prio === undefined) head += `pref ${tp.prio} `;
        head += 'u32 chain 0 ';
        out.push(head);
        for (const t of pf.common.tables) {
          if (t.prio !== tp.prio) continue;
          out.push(`${head}fh ${formatU32Handle(t.handle)} ht divisor ${t.divisor} `);
          for (const b of t.buckets) for (const n of b) out.push(head + formatKnode(n, opts.stats));
        }
      }
    }
    return out.map((l) => l + '\n').join('');
  }

  json(parent?: number): unknown[] {
    const out: unknown[] = [];
    const parents = parent === undefined ? this.parents() : [parent];
    for (const p of parents) {
      const pf = this.parentsMap.get(p);
      if (!pf) continue;
      for (const tp of pf.tps) {
        const base = { parent: formatHandle(p), protocol: protocolName(tp.protocol), pref: tp.prio, kind: 'u32', chain: 0 };
        out.push({ ...base });
        for (const t of pf.common.tables) {
          if (t.prio !== tp.prio) continue;
          out.push({ ...base, options: { fh: formatU32Handle(t.handle), ht_divisor: t.divisor } });
          for (const b of t.buckets)
            for (const n of b) {
              const o: Record<string, unknown> = { fh: formatU32Handle(n.handle), order: u32Node(n.handle), key_ht: (n.handle >>> 20).toString(16), bkt: u32Hash(n.handle).toString(16) };
              if (n.rawClassid !== undefined) o.flowid = formatClassid(n.rawClassid);
              if (n.link) o.link = formatU32Handle(n.link);
              o.not_in_hw = true;
              o.match = n.sel.keys.map((k) => ({ value: hex8(k.val), mask: hex8(k.mask), offmask: k.offmask ? 'nexthdr+' : '', off: k.off }));
              if (n.actions.length) o.actions = n.actions.map((a) => (a.police ? { kind: 'police', rate: formatRate(a.police.rate), burst: formatSize(a.police.burst), overlimits: a.police.overlimits } : { kind: 'gact', control_action: actionName(a.verdict) }));
              out.push({ ...base, options: o });
            }
        }
      }
    }
    return out;
  }
}

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** sprint_tc_classid: `1:10`, `:20` for major 0 */
function formatClassid(c: number): string {
  const major = tcMajor(c);
  const minor = tcMinor(c);
  return `${major ? major.toString(16) : ''}:${minor.toString(16)}`;
}

function formatKnode(n: U32Knode, stats: boolean): string {
  let s = `fh ${formatU32Handle(n.handle)} order ${u32Node(n.handle)} key ht ${(n.handle >>> 20).toString(16)} bkt ${u32Hash(n.handle).toString(16)} `;
  // iproute2 6.1 prints '*' before flowid (it tests the selector before reading it)
  if (n.rawClassid !== undefined) s += `*flowid ${formatClassid(n.rawClassid)} `;
  if (n.link) s += `link ${formatU32Handle(n.link)} `;
  s += 'not_in_hw ';
  const sel = n.sel;
  for (const k of sel.keys) s += `\n  match ${hex8(k.val)}/${hex8(k.mask)} at ${k.offmask ? 'nexthdr+' : ''}${k.off}`;
  if (sel.flags & (TC_U32_VAROFFSET | TC_U32_OFFSET)) {
    s += '\n    offset ';
    if (sel.flags & TC_U32_VAROFFSET) s += `${(sel.offmask & 0xffff).toString(16).padStart(4, '0')}>>${sel.offshift} at ${sel.offoff} `;
    if (sel.off) s += `plus ${sel.off} `;
  }
  if (sel.flags & TC_U32_EAT) s += ' eat ';
  if (sel.hmask) s += `\n    hash mask ${hex8(sel.hmask)} at ${sel.hoff} `;
  let order = 1;
  for (const a of n.actions) {
    if (a.police) {
      const p = a.police;
      s += `\n\taction order ${order++}:  police 0x${(p.index || order - 1).toString(16)} rate ${formatRate(p.rate)} burst ${formatSize(p.burst)} mtu ${formatSize(p.mtu === 0xffffffff ? 0xffffffff : p.mtu)} `;
      if (p.peakrate) s += `peakrate ${formatRate(p.peakrate)} `;
      if (p.avrate) s += `avrate ${formatRate(p.avrate)} `;
      s += `action ${actionName(p.exceed)}`;
      s += p.conform !== 0 ? `/${actionName(p.conform)} ` : ' ';
      s += `overhead ${p.overhead}b `;
      s += '\n\tref 1 bind 1 ';
      if (stats) s += `\n\tSent ${p.bytes} bytes ${p.packets} pkt (dropped ${p.drops}, overlimits ${p.overlimits} requeues 0) \n\tbacklog 0b 0p requeues 0 `;
    } else {
      s += `\n\taction order ${order++}: gact action ${actionName(a.verdict)}\n\t random type none pass val 0\n\t index ${order - 1} ref 1 bind 1 `;
      if (stats) s += `\n\tSent ${a.bytes} bytes ${a.packets} pkt (dropped ${a.verdict === 2 ? a.packets : 0}, overlimits 0 requeues 0) \n\tbacklog 0b 0p requeues 0 `;
    }
  }
  void TC_ACT_PIPE;
  return s;
}
