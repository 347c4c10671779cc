/**
 * The Classifier contract: what a qdisc or class calls to choose where a packet goes.
 *
 * `classify(pkt, now)` reads the packet in the arena slot `pkt` and returns a tc classid (a 32-bit
 * handle, major << 16 | minor, always >= 0) or one of the negative codes below. A filter chain
 * (src/classify/chain.ts) is a Classifier; so is a single u32 filter.
 */
import type { Nanos } from '../time/clock';

/** no filter matched: the qdisc uses its default (HTB `default`, PRIO priomap) */
export const CLS_NOMATCH = -1;
/** a policer or action dropped the packet: the qdisc frees it and counts DropReason.Police */
export const CLS_SHOT = -2;

export interface Classifier {
  classify(pkt: number, now: Nanos): number;
}
