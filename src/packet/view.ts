/**
 * What the header views (ipv4.ts, ipv6.ts, tcp.ts, udp.ts, icmp.ts) share: a status code, the offset
 * of the header in the arena's bytes, and readers that return 0 unless the status is PKT_OK, so that
 * a view over a bad packet can never read past the packet's own bytes into the next slot (an
 * out-of-range typed-array read is silent in JS, and inside the arena it would read a neighbour).
 *
 * The views are for the edges: tests, and tools that want a packet field by name. They are not the
 * data path: there, preparePacket (prepare.ts) parses each packet once and records what later stages
 * need in the arena's columns. Both take their offsets from the same field tables (fields.ts).
 */
import { be16, be32 } from './fields';

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
  readonly start: number;
  /** offset of the transport header from the start of the packet, -1 when there is none */
  readonly transportOffset: number;
  /** bytes from transportOffset to the end of the IP payload (bounded by what was captured) */
  readonly transportLength: number;
  /** the transport protocol number (IPv4 protocol, IPv6 next header) */
  readonly transportProtocol: number;
}

export abstract class HeaderView {
  readonly bytes: Uint8Array;
  status: number;
  /** offset of this header's first byte in `bytes` */
  start = 0;

  constructor(bytes: Uint8Array, status: number) {
    this.bytes = bytes;
    this.status = status;
  }

  protected u8(off: number): number {
    return this.status === PKT_OK ? this.bytes[this.start + off] : 0;
  }
  protected u16(off: number): number {
    return this.status === PKT_OK ? be16(this.bytes, this.start + off) : 0;
  }
  protected u32(off: number): number {
    return this.status === PKT_OK ? be32(this.bytes, this.start + off) : 0;
  }
}

/** An IPv4 or IPv6 header view over an arena slot, re-pointed with `reset(id)`. */
export abstract class NetworkHeaderView extends HeaderView implements NetworkView {
  private readonly slotSize: number;
  private readonly lengths: Uint32Array;
  /** the slot this view points at */
  id = -1;
  /** captured length of the packet (arena.len, at most a slot) */
  length = 0;
  transportOffset = -1;
  transportLength = 0;
  transportProtocol = 0;

  constructor(arena: { readonly bytes: Uint8Array; readonly slotSize: number; readonly len: Uint32Array }) {
    super(arena.bytes, PKT_TRUNCATED);
    this.slotSize = arena.slotSize;
    this.lengths = arena.len;
  }

  /** Points the view at slot `id` and validates the header; returns the status (PKT_*). */
  reset(id: number): number {
    this.id = id;
    this.start = id * this.slotSize;
    const len = this.lengths[id];
    this.length = len > this.slotSize ? this.slotSize : len;
    this.transportOffset = -1;
    this.transportLength = 0;
    this.transportProtocol = 0;
    this.status = this.validate(this.bytes, this.start, this.length);
    return this.status;
  }

  /** checks the header at b[o, o+len) and sets the transport fields; returns the status */
  protected abstract validate(b: Uint8Array, o: number, len: number): number;

  get version(): number {
    return this.length > 0 ? this.bytes[this.start] >> 4 : 0;
  }
}

/** A TCP, UDP or ICMP header view behind a network view, re-pointed with `reset(net)`. */
export abstract class TransportHeaderView extends HeaderView {
  constructor(bytes: Uint8Array) {
    super(bytes, PKT_NO_TRANSPORT);
  }

  /** points at the transport header `net` found; PKT_OK when at least `min` octets of it are there */
  protected enter(net: NetworkView, min: number): number {
    if (net.status !== PKT_OK) return (this.status = net.status);
    if (net.transportOffset < 0) return (this.status = PKT_NO_TRANSPORT);
    this.start = net.start + net.transportOffset;
    return (this.status = net.transportLength < min ? PKT_TRUNCATED : PKT_OK);
  }
}
