/**
 * The one parse of a packet that just arrived: is it something we can forward, and what does the
 * rest of the pipeline need to know? preparePacket validates the IP header once and writes what it
 * found into the arena's columns (src/packet/arena.ts); every later stage reads those columns and
 * trusts them, as smoltcp's fast path trusts a packet that passed `check_len`.
 *
 * IPv4: version 4, IHL >= 5, header and total length inside what was read (a TUN read may carry
 * nothing past total length, but never less). Records FLAG_IPV4, FLAG_ECT, `priority` from TOS the
 * way the kernel's ip_forward() does (rt_tos2priority, decision D6: the ECN bits never change the
 * band), `l4off` = IHL × 4, `l4proto` = the protocol field, and the fragment state from MF and the
 * fragment offset.
 * IPv6: version 6 and the 40-byte fixed header plus its payload length present: FLAG_IPV6, FLAG_ECT
 * from the traffic class, priority 0 (decision D7). It walks the hop-by-hop, routing, destination
 * options and fragment headers (at most 8, each length-checked) to the transport header, as the
 * kernel's flow dissector does, and records where it stopped (`l4off`, clamped to the packet
 * length), what is there (`l4proto`) and the fragment state of a fragment header on the way.
 * Anything else is malformed: the forwarder counts it under the returned reason and drops it.
 */
import { type Arena, FLAG_ECT, FLAG_IPV4, FLAG_IPV6, FRAG_FIRST, FRAG_LATER, FRAG_NONE } from './arena';
import { ECN_CE, ECN_NOT_ECT } from './ecn';
import { be16, IPV4, IPV4_FRAG_OFFSET, IPV4_MF, IPV6, IPV6_EXT, IPV6_FRAG, IPV6_FRAG_OFFSET, IPV6_OPT } from './fields';

export const PREP_OK = 0;
export const PREP_TRUNCATED = 1; // shorter than the header it announces
export const PREP_BAD_VERSION = 2; // neither IPv4 nor IPv6
export const PREP_BAD_HEADER = 3; // IHL < 5 or total length < header length
export const PREP_REASON_NAMES = ['ok', 'truncated', 'bad_version', 'bad_header'];

/** extension headers walked at most, as a bound on a hostile chain */
const IPV6_MAX_EXT = 8;

/** ip_tos2prio (net/ipv4/route.c), indexed by (tos & 0x1e) >> 1: best effort 0, bulk 2, interactive 6, interactive-bulk 4 */
const TOS_TO_PRIORITY = new Uint8Array([0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4]);

/** rt_tos2priority: the skb priority ip_forward() gives a packet with this TOS byte */
export function tosToPriority(tos: number): number {
  return TOS_TO_PRIORITY[(tos & 0x1e) >> 1];
}

/** ECT(0) or ECT(1): the transport said it understands ECN (RFC 3168) */
function ectFlag(ecn: number): number {
  return ecn !== ECN_NOT_ECT && ecn !== ECN_CE ? FLAG_ECT : 0;
}

export function preparePacket(arena: Arena, id: number): number {
  const b = arena.bytes;
  const o = id * arena.slotSize;
  const len = arena.len[id];
  if (len < 1) return PREP_TRUNCATED;
  const version = b[o + IPV4.VER_IHL] >> 4;
  if (version === 4) return prepareIpv4(arena, id, b, o, len);
  if (version === 6) return prepareIpv6(arena, id, b, o, len);
  return PREP_BAD_VERSION;
}

function prepareIpv4(arena: Arena, id: number, b: Uint8Array, o: number, len: number): number {
  if (len < IPV4.HEADER_LEN) return PREP_TRUNCATED;
  const ihl = (b[o + IPV4.VER_IHL] & 0x0f) << 2;
  if (ihl < IPV4.HEADER_LEN) return PREP_BAD_HEADER;
  if (len < ihl) return PREP_TRUNCATED;
  const total = be16(b, o + IPV4.LENGTH);
  if (total < ihl) return PREP_BAD_HEADER;
  if (total > len) return PREP_TRUNCATED;
  const tos = b[o + IPV4.TOS];
  const frag = be16(b, o + IPV4.FLAGS_FRAG);
  arena.flags[id] = FLAG_IPV4 | ectFlag(tos & 3);
  arena.priority[id] = tosToPriority(tos);
  arena.l4off[id] = ihl;
  arena.l4proto[id] = b[o + IPV4.PROTOCOL];
  arena.frag[id] = (frag & IPV4_FRAG_OFFSET) !== 0 ? FRAG_LATER : (frag & IPV4_MF) !== 0 ? FRAG_FIRST : FRAG_NONE;
  return PREP_OK;
}

function prepareIpv6(arena: Arena, id: number, b: Uint8Array, o: number, len: number): number {
  if (len < IPV6.HEADER_LEN) return PREP_TRUNCATED;
  if (IPV6.HEADER_LEN + be16(b, o + IPV6.LENGTH) > len) return PREP_TRUNCATED;
  const tclass = (be16(b, o + IPV6.VER_TC_FLOW) >> 4) & 0xff;
  let nh = b[o + IPV6.NEXT_HEADER];
  let off: number = IPV6.HEADER_LEN;
  let frag = FRAG_NONE;
  for (let i = 0; i < IPV6_MAX_EXT; i++) {
    if (nh === IPV6_EXT.HOP_BY_HOP || nh === IPV6_EXT.ROUTING || nh === IPV6_EXT.DEST_OPTS) {
      if (off + IPV6_OPT.HEADER_LEN > len) break;
      const next = b[o + off + IPV6_OPT.NEXT_HEADER];
      off += (b[o + off + IPV6_OPT.LENGTH] + 1) * 8;
      nh = next;
    } else if (nh === IPV6_EXT.FRAGMENT) {
      if (off + IPV6_FRAG.HEADER_LEN > len) break;
      frag = (be16(b, o + off + IPV6_FRAG.OFFSET_M) & IPV6_FRAG_OFFSET) !== 0 ? FRAG_LATER : FRAG_FIRST;
      nh = b[o + off + IPV6_FRAG.NEXT_HEADER];
      off += IPV6_FRAG.HEADER_LEN;
    } else {
      break;
    }
  }
  arena.flags[id] = FLAG_IPV6 | ectFlag(tclass & 3);
  arena.priority[id] = 0;
  arena.l4off[id] = off < len ? off : len;
  arena.l4proto[id] = nh;
  arena.frag[id] = frag;
  return PREP_OK;
}
