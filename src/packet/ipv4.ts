/**
 * IPv4 header view (RFC 791) over an arena slot, re-pointed with `reset(id)` so that parsing a packet
 * allocates nothing (DESIGN.md, hot-path rule 2).
 *
 * `reset` checks before anything is read: version 4, 20 <= IHL×4 <= captured length, IHL×4 <= total
 * length <= captured length. The result is a status code (PKT_*); getters return 0 while the status
 * is not PKT_OK, so a bad packet can never make a read run past its own bytes into the next slot
 * (an out-of-range typed-array read is silent in JS, and inside the arena it would even read a
 * neighbour's bytes). Fields: version, IHL, TOS (DSCP + ECN), total length, id, flags and fragment
 * offset (in 8-byte units, as on the wire), TTL, protocol, checksum, addresses (unsigned 32-bit),
 * options. Only the first fragment (offset 0) carries the transport header.
 *
 * Rewrites (`setTos`, `setDscp`) patch the header checksum incrementally (RFC 1624) the way the
 * kernel's ipv4_change_dsfield() does, instead of summing the header again.
 * Reference: include/uapi/linux/ip.h, include/net/dsfield.h.
 */
import type { Arena } from './arena';
import { checksumUpdate16, internetChecksum } from './checksum';

/** header present and consistent */
export const PKT_OK = 0;
/** fewer bytes than the header (or the total length) announces */
export const PKT_TRUNCATED = 1;
/** not the IP version this view parses */
export const PKT_BAD_VERSION = 2;
/** inconsistent fields: IHL < 5, total length < header length, TCP data offset < 5 */
export const PKT_BAD_HEADER = 3;
/** no transport header in this packet: a non-first fragment, or an IPv6 extension header comes first */
export const PKT_NO_TRANSPORT = 4;
export const PKT_STATUS_NAMES = ['ok', 'truncated', 'bad_version', 'bad_header', 'no_transport'];

/** What a transport view needs from the network-layer view that precedes it. */
export interface NetworkView {
  readonly status: number;
  /** byte offset of the packet's first byte in arena.bytes */
  readonly base: number;
  /** offset of the transport header from the start of the packet, -1 when there is none */
  readonly transportOffset: number;
  /** bytes from transportOffset to the end of the IP payload (bounded by what was captured) */
  readonly transportLength: number;
  /** the transport protocol number (IPv4 protocol, IPv6 next header) */
  readonly transportProtocol: number;
}

export class Ipv4View implements NetworkView {
  readonly bytes: Uint8Array;
  private readonly arena: Arena;
  id = -1;
  base = 0;
  /** captured length of the packet (arena.len) */
  length = 0;
  status = PKT_TRUNCATED;
  /** header length in bytes (IHL × 4) */
  headerLength = 0;
  transportOffset = -1;
  transportLength = 0;
  transportProtocol = 0;

  constructor(arena: Arena) {
    this.arena = arena;
    this.bytes = arena.bytes;
  }

  /** Points the view at slot `id` and validates the header; returns the status (PKT_*). */
  reset(id: number): number {
    const a = this.arena;
    const b = this.bytes;
    this.id = id;
    this.base = id * a.slotSize;
    let len = a.len[id];
    if (len > a.slotSize) len = a.slotSize;
    this.length = len;
    this.headerLength = 0;
    this.transportOffset = -1;
    this.transportLength = 0;
    this.transportProtocol = 0;
    this.status = this.validate(b, this.base, len);
    return this.status;
  }

  private validate(b: Uint8Array, o: number, len: number): number {
    if (len < 1) return PKT_TRUNCATED;
    if (b[o] >> 4 !== 4) return PKT_BAD_VERSION;
    if (len < 20) return PKT_TRUNCATED;
    const hl = (b[o] & 0x0f) << 2;
    if (hl < 20) return PKT_BAD_HEADER;
    if (hl > len) return PKT_TRUNCATED;
    const total = (b[o + 2] << 8) | b[o + 3];
    if (total < hl) return PKT_BAD_HEADER;
    if (total > len) return PKT_TRUNCATED;
    this.headerLength = hl;
    this.transportProtocol = b[o + 9];
    if ((((b[o + 6] << 8) | b[o + 7]) & 0x1fff) === 0) {
      this.transportOffset = hl;
      this.transportLength = total - hl;
    }
    return PKT_OK;
  }

  private u8(off: number): number {
    return this.status === PKT_OK ? this.bytes[this.base + off] : 0;
  }
  private u16(off: number): number {
    return this.status === PKT_OK ? (this.bytes[this.base + off] << 8) | this.bytes[this.base + off + 1] : 0;
  }
  private u32(off: number): number {
    if (this.status !== PKT_OK) return 0;
    const b = this.bytes;
    const o = this.base + off;
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  get version(): number {
    return this.length > 0 ? this.bytes[this.base] >> 4 : 0;
  }
  /** IHL in 32-bit words */
  get ihl(): number {
    return this.u8(0) & 0x0f;
  }
  get tos(): number {
    return this.u8(1);
  }
  get dscp(): number {
    return this.u8(1) >> 2;
  }
  get ecn(): number {
    return this.u8(1) & 3;
  }
  get totalLength(): number {
    return this.u16(2);
  }
  get identification(): number {
    return this.u16(4);
  }
  /** the 3 flag bits: 4 = reserved, 2 = DF, 1 = MF */
  get flags(): number {
    return this.u8(6) >> 5;
  }
  get dontFragment(): boolean {
    return (this.u8(6) & 0x40) !== 0;
  }
  get moreFragments(): boolean {
    return (this.u8(6) & 0x20) !== 0;
  }
  /** fragment offset in 8-byte units */
  get fragmentOffset(): number {
    return this.u16(6) & 0x1fff;
  }
  /** part of a fragmented datagram (MF set or a non-zero offset) */
  get isFragment(): boolean {
    return (this.u16(6) & 0x3fff) !== 0;
  }
  get ttl(): number {
    return this.u8(8);
  }
  get protocol(): number {
    return this.u8(9);
  }
  get checksum(): number {
    return this.u16(10);
  }
  get src(): number {
    return this.u32(12);
  }
  get dst(): number {
    return this.u32(16);
  }
  get optionsLength(): number {
    return this.status === PKT_OK ? this.headerLength - 20 : 0;
  }
  /** the i-th byte of the options (0 ≤ i < optionsLength), 0 outside */
  option(i: number): number {
    return i >= 0 && i < this.optionsLength ? this.bytes[this.base + 20 + i] : 0;
  }
  /** bytes after the IP header (total length − IHL×4) */
  get payloadLength(): number {
    return this.status === PKT_OK ? this.totalLength - this.headerLength : 0;
  }
  /** true when the stored checksum verifies over the header */
  checksumOk(): boolean {
    return this.status === PKT_OK && internetChecksum(this.bytes, this.base, this.headerLength) === 0;
  }

  /** Rewrites the whole TOS byte and patches the checksum (RFC 1624). False when the header is not valid. */
  setTos(tos: number): boolean {
    if (this.status !== PKT_OK) return false;
    const b = this.bytes;
    const o = this.base;
    const oldWord = (b[o] << 8) | b[o + 1];
    b[o + 1] = tos & 0xff;
    const newWord = (b[o] << 8) | b[o + 1];
    const sum = checksumUpdate16((b[o + 10] << 8) | b[o + 11], oldWord, newWord);
    b[o + 10] = sum >> 8;
    b[o + 11] = sum & 0xff;
    return true;
  }

  /** Rewrites the DSCP (6 bits), keeping the ECN bits, as ipv4_change_dsfield(mask 0x03). */
  setDscp(dscp: number): boolean {
    if (this.status !== PKT_OK) return false;
    return this.setTos(((dscp & 0x3f) << 2) | (this.bytes[this.base + 1] & 3));
  }
}
