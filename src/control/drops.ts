/**
 * Drop reports: every packet a forwarder lost, by reason, as the `run` summary line and the metrics
 * print them. The counts live where the drops happen (the forwarder's malformed and tx-error counters,
 * the rx link's arena-full and oversize counters, the tree root's QdiscStats); this gathers them into
 * one string-keyed map.
 *
 * Reporting only: it allocates, and runs at summary/snapshot time, never per packet.
 */
import type { Forwarder } from '../forwarder/forwarder';
import { PREP_REASON_NAMES } from '../packet/prepare';
import { DROP_REASON_NAMES } from '../qdisc/stats';

/**
 * Drops by reason, only the non-zero ones: `malformed_<PREP reason>`, `arena_full`, `oversize`,
 * `tx_error`, then the root qdisc's DROP_REASON_NAMES (`queue_full`, `purge`, ...).
 */
export function dropsByReason(fwd: Forwarder): Record<string, number> {
  const d: Record<string, number> = {};
  const c = fwd.counters;
  for (let r = 1; r < PREP_REASON_NAMES.length; r++) if (c.malformed[r] > 0) d[`malformed_${PREP_REASON_NAMES[r]}`] = c.malformed[r];
  const rx = fwd.rx.counters;
  if (rx.rxNoSlot > 0) d.arena_full = rx.rxNoSlot;
  if (rx.rxOversize > 0) d.oversize = rx.rxOversize;
  if (c.txErrors > 0) d.tx_error = c.txErrors;
  const q = fwd.tree.root.stats.dropsByReason;
  for (let r = 0; r < DROP_REASON_NAMES.length; r++) if (q[r] > 0) d[DROP_REASON_NAMES[r]] = q[r];
  return d;
}
