/**
 * The u32 classifier, as Linux runs it (net/sched/cls_u32.c: u32_classify).
 *
 * A u32 instance is a set of hash tables. A table has `divisor` buckets (a power of two, 1..256);
 * each bucket is a list of knodes sorted by node id. A knode holds a selector: keys
 * {val, mask, off, offmask}, each comparing one big-endian 32-bit word of the packet
 * ((word ^ val) & mask must be 0; all keys must match). A knode either ends classification
 * (it has a classid: the "terminal" flag; its actions run and may say "continue", then the next
 * knode is tried) or links to another table: the bucket is chosen by hashing one word
 * (bucket = (word & hmask) >> ctz(hmask), masked by divisor−1 — a shift, no XOR-fold), and the
 * lookup continues there; when nothing matches below, the lookup comes back (a stack, depth ≤ 8)
 * and the linking knode itself may still be terminal. A link may also set `off2`, the offset that
 * `nexthdr+N` keys add (`offset at A mask M shift S plus P`: off2 = P + ((be16 at A) & M) >> S,
 * rounded down to a multiple of 4), and with `eat` move the base offset forward by off2.
 * Handles are htid(12 bits):bucket(8):node(12), printed in hex as `800::800`.
 *
 * Differences from Linux (ARCHITECTURE.md D3): `off2` starts at the transport header of the packet (IHL×4
 * for IPv4, 40 for IPv6: u32 does not walk IPv6 extension headers, as Linux's doesn't) instead of 0, so `nexthdr+N` keys mean "N bytes into the TCP/UDP header" as
 * the seeds describe them; on a non-first fragment (no transport header) such keys do not match.
 * A link's explicit `offset` replaces that value exactly as in the kernel. As in Linux, a key that
 * reads past the packet ends the lookup of this u32 instance with no match.
 *
 * Speed: the configuration (U32Table/U32Knode objects) is compiled into flat typed arrays
 * (U32Program) so the per-packet loop reads integers only and allocates nothing.
 */
import type { Nanos } from '../time/clock';
import { type FilterAction, runActions, TC_ACT_UNSPEC } from './action';

export const TC_U32_TERMINAL = 1;
export const TC_U32_OFFSET = 2;
export const TC_U32_VAROFFSET = 4;
export const TC_U32_EAT = 8;
export const TC_U32_MAXDEPTH = 8;
export const TC_U32_ROOT = 0xfff00000;

export const u32Htid = (h: number): number => (h & 0xfff00000) >>> 0;
export const u32Hash = (h: number): number => (h >>> 12) & 0xff;
export const u32Node = (h: number): number => h & 0xfff;
export const u32Key = (h: number): number => h & 0xfffff;
export const u32Handle = (htid: number, hash: number, node: number): number => (((htid & 0xfff) << 20) | ((hash & 0xff) << 12) | (node & 0xfff)) >>> 0;

/** `800::800`, `2:7b:`, `800:` as tc prints u32 handles */
export function formatU32Handle(h: number): string {
  const htid = (h >>> 20) & 0xfff;
  const hash = u32Hash(h);
  const node = u32Node(h);
  if (node === 0 && hash === 0) return `${htid.toString(16)}:`;
  return `${htid.toString(16)}:${hash ? hash.toString(16) : ''}:${node ? node.toString(16) : ''}`;
}

export interface U32Key {
  val: number; // uint32, host order of the big-endian word
  mask: number;
  off: number; // bytes, multiple of 4
  offmask: number; // 0, or -1 for `nexthdr+`
}

export interface U32Sel {
  keys: U32Key[];
  flags: number;
  hoff: number; // hashkey `at`
  hmask: number; // hashkey `mask` (uint32)
  off: number; // offset `plus`
  offoff: number; // offset `at`
  offmask: number; // offset `mask` (16 bits)
  offshift: number; // offset `shift`
}

export function emptySel(): U32Sel {
  return { keys: [], flags: 0, hoff: 0, hmask: 0, off: 0, offoff: 0, offmask: 0, offshift: 0 };
}

export class U32Knode {
  handle: number;
  sel: U32Sel;
  /** classid, or undefined (a link-only node) */
  classid: number | undefined;
  /** classid as given (`:20` stays major 0 for show); classid holds the resolved one */
  rawClassid: number | undefined;
  /** htid of the linked table, 0 for none */
  link: number;
  actions: FilterAction[];
  constructor(handle: number, sel: U32Sel) {
    this.handle = handle;
    this.sel = sel;
    this.classid = undefined;
    this.rawClassid = undefined;
    this.link = 0;
    this.actions = [];
  }
  clone(): U32Knode {
    const n = new U32Knode(this.handle, { ...this.sel, keys: this.sel.keys.map((k) => ({ ...k })) });
    n.classid = this.classid;
    n.rawClassid = this.rawClassid;
    n.link = this.link;
    n.actions = this.actions.map((a) => a.clone());
    return n;
  }
}

export class U32Table {
  readonly handle: number; // htid << 20 form (e.g. 0x80000000)
  readonly divisor: number; // buckets (1..256)
  readonly prio: number;
  readonly isRoot: boolean;
  readonly buckets: U32Knode[][];
  constructor(handle: number, divisor: number, prio: number, isRoot: boolean) {
    this.handle = handle;
    this.divisor = divisor;
    this.prio = prio;
    this.isRoot = isRoot;
    this.buckets = [];
    for (let i = 0; i < divisor; i++) this.buckets.push([]);
  }
  /** inserts keeping the bucket sorted by node id (u32_change) */
  insert(bucket: number, n: U32Knode): void {
    const list = this.buckets[bucket];
    let i = 0;
    while (i < list.length && u32Node(list[i].handle) < u32Node(n.handle)) i++;
    list.splice(i, 0, n);
  }
  find(handle: number): U32Knode | undefined {
    const list = this.buckets[u32Hash(handle)];
    return list ? list.find((n) => n.handle === handle) : undefined;
  }
  /** gen_new_kid: the lowest free node id from 0x800 in that bucket */
  newNodeId(bucket: number): number {
    const used = new Set(this.buckets[bucket].map((n) => u32Node(n.handle)));
    for (let id = 0x800; id <= 0xfff; id++) if (!used.has(id)) return id;
    return 0;
  }
  clone(): U32Table {
    const t = new U32Table(this.handle, this.divisor, this.prio, this.isRoot);
    for (let i = 0; i < this.divisor; i++) t.buckets[i] = this.buckets[i].map((n) => n.clone());
    return t;
  }
}

/**
 * What one parent's u32 instances share (the kernel's tc_u_common, one per qdisc): the tables,
 * newest first (that is the order `tc filter show` lists them in), and the cyclic htid generator.
 */
export class U32Common {
  tables: U32Table[] = [];
  private hgen = 0;
  lookup(htid: number): U32Table | undefined {
    const h = u32Htid(htid);
    return this.tables.find((t) => t.handle === h);
  }
  /** gen_new_htid: 800: for the very first, then 801:, 802: ... cyclically, skipping used ones */
  newHtid(): number {
    if (this.tables.length === 0) {
      this.hgen = 0;
      return 0x80000000;
    }
    for (let tries = 0; tries < 0x800; tries++) {
      const id = (this.hgen % 0x7fe) + 1;
      this.hgen = id;
      const h = ((0x800 | id) << 20) >>> 0;
      if (!this.lookup(h)) return h;
    }
    throw new Error('u32: no free hash table id');
  }
  add(t: U32Table): void {
    this.tables.unshift(t);
  }
  remove(t: U32Table): void {
    this.tables = this.tables.filter((x) => x !== t);
  }
  clone(): U32Common {
    const c = new U32Common();
    c.tables = this.tables.map((t) => t.clone());
    c.hgen = this.hgen;
    return c;
  }
}

/** nDown of a knode that links to no table */
const NO_TABLE = -1;

/**
 * The compiled form of a U32Common: every table, bucket, knode and key in typed arrays.
 * `classify(rootIndex, ...)` is u32_classify; it returns a TC_ACT_* verdict (TC_ACT_UNSPEC = no match)
 * and leaves the matched classid in `resClassid`.
 */
export class U32Program {
  readonly tableIndex: Map<number, number>;
  // tables
  readonly tDivMask: Int32Array;
  readonly tBucketBase: Int32Array;
  readonly bucketHead: Int32Array;
  // knodes
  readonly nNext: Int32Array;
  readonly nKeyStart: Int32Array;
  readonly nKeyEnd: Int32Array;
  readonly nDown: Int32Array;
  readonly nFlags: Int32Array;
  readonly nHoff: Int32Array;
  readonly nHmask: Int32Array;
  readonly nFshift: Int32Array;
  readonly nOff: Int32Array;
  readonly nOffoff: Int32Array;
  readonly nOffmask: Int32Array;
  readonly nOffshift: Int32Array;
  readonly nClassid: Uint32Array;
  readonly nActStart: Int32Array;
  readonly nActEnd: Int32Array;
  readonly nodes: U32Knode[];
  // keys
  readonly kVal: Int32Array;
  readonly kMask: Int32Array;
  readonly kOff: Int32Array;
  readonly kOffmask: Int32Array;
  readonly actions: FilterAction[];
  // per-lookup scratch
  private readonly stackNode = new Int32Array(TC_U32_MAXDEPTH);
  private readonly stackOff = new Int32Array(TC_U32_MAXDEPTH);
  resClassid = 0;
  /** handle of the knode that decided (for traces) */
  resNode = -1;
  /** knodes whose keys were evaluated in the last lookup (for traces; counted, not listed) */
  visited = 0;

  constructor(common: U32Common, resolveClassid: (raw: number) => number = (c) => c) {
    const tables = common.tables;
    this.tableIndex = new Map();
    tables.forEach((t, i) => this.tableIndex.set(t.handle, i));
    let nb = 0;
    let nn = 0;
    let nk = 0;
    for (const t of tables) {
      nb += t.divisor;
      for (const b of t.buckets) {
        nn += b.length;
        for (const n of b) nk += n.sel.keys.length;
      }
    }
    this.tDivMask = new Int32Array(tables.length);
    this.tBucketBase = new Int32Array(tables.length);
    this.bucketHead = new Int32Array(nb).fill(-1);
    this.nNext = new Int32Array(nn);
    this.nKeyStart = new Int32Array(nn);
    this.nKeyEnd = new Int32Array(nn);
    this.nDown = new Int32Array(nn);
    this.nFlags = new Int32Array(nn);
    this.nHoff = new Int32Array(nn);
    this.nHmask = new Int32Array(nn);
    this.nFshift = new Int32Array(nn);
    this.nOff = new Int32Array(nn);
    this.nOffoff = new Int32Array(nn);
    this.nOffmask = new Int32Array(nn);
    this.nOffshift = new Int32Array(nn);
    this.nClassid = new Uint32Array(nn);
    this.nActStart = new Int32Array(nn);
    this.nActEnd = new Int32Array(nn);
    this.kVal = new Int32Array(nk);
    this.kMask = new Int32Array(nk);
    this.kOff = new Int32Array(nk);
    this.kOffmask = new Int32Array(nk);
    this.nodes = [];
    this.actions = [];
    let bi = 0;
    let ni = 0;
    let ki = 0;
    tables.forEach((t, ti) => {
      this.tDivMask[ti] = t.divisor - 1;
      this.tBucketBase[ti] = bi;
      for (let b = 0; b < t.divisor; b++, bi++) {
        let prev = -1;
        for (const n of t.buckets[b]) {
          if (prev < 0) this.bucketHead[bi] = ni;
          else this.nNext[prev] = ni;
          this.nNext[ni] = -1;
          this.nodes.push(n);
          const s = n.sel;
          this.nKeyStart[ni] = ki;
          for (const k of s.keys) {
            this.kVal[ki] = k.val | 0;
            this.kMask[ki] = k.mask | 0;
            this.kOff[ki] = k.off;
            this.kOffmask[ki] = k.offmask | 0;
            ki++;
          }
          this.nKeyEnd[ni] = ki;
          const down = n.link ? this.tableIndex.get(u32Htid(n.link)) : undefined;
          this.nDown[ni] = down === undefined ? NO_TABLE : down;
          this.nFlags[ni] = s.flags;
          this.nHoff[ni] = s.hoff;
          this.nHmask[ni] = s.hmask | 0;
          this.nFshift[ni] = s.hmask ? 31 - Math.clz32(s.hmask & -s.hmask) : 0;
          this.nOff[ni] = s.off;
          this.nOffoff[ni] = s.offoff;
          this.nOffmask[ni] = s.offmask & 0xffff;
          this.nOffshift[ni] = s.offshift;
          this.nClassid[ni] = n.classid === undefined ? 0 : resolveClassid(n.classid) >>> 0;
          this.nActStart[ni] = this.actions.length;
          for (const a of n.actions) this.actions.push(a);
          this.nActEnd[ni] = this.actions.length;
          prev = ni;
          ni++;
        }
      }
    });
  }

  /** index of the table with htid `h` (for a tp's root), -1 if absent */
  indexOf(h: number): number {
    const i = this.tableIndex.get(u32Htid(h));
    return i === undefined ? -1 : i;
  }

  /**
   * u32_classify over the packet bytes[base, base+len). `root` is a table index.
   * `nexthdr` is where `nexthdr+` keys start (D3: the transport header, from the arena's l4off), and
   * `transport` says whether a transport header is there (false for a non-first fragment: such keys
   * do not match, though an `eat` still moves by `nexthdr`). The filter chain works both out once per
   * packet (FilterChain.classify), so no instance re-reads the IP header.
   * Returns a TC_ACT_* verdict; TC_ACT_UNSPEC (-1) means no match.
   */
  classify(root: number, b: Uint8Array, base: number, len: number, nexthdr: number, transport: boolean, now: Nanos): number {
    let ht = root;
    let off = 0;
    let off2 = nexthdr;
    let noTransport = !transport;
    let sdepth = 0;
    let visited = 0;
    let verdict = TC_ACT_UNSPEC;
    const kVal = this.kVal;
    const kMask = this.kMask;
    const kOff = this.kOff;
    const kOffmask = this.kOffmask;
    const nNext = this.nNext;
    const nFlags = this.nFlags;
    this.resNode = -1;
    let n = this.bucketHead[this.tBucketBase[ht]];
    lookup: for (;;) {
      // 1. the next knode of this bucket list whose keys all match; a link descends into its table
      nextKnode: while (n >= 0) {
        visited++;
        const ke = this.nKeyEnd[n];
        for (let k = this.nKeyStart[n]; k < ke; k++) {
          const om = kOffmask[k];
          if (om !== 0 && noTransport) {
            n = nNext[n];
            continue nextKnode;
          }
          const toff = off + kOff[k] + (off2 & om);
          if (toff < 0 || toff + 4 > len) break lookup; // a key past the packet ends this instance
          const p = base + toff;
          const data = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
          if (((data ^ kVal[k]) & kMask[k]) !== 0) {
            n = nNext[n];
            continue nextKnode;
          }
        }
        const down = this.nDown[n];
        if (down < 0) break; // a leaf knode matched
        // push and descend into the linked table
        if (sdepth >= TC_U32_MAXDEPTH) break lookup; // "cls_u32: dead loop"
        this.stackNode[sdepth] = n;
        this.stackOff[sdepth] = off;
        sdepth++;
        ht = down;
        let sel = 0;
        const divMask = this.tDivMask[ht];
        const flags = nFlags[n];
        if (divMask !== 0) {
          const hp = off + this.nHoff[n];
          if (hp < 0 || hp + 4 > len) break lookup;
          const q = base + hp;
          const w = (b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3];
          sel = divMask & ((w & this.nHmask[n]) >>> this.nFshift[n]);
        }
        if ((flags & (TC_U32_OFFSET | TC_U32_VAROFFSET | TC_U32_EAT)) !== 0) {
          if ((flags & (TC_U32_OFFSET | TC_U32_VAROFFSET)) !== 0) {
            off2 = this.nOff[n] + 3;
            noTransport = false;
            if ((flags & TC_U32_VAROFFSET) !== 0) {
              const vp = off + this.nOffoff[n];
              if (vp < 0 || vp + 2 > len) break lookup;
              const h16 = (b[base + vp] << 8) | b[base + vp + 1];
              off2 += (h16 & this.nOffmask[n]) >> this.nOffshift[n];
            }
            off2 &= ~3;
          }
          if ((flags & TC_U32_EAT) !== 0) {
            off += off2;
            off2 = 0;
          }
          if (off >= len) {
            n = -1; // nothing left to read below: come straight back to the linking knode
            break;
          }
        }
        n = this.bucketHead[this.tBucketBase[ht] + sel];
      }
      // 2. this list is exhausted: pop back to the linking knode, which may itself be terminal
      if (n < 0) {
        if (sdepth === 0) break;
        sdepth--;
        n = this.stackNode[sdepth];
        off = this.stackOff[sdepth];
      }
      // 3. n matched (a leaf, or a link whose table gave nothing): a terminal knode decides unless
      //    its actions say "continue"; otherwise the lookup goes on with the next knode
      if ((nFlags[n] & TC_U32_TERMINAL) !== 0) {
        verdict = this.terminal(n, len, now);
        if (verdict !== TC_ACT_UNSPEC) break;
      }
      n = nNext[n];
    }
    this.visited = visited;
    return verdict;
  }

  private terminal(n: number, len: number, now: Nanos): number {
    this.resClassid = this.nClassid[n];
    this.resNode = n;
    const s = this.nActStart[n];
    const e = this.nActEnd[n];
    if (s === e) return 0; // TC_ACT_OK
    return runActions(this.actions, s, e, len, now);
  }
}
