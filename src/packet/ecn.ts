/**
 * ECN marking: setting Congestion Experienced (CE) in a packet instead of dropping it (RFC 3168).
 *
 * The two low bits of the IPv4 TOS byte / IPv6 traffic class are the ECN field: 00 Not-ECT,
 * 01 ECT(1), 10 ECT(0), 11 CE. Only an ECN-capable transport (ECT) may be marked; a Not-ECT packet
 * must be dropped instead, so `setCe` says whether it marked. A packet already CE counts as marked.
 * IPv4 carries a header checksum over the TOS byte, patched incrementally (RFC 1624) exactly as the
 * kernel's IP_ECN_set_ce does; IPv6 has no header checksum.
 * Reference: include/net/inet_ecn.h (INET_ECN_set_ce, IP_ECN_set_ce, IP6_ECN_set_ce).
 */
import { type Arena, FLAG_IPV4, FLAG_IPV6 } from './arena';
import { checksumUpdate16 } from './checksum';
import { be16, IPV4, IPV6 } from './fields';

export const ECN_NOT_ECT = 0;
export const ECN_ECT_1 = 1;
export const ECN_ECT_0 = 2;
export const ECN_CE = 3;

/** The ECN codepoint of packet `id`, or -1 when it is not an IP packet preparePacket accepted. */
export function ecnOf(arena: Arena, id: number): number {
  const flags = arena.flags[id];
  const o = arena.offset(id);
  if ((flags & FLAG_IPV4) !== 0) return arena.bytes[o + IPV4.TOS] & 3;
  if ((flags & FLAG_IPV6) !== 0) return (be16(arena.bytes, o + IPV6.VER_TC_FLOW) >> 4) & 3;
  return -1;
}

/**
 * Marks packet `id` CE when it is ECN-capable. Returns true when the packet now carries CE (it was
 * ECT(0), ECT(1) or already CE), false for Not-ECT and for anything preparePacket did not accept as
 * IPv4/IPv6 (its FLAG_IPV4 / FLAG_IPV6 guarantee the header is there to patch).
 */
export function setCe(arena: Arena, id: number): boolean {
  const ecn = ecnOf(arena, id);
  if (ecn === ECN_CE) return true;
  if (ecn < 0 || ecn === ECN_NOT_ECT) return false;
  const b = arena.bytes;
  const o = arena.offset(id);
  if ((arena.flags[id] & FLAG_IPV4) !== 0) {
    // IP_ECN_set_ce: the TOS byte shares a 16-bit word with version/IHL; patch the checksum for it
    const oldWord = be16(b, o + IPV4.VER_IHL);
    const check = checksumUpdate16(be16(b, o + IPV4.CHECKSUM), oldWord, oldWord | ECN_CE);
    b[o + IPV4.TOS] |= ECN_CE;
    b[o + IPV4.CHECKSUM] = check >>> 8;
    b[o + IPV4.CHECKSUM + 1] = check & 0xff;
    return true;
  }
  // IP6_ECN_set_ce: the ECN bits are bits 4-5 of the second byte; no header checksum
  b[o + IPV6.VER_TC_FLOW + 1] |= ECN_CE << 4;
  return true;
}
