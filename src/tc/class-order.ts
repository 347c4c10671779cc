/**
 * The order `tc class show` lists a qdisc's classes in: the walk of the kernel's class hash
 * (struct Qdisc_class_hash; qdisc_class_hash_insert, _remove and _grow in net/sched/sch_api.c), which
 * htb_walk and cbq_walk follow. Only the order matters here, so the hash keeps classids and nothing else.
 *
 * The kernel starts with 4 buckets, adds at the head of a bucket, and doubles the table once it holds
 * more than 3/4 as many classes as buckets, re-adding the old buckets' classes in walk order (each at
 * the head of its new bucket). It never shrinks. So the order depends on the whole history of adds
 * and deletes, which is why the device model keeps one ClassHash per qdisc and feeds it every class
 * add and delete as it happens (tc/device.ts classAdded/classRemoved), instead of deriving the order
 * from the classes that exist now.
 */

/** qdisc_class_hash (include/net/sch_generic.h): the bucket of `id` in a table of `mask + 1` buckets */
function classHash(id: number, mask: number): number {
  let h = id >>> 0;
  h ^= h >>> 8;
  h ^= h >>> 4;
  return h & mask;
}

export class ClassHash {
  private buckets: number[][] = [[], [], [], []];
  private count = 0;

  /** qdisc_class_hash_insert, then qdisc_class_hash_grow when the table is more than 3/4 full */
  insert(classid: number): void {
    this.buckets[classHash(classid, this.buckets.length - 1)].unshift(classid >>> 0);
    this.count++;
    if (this.count * 4 <= this.buckets.length * 3) return;
    const next: number[][] = [];
    for (let i = 0; i < this.buckets.length * 2; i++) next.push([]);
    for (const bucket of this.buckets) for (const id of bucket) next[classHash(id, next.length - 1)].unshift(id);
    this.buckets = next;
  }

  /** qdisc_class_hash_remove */
  remove(classid: number): void {
    for (const bucket of this.buckets) {
      const i = bucket.indexOf(classid >>> 0);
      if (i >= 0) {
        bucket.splice(i, 1);
        this.count--;
      }
    }
  }

  /** the classids in walk order (bucket by bucket, newest first within a bucket) */
  walk(): number[] {
    const out: number[] = [];
    for (const bucket of this.buckets) out.push(...bucket);
    return out;
  }
}
