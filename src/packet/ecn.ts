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
import type { Arena } from './arena';
import { checksumUpdate16 } from './checksum';

export const ECN_NOT_ECT = 0;
export const ECN_ECT_1 = 1;
export const ECN_ECT_0 = 2;
export const ECN_CE = 3;

/** The ECN codepoint of packet `id`, or -1 when it is not an IP packet we can read. */
export function ecnOf(arena: Arena, id: number): number {
  const b = arena.bytes;
  const o = arena.offset(id);
  const len = arena.len[id];
  if (len < 2) return -1;
  const version = b[o] >> 4;
  if (version === 4 && len >= 20) return b[o + 1] & 3;
  if (version === 6 && len >= 40) return (b[o + 1] >> 4) & 3;
  return -1;
}

/**
 * Marks packet `id` CE when it is ECN-capable. Returns true when the packet now carries CE (it was
 * ECT(0), ECT(1) or already CE), false for Not-ECT and for anything that is not IPv4/IPv6.
 */
export function setCe(arena: Arena, id: number): boolean {
  const b = arena.bytes;
  const o = arena.offset(id);
  const len = arena.len[id];
  if (len < 2) return false;
  const version = b[o] >> 4;
  if (version === 4) {
    if (len < 20) return false;
    const ecn = b[o + 1] & 3;
    if (ecn === ECN_CE) return true;
    if (ecn === ECN_NOT_ECT) return false;
    const oldWord = (b[o] << 8) | b[o + 1];
    const newWord = oldWord | ECN_CE;
    const check = checksumUpdate16((b[o + 10] << 8) | b[o + 11], oldWord, newWord);
    b[o + 1] |= ECN_CE;
    b[o + 10] = check >>> 8;
    b[o + 11] = check & 0xff;
    return true;
  }
  if (version === 6) {
    if (len < 40) return false;
    const ecn = (b[o + 1] >> 4) & 3;
    if (ecn === ECN_CE) return true;
    if (ecn === ECN_NOT_ECT) return false;
    b[o + 1] |= ECN_CE << 4;
    return true;
  }
  return false;
}
