/**
 * FilterSet: the u32 filters of one device, keyed by the parent (qdisc or class) they hang at, as the
 * kernel's cls_api.c and cls_u32.c keep them. Commands come parsed (filter-command.ts); `tc filter
 * show` is filter-show.ts; the packet path runs the FilterChain that chainFor compiles.
 *
 * Semantics follow the kernel (net/sched/cls_api.c, cls_u32.c):
 *  - one u32 instance per (parent, prio), with a protocol; its root table gets the next htid (800:
 *    for the first instance on a parent, then 801:, 802: ... cyclically); `divisor` makes a table
 *    (`handle 2:` names it); `ht X:Y:` places a knode in bucket Y; `link` must name a non-root table;
 *  - knode ids: the lowest free id from 0x800 in the bucket, or `order N` / `handle X:Y:N`;
 *  - `add` of an existing handle fails; `replace`/`change` of an existing knode keep its selector and
 *    update classid, link and actions (what the kernel does); `change` never creates;
 *  - `del` with a handle removes one knode (or a non-root table not linked to), with a prio the whole
 *    instance, with neither every filter of the parent (deleteParent, also what a deleted qdisc or
 *    class does to the filters attached to it).
 * Leniencies (ARCHITECTURE.md D4, each with a warning): a filter without `protocol` joins an existing prio
 * with that prio's protocol instead of failing as the kernel does; `flowid :N` is minor N of the
 * parent's major (resolveClassid).
 * Differences: tables are per parent (the kernel shares them across a qdisc's classes); a failed
 * command consumes no htid.
 */
import type { Arena } from '../packet/arena';
import { FilterChain, protocolName, type ChainEntry } from '../classify/chain';
import { formatU32Handle, TC_U32_ROOT, TC_U32_TERMINAL, U32Common, U32Knode, U32Program, U32Table, u32Hash, u32Htid, u32Key, u32Node } from '../classify/u32';
import { TC_H_ROOT, tcHandle, tcMajor, tcMinor, formatHandle } from '../qdisc/qdisc';
import { type FilterCommand, type U32Options, protoNum } from './filter-command';
import type { ParseContext } from './kinds';
import { TcError } from './tokens';

/**
 * The class a filter's classid/flowid names: as written, or, for `flowid :N` (major 0) at a parent
 * other than root, minor N of the parent's major (D4).
 */
export function resolveClassid(raw: number, parent: number): number {
  return tcMajor(raw) === 0 && parent !== TC_H_ROOT ? tcHandle(tcMajor(parent), tcMinor(raw)) : raw;
}

/** One u32 instance at a parent, with the tables of its prio (its root table among them), for show. */
export interface FilterInstance {
  readonly prio: number;
  readonly protocol: number;
  readonly tables: readonly U32Table[];
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
        for (const t of this.tablesOf(pf, tp)) {
          for (const b of t.buckets) {
            for (const n of b) {
              if (n.rawClassid !== undefined && resolveClassid(n.rawClassid, parent) === classid) {
                return `parent ${formatHandle(parent)} pref ${tp.prio} fh ${formatU32Handle(n.handle)}`;
              }
            }
          }
        }
      }
    }
    return undefined;
  }

  /** the parents that have filters, in handle order */
  parents(): number[] {
    return [...this.parentsMap.entries()].filter(([, p]) => p.tps.length > 0).map(([k]) => k).sort((a, b) => a - b);
  }

  /** the u32 instances at `parent` in prio order, each with the tables of its prio (none: []) */
  instances(parent: number): FilterInstance[] {
    const pf = this.parentsMap.get(parent);
    if (!pf) return [];
    return pf.tps.map((tp) => ({ prio: tp.prio, protocol: tp.protocol, tables: this.tablesOf(pf, tp) }));
  }

  private tablesOf(pf: ParentFilters, tp: Tp): U32Table[] {
    return pf.common.tables.filter((t) => t.prio === tp.prio);
  }

  /** `tc filter add|replace|change|del`: applies one command (throws TcError and changes nothing on error) */

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
      if (!this.hasNodes(pf, t) && this.tablesOf(pf, t).length === 1 && !cmd.tokens.prio) {
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
      n.classid = resolveClassid(u.classid, cmd.parent);
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
      this.deleteParent(cmd.parent);
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

  /**
   * Every filter at `parent` goes (`tc filter del dev X parent P`, and what deleting the qdisc or class
   * there does to them). Returns whether there were any.
   */
  deleteParent(parent: number): boolean {
    const pf = this.parentsMap.get(parent);
    if (!pf) return false;
    this.chains.clear();
    const had = pf.tps.length > 0;
    for (const tp of pf.tps) this.dropTp(pf, tp);
    this.parentsMap.delete(parent);
    return had;
  }

  /** The compiled chain of a parent (cached until the next apply); null when it has no filters. */
  chainFor(parent: number): FilterChain | null {
    if (this.chains.has(parent)) return this.chains.get(parent)!;
    const pf = this.parentsMap.get(parent);
    let chain: FilterChain | null = null;
    if (pf && pf.tps.length) {
      const program = new U32Program(pf.common, (c) => resolveClassid(c, parent));
      const entries: ChainEntry[] = pf.tps.map((tp) => ({ prio: tp.prio, protocol: tp.protocol, program, root: program.indexOf(tp.root) }));
      chain = new FilterChain(this.arena, entries);
    }
    this.chains.set(parent, chain);
    return chain;
  }
}
