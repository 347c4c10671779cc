/**
 * Where each header field sits: one table per protocol, in bytes from the start of that header, the
 * way smoltcp's `wire/*.rs` keep a private `mod field`. Every reader of packet bytes (preparePacket,
 * the flow hash, ECN marking, the raw egress, the views, the pretty-printer, the packet builder) takes
 * its offsets from here, so a field is named once and no literal 12 or 0x1fff hides in the data path.
 * `HEADER_LEN` is the length of the fixed header, in octets (IPv4 and TCP may carry options beyond it).
 * Multi-byte fields are big-endian (network order); read them with `be16` / `be32`.
 * References: RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 (TCP), RFC 768 (UDP), RFC 792 / 4443 (ICMP).
 */

/** IPv4 header (RFC 791 §3.1) */
export const IPV4 = {
  /** version (high nibble, 4) and IHL (low nibble, header length in 32-bit words) */
  VER_IHL: 0,
  /** DSCP (6 bits) and ECN (2 bits) */
  TOS: 1,
  /** total length of the datagram, header included, in octets */
  LENGTH: 2,
  IDENT: 4,
  /** 3 flag bits (reserved, DF, MF) and the 13-bit fragment offset in 8-octet units */
  FLAGS_FRAG: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
  /** the fixed header; IHL × 4 may be up to 60 with options */
  HEADER_LEN: 20,
} as const;

/** masks on the 16-bit FLAGS_FRAG word */
export const IPV4_DF = 0x4000;
export const IPV4_MF = 0x2000;
export const IPV4_FRAG_OFFSET = 0x1fff;

/** IPv6 fixed header (RFC 8200 §3) */
export const IPV6 = {
  /** version (4 bits, 6), traffic class (8 bits: DSCP + ECN), flow label (20 bits) */
  VER_TC_FLOW: 0,
  /** payload length: octets after the fixed header, extension headers included */
  LENGTH: 4,
  NEXT_HEADER: 6,
  HOP_LIMIT: 7,
  SRC: 8,
  DST: 24,
  HEADER_LEN: 40,
} as const;

/** the IPv6 extension headers tunqos walks past (RFC 8200 §4) */
export const IPV6_EXT = {
  HOP_BY_HOP: 0,
  ROUTING: 43,
  FRAGMENT: 44,
  DEST_OPTS: 60,
} as const;

/** IPv6 extension header: next header, then (except the fragment header) its length in 8-octet units beyond the first 8 */
export const IPV6_OPT = { NEXT_HEADER: 0, LENGTH: 1, HEADER_LEN: 8 } as const;
/** IPv6 fragment header (RFC 8200 §4.5): offset in 8-octet units << 3, two reserved bits, M */
export const IPV6_FRAG = { NEXT_HEADER: 0, OFFSET_M: 2, HEADER_LEN: 8 } as const;
/** the 13-bit fragment offset in the OFFSET_M word */
export const IPV6_FRAG_OFFSET = 0xfff8;

/** TCP header (RFC 9293 §3.1) */
export const TCP = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  /** data offset (high nibble, header length in 32-bit words) */
  DATA_OFF: 12,
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  HEADER_LEN: 20,
} as const;

/** bits of the TCP FLAGS byte */
export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** UDP header (RFC 768) */
export const UDP = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6, HEADER_LEN: 8 } as const;

/** ICMP / ICMPv6 header: the 4 octets every message starts with (echo adds id and sequence) */
export const ICMP = { TYPE: 0, CODE: 1, CHECKSUM: 2, ECHO_ID: 4, ECHO_SEQ: 6, HEADER_LEN: 4, ECHO_LEN: 8 } as const;

/** ICMP types tunqos names */
export const ICMP_TYPE = { ECHO_REPLY: 0, DEST_UNREACH: 3, ECHO: 8, V6_ECHO: 128 } as const;

/** IP protocol numbers (IPv4 protocol, IPv6 next header) */
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, DCCP: 33, ICMPV6: 58, SCTP: 132, UDPLITE: 136 } as const;

/** the big-endian 16-bit word at b[o], b[o+1] */
export function be16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** the big-endian 32-bit word at b[o..o+3], unsigned */
export function be32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
