/**
 * The first look at a packet that just arrived: is it something we can forward, and what does the
 * rest of the pipeline need to know without parsing it again?
 *
 * For IPv4: version 4, IHL >= 5, header and total length inside what was read (a TUN read may carry
 * nothing past total length, but never less). Sets FLAG_IPV4, FLAG_ECT, and `priority` from TOS the way
 * the kernel's ip_forward() does (rt_tos2priority, decision D6: the ECN bits never change the band).
 * For IPv6: version 6 and the 40-byte fixed header present: FLAG_IPV6, priority 0 (decision D7).
 * Anything else is malformed: the forwarder counts it under the returned reason and drops it.
 */
import { type Arena, FLAG_ECT, FLAG_IPV4, FLAG_IPV6 } from './arena';

export const PREP_OK = 0;
export const PREP_TRUNCATED = 1; // shorter than the header it announces
export const PREP_BAD_VERSION = 2; // neither IPv4 nor IPv6
export const PREP_BAD_HEADER = 3; // IHL < 5 or total length < header length
export const PREP_REASON_NAMES = ['ok', 'truncated', 'bad_version', 'bad_header'];

/** ip_tos2prio (net/ipv4/route.c), indexed by (tos & 0x1e) >> 1: best effort 0, bulk 2, interactive 6, interactive-bulk 4 */
const TOS_TO_PRIORITY = new Uint8Array([0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4]);

export function tosToPriority(tos: number): number {
  return TOS_TO_PRIORITY[(tos & 0x1e) >> 1];
}

export function preparePacket(arena: Arena, id: number): number {
  const b = arena.bytes;
  const o = id * arena.slotSize;
  const len = arena.len[id];
  if (len < 1) return PREP_TRUNCATED;
  const version = b[o] >> 4;
  if (version === 4) {
    if (len < 20) return PREP_TRUNCATED;
    const ihl = (b[o] & 0x0f) * 4;
    if (ihl < 20) return PREP_BAD_HEADER;
    if (len < ihl) return PREP_TRUNCATED;
    const total = (b[o + 2] << 8) | b[o + 3];
    if (total < ihl) return PREP_BAD_HEADER;
    if (total > len) return PREP_TRUNCATED;
    const tos = b[o + 1];
    let flags = FLAG_IPV4;
    if ((tos & 3) === 1 || (tos & 3) === 2) flags |= FLAG_ECT;
    arena.flags[id] = flags;
    arena.priority[id] = TOS_TO_PRIORITY[(tos & 0x1e) >> 1];
    return PREP_OK;
  }
  if (version === 6) {
    if (len < 40) return PREP_TRUNCATED;
    const payload = (b[o + 4] << 8) | b[o + 5];
    if (40 + payload > len) return PREP_TRUNCATED;
    const tclass = ((b[o] & 0x0f) << 4) | (b[o + 1] >> 4);
    let flags = FLAG_IPV6;
    if ((tclass & 3) === 1 || (tclass & 3) === 2) flags |= FLAG_ECT;
    arena.flags[id] = flags;
    arena.priority[id] = 0;
    return PREP_OK;
  }
  return PREP_BAD_VERSION;
}
