/**
 * A classful parent's bookkeeping around one child qdisc, written once (include/net/sch_generic.h
 * qdisc_enqueue and the accounting around it; sch_api.c qdisc_graft).
 *
 * The contract (qdisc.ts): a parent never assumes "+1". It reads the child's `stats.qlen` and
 * `stats.backlog` before and after each call and moves its own counters by the difference, because
 * a child may drop packets other than the offered one (SFQ drops from its longest flow, a re-hash
 * purges). The drops the child counted are carried up reason by reason (absorbChildDrops), so a RED
 * early drop under PRIO shows as `red_early` at the root.
 *
 * Where a parent counts its child's drops its own way, it passes `seen = null` and says why:
 *  - RED counts an overflow of its bfifo as `pdrop` and one queue_full drop (sch_red.c);
 *  - the ingress qdisc leaves its child's drops in the child's counters (its header says why);
 *  - HTB carries them itself, because the class's own counter needs the count too.
 *
 * Everything here takes QdiscStats, not the parent: these functions are shared by every parent, and
 * QdiscStats is one hidden class where the parents are many.
 */
import type { Nanos } from '../time/clock';
import type { QdiscBase } from './base';
import type { Qdisc } from './qdisc';
import type { QdiscStats } from './stats';

/**
 * qdisc_enqueue with the parent's accounting: hands `pkt` to `child`, adds the child's qlen/backlog
 * difference to `parent`, and carries the child's new drops by reason (null `seen`: not carried).
 * Returns the child's verdict.
 */
export function enqueueChild(parent: QdiscStats, child: Qdisc, seen: Float64Array | null, pkt: number, now: Nanos): number {
  const cs = child.stats;
  const qlen0 = cs.qlen;
  const backlog0 = cs.backlog;
  const drops0 = cs.drops;
  const ret = child.enqueue(pkt, now);
  parent.qlen += cs.qlen - qlen0;
  parent.backlog += cs.backlog - backlog0;
  if (seen !== null && cs.drops !== drops0) absorbChildDrops(parent, cs, seen);
  return ret;
}

/**
 * The child's dequeue with the parent's accounting (qdisc_dequeue_peeked's caller side): the child's
 * qlen/backlog difference moves `parent`. Returns the packet or -1; `Sent` is the caller's to count.
 */
export function dequeueChild(parent: QdiscStats, child: Qdisc, now: Nanos): number {
  const cs = child.stats;
  const qlen0 = cs.qlen;
  const backlog0 = cs.backlog;
  const pkt = child.dequeue(now);
  parent.qlen += cs.qlen - qlen0;
  parent.backlog += cs.backlog - backlog0;
  return pkt;
}

/**
 * Makes `child` a child of `holder` at class `classid`. A grafted qdisc may already hold packets
 * (tc replace): they are counted in. `seen` (when the holder carries drops) starts at the child's
 * present counts, so only drops made from now on are carried.
 */
export function attachChild(holder: QdiscBase, child: Qdisc, classid: number, seen: Float64Array | null): void {
  child.owner = holder;
  child.parent = classid;
  holder.stats.qlen += child.stats.qlen;
  holder.stats.backlog += child.stats.backlog;
  if (seen !== null) seen.set(child.stats.dropsByReason);
}

/**
 * Lets go of child `old`. With `purge` (qdisc_purge_queue) its packets are dropped while it is still
 * ours, so they come off the holder's counters through childReduced; without, the caller purges it
 * later (after a commit) and its packets leave the holder's counters now.
 */
export function detachChild(holder: QdiscBase, old: Qdisc, purge: boolean): void {
  if (purge) {
    old.reset();
  } else {
    holder.stats.qlen -= old.stats.qlen;
    holder.stats.backlog -= old.stats.backlog;
  }
  old.owner = null;
}

/** qdisc_graft for a class: `old` (if any) is purged and let go, `next` attached in its place */
export function graftChild(holder: QdiscBase, old: Qdisc | null, next: Qdisc, classid: number, seen: Float64Array | null): void {
  if (old !== null) detachChild(holder, old, true);
  attachChild(holder, next, classid, seen);
}

/**
 * Carries into `parent` the drops a child counted since the last call, reason by reason, and returns
 * how many. `seen` holds the child's per-reason counts already carried: one array per child, set to
 * the child's counts when it is grafted (attachChild). Called on the rare path where a child's drop
 * count moved.
 */
export function absorbChildDrops(parent: QdiscStats, child: QdiscStats, seen: Float64Array): number {
  const by = child.dropsByReason;
  let total = 0;
  for (let r = 0; r < by.length; r++) {
    const d = by[r] - seen[r];
    if (d !== 0) {
      parent.dropsByReason[r] += d;
      seen[r] = by[r];
      total += d;
    }
  }
  parent.drops += total;
  return total;
}
