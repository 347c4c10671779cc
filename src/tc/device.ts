/**
 * The device model: what one tunqos device (a `dev` name in tc commands) holds.
 *
 * A device has two sides, each a tree of qdiscs fed by its own TUN link:
 *  - egress: the root tree (`tc qdisc add dev X root ...`). With nothing configured, the default root
 *    is pfifo_fast (pfifo when pfifo_fast is not registered), handle 0, as Linux gives a TUN device.
 *  - ingress: the download direction. Empty, packets pass through a hidden FIFO. `tc qdisc add dev X
 *    ingress` installs the ingress qdisc (ffff:) whose filters police; tunqos also lets a tree be grafted
 *    under it (`parent ffff:`), see src/qdisc/ingress.ts.
 * The forwarder keeps a reference to a side and reads `side.root` on every batch; the side objects
 * never change identity, only their `root` field does.
 *
 * Handles are unique per device, across both sides (as in Linux, where qdisc_lookup searches both).
 * The filters of the device live in one FilterSet (src/tc/filter-set.ts) keyed by parent handle; after
 * every change the model attaches each parent's chain to the qdisc or class it names.
 * The order of `tc qdisc show` is the kernel's: the root, then the other qdiscs in the order of the
 * device's 16-bucket qdisc hash (hash_32(handle, 4), newest first within a bucket); see show.ts. So
 * the model records when each qdisc was grafted. The order of `tc class show` is the walk of each
 * qdisc's class hash, which depends on every class add and delete in turn: the model keeps one
 * ClassHash per qdisc that has had classes added (tc/class-order.ts), fed by the apply replay.
 */
import type { Arena } from '../packet/arena';
import { type ClassfulQdisc, type Qdisc, type QdiscClass, type QdiscEnv, type QdiscTree, TC_H_INGRESS, TC_H_ROOT, isClassful } from '../qdisc/qdisc';
import { ClassHash } from './class-order';
import { FilterSet } from './filter-set';
import { type QdiscKind, findKind } from './kinds';
import { IngressQdisc } from '../qdisc/ingress';
import { Args } from './tokens';


export interface QdiscEntry {
  readonly q: Qdisc;
  readonly side: 'egress' | 'ingress';
  /** where it hangs: TC_H_ROOT, TC_H_INGRESS, the ingress handle (ffff:) or a classid */
  readonly parent: number;
}

/** hash_32(val, bits) of include/linux/hash.h: the bucket of a qdisc in the device's qdisc hash */
export function qdiscHashBucket(handle: number): number {
  return Math.imul(handle, 0x61c88647) >>> 28;
}

export class DeviceModel {
  readonly egress: QdiscTree;
  readonly ingress: QdiscTree;
  filters: FilterSet;
  /** the kind that created each qdisc (CBQ's qdisc may run on the HTB engine, so q.kind is not enough) */
  private readonly kinds = new WeakMap<Qdisc, QdiscKind>();
  /** when each qdisc was grafted (newer first within a hash bucket, as hlist_add_head does) */
  private readonly grafted = new WeakMap<Qdisc, number>();
  private graftCount = 0;
  /** the class hash of each qdisc whose classes came through classAdded (`tc class show` order) */
  private readonly classHashes = new WeakMap<Qdisc, ClassHash>();

  constructor(
    readonly name: string,
    readonly env: QdiscEnv,
  ) {
    this.egress = { root: this.defaultRoot() };
    this.ingress = { root: this.defaultIngress() };
    this.filters = new FilterSet(env.arena);
  }

  get arena(): Arena {
    return this.env.arena;
  }

  /** pfifo_fast (or pfifo when that kind is absent), handle 0: what an unconfigured device runs */
  defaultRoot(): Qdisc {
    const k = findKind('pfifo_fast') ?? findKind('pfifo')!;
    const q = k.create(0, k.parseQdisc(emptyArgs(), { env: this.env, warn: () => {} }), this.env);
    q.parent = TC_H_ROOT;
    this.kinds.set(q, k);
    return q;
  }

  /** the hidden pass-through FIFO of an ingress side without an ingress qdisc */
  defaultIngress(): Qdisc {
    const q = IngressQdisc.passThrough(this.env, TC_H_INGRESS);
    this.kinds.set(q, findKind('pfifo')!);
    return q;
  }

  /** the ingress qdisc, when one is configured */
  get ingressQdisc(): IngressQdisc | null {
    return this.ingress.root instanceof IngressQdisc ? this.ingress.root : null;
  }

  kindOf(q: Qdisc): QdiscKind {
    const k = this.kinds.get(q) ?? findKind(q.kind);
    if (!k) throw new Error(`tunqos bug: qdisc ${q.kind} has no registered kind`);
    return k;
  }

  /** records a qdisc that just went live (kind for later changes, graft order for `show`) */
  adopt(q: Qdisc, kind: QdiscKind): void {
    this.kinds.set(q, kind);
    this.grafted.set(q, ++this.graftCount);
  }

  graftOrder(q: Qdisc): number {
    return this.grafted.get(q) ?? 0;
  }

  /** records a class just added to `q` (its place in `tc class show`) */
  classAdded(q: ClassfulQdisc, classid: number): void {
    let hash = this.classHashes.get(q);
    if (!hash) {
      hash = new ClassHash();
      this.classHashes.set(q, hash);
    }
    hash.insert(classid);
  }

  /** records a class just deleted from `q` */
  classRemoved(q: ClassfulQdisc, classid: number): void {
    this.classHashes.get(q)?.remove(classid);
  }

  /**
   * The classes of `q` in `tc class show` order: the walk of its class hash; a qdisc whose classes
   * come with it (prio's bands, tbf's one class) lists them as it holds them.
   */
  classesOf(q: ClassfulQdisc): QdiscClass[] {
    const hash = this.classHashes.get(q);
    if (!hash) return q.classes();
    const out: QdiscClass[] = [];
    for (const id of hash.walk()) {
      const cls = q.getClass(id);
      if (cls) out.push(cls);
    }
    return out;
  }

  /** every qdisc of the device (tree order, both sides), default leaves included */
  allQdiscs(): QdiscEntry[] {
    const out: QdiscEntry[] = [];
    const visit = (q: Qdisc, side: 'egress' | 'ingress', parent: number): void => {
      out.push({ q, side, parent });
      if (q instanceof IngressQdisc) {
        visit(q.child, side, q.handle);
      } else if (isClassful(q)) {
        for (const cls of this.classesOf(q)) if (cls.leaf) visit(cls.leaf, side, cls.classid);
      }
    };
    visit(this.egress.root, 'egress', TC_H_ROOT);
    visit(this.ingress.root, 'ingress', TC_H_INGRESS);
    return out;
  }

  /** the qdisc with this handle (major:0), if any */
  findQdisc(handle: number): QdiscEntry | undefined {
    if (handle === 0) return undefined;
    return this.allQdiscs().find((e) => e.q.handle === handle);
  }

  /** the class `classid` and the qdisc holding it */
  findClass(classid: number): { q: ClassfulQdisc; cls: QdiscClass; side: 'egress' | 'ingress' } | undefined {
    const major = (classid & 0xffff0000) >>> 0;
    const e = this.findQdisc(major);
    if (!e || !isClassful(e.q)) return undefined;
    const cls = e.q.getClass(classid);
    return cls ? { q: e.q, cls, side: e.side } : undefined;
  }

  /** attaches each parent's filter chain to the qdisc or class it names (and clears the others) */
  attachFilters(): void {
    for (const { q } of this.allQdiscs()) {
      q.filters = q.handle !== 0 ? this.filters.chainFor(q.handle) : null;
      if (isClassful(q)) for (const cls of q.classes()) cls.filters = this.filters.chainFor(cls.classid);
    }
  }
}

function emptyArgs(): Args {
  return new Args([]);
}
