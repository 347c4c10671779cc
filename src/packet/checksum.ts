/**
 * Internet checksums.
 *
 * Full checksum (RFC 1071): the one's-complement sum of 16-bit big-endian words, folded, inverted.
 * Incremental update (RFC 1624, eqn. 3): when one 16-bit word m of a header changes to m', the new
 * checksum is HC' = ~(~HC + ~m + m'). This is how the kernel patches the IPv4 header checksum when it
 * rewrites TOS/ECN bits (ip_tos_change / IP_ECN_set_ce), without summing the header again.
 */

/** RFC 1071 checksum of bytes[off, off+len), as the value to store in the header field. */
export function internetChecksum(bytes: Uint8Array, off: number, len: number): number {
  let sum = 0;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (len & 1) sum += bytes[off + len - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** RFC 1624: the checksum after one 16-bit word changed from `oldWord` to `newWord`. */
export function checksumUpdate16(checksum: number, oldWord: number, newWord: number): number {
  let sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
