/**
 * The running qdisc trees as the control plane sees them: a provider lists every shaped side of every
 * device (its device name, its direction, its QdiscTree and the forwarder's sojourn table);
 * `walkTree` visits every qdisc and class of one tree through the Qdisc contract only (isClassful,
 * classes(), leaf), classes in the order `tc class show` lists them when the side carries the device
 * model's `classesOf` (the kernel's class-hash walk, tc/class-order.ts), else in the qdisc's own order.
 *
 * Everything here runs at scrape/snapshot time (about once a second at most), never per packet, so it
 * may allocate freely.
 */
import { type ClassfulQdisc, type Direction, type Qdisc, type QdiscClass, type QdiscTree, TC_H_INGRESS, TC_H_ROOT, isClassful, formatHandle } from '../qdisc/qdisc';
import type { SojournTable } from './sojourn';

export type { Direction };

/**
 * One shaped side of one device: device `dev`'s egress or ingress tree, as a forwarder runs it. The
 * tree is the tc layer's holder (tc/device.ts), so `tree.root` is read afresh at each use and a
 * `tc qdisc replace` is seen at the next scrape.
 */
export interface ShapedSide {
  dev: string;
  direction: Direction;
  tree: QdiscTree;
  /** sojourn times the forwarder records per dequeued packet, by class (optional) */
  sojourn?: SojournTable;
  /**
   * A classful qdisc's classes in the order `tc class show` lists them (the device model's
   * classesOf: the kernel's class-hash walk). Without it, the qdisc's own order (HTB: as added).
   */
  classesOf?: (q: ClassfulQdisc) => QdiscClass[];
}

/** Called at scrape/snapshot time; returns every shaped side. */
export type SideProvider = () => Iterable<ShapedSide>;

export interface TreeVisitor {
  qdisc(q: Qdisc): void;
  cls(c: QdiscClass, owner: ClassfulQdisc): void;
}

/**
 * Depth-first: a qdisc, then each of its classes followed by that class's leaf subtree. A qdisc seen
 * twice (a bug elsewhere) is visited once, so a broken graft cannot hang a scrape.
 */
export function walkTree(root: Qdisc, visit: TreeVisitor, classesOf: (q: ClassfulQdisc) => QdiscClass[] = ownOrder): void {
  const seen = new Set<Qdisc>();
  const go = (q: Qdisc): void => {
    if (seen.has(q)) return;
    seen.add(q);
    visit.qdisc(q);
    if (!isClassful(q)) return;
    for (const c of classesOf(q)) {
      visit.cls(c, q);
      if (c.leaf) go(c.leaf);
    }
  };
  go(root);
}

function ownOrder(q: ClassfulQdisc): QdiscClass[] {
  return q.classes();
}

/**
 * The terminal queues of a tree: classes whose leaf is classless (PRIO bands, HTB leaves), labelled
 * by classid, or the root itself when it is classless (labelled by its handle). Counting these gives
 * every queued/sent/dropped-in-a-queue packet exactly once, which per-class sums need.
 */
export function forEachQueue(root: Qdisc, classesOf: ((q: ClassfulQdisc) => QdiscClass[]) | undefined, fn: (label: string, leaf: Qdisc) => void): void {
  if (!isClassful(root)) {
    fn(formatHandle(root.handle), root);
    return;
  }
  walkTree(root, {
    qdisc: () => {},
    cls: (c) => {
      if (c.leaf && !isClassful(c.leaf)) fn(formatHandle(c.classid), c.leaf);
    },
  }, classesOf);
}

/** How tc prints a qdisc's parent: `root`, `ingress`, or the parent class `1:10`. */
export function parentLabel(parent: number): string {
  if (parent >>> 0 === TC_H_ROOT) return 'root';
  if (parent >>> 0 === TC_H_INGRESS) return 'ingress';
  return formatHandle(parent);
}
