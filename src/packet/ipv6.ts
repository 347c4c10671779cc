/**
 * IPv6 fixed-header view (RFC 8200) over an arena slot, re-pointed with `reset(id)`.
 *
 * `reset` checks version 6, the 40-byte header and 40 + payload length within what was captured.
 * Fields: traffic class (DSCP + ECN), flow label, payload length, next header, hop limit, addresses
 * (as four 32-bit words each). tunqos does not walk extension headers: the transport header is known
 * only when the next header is not an extension header (hop-by-hop, routing, fragment, ESP, AH,
 * destination options, mobility, HIP, shim6, experimental); otherwise the status of a transport view
 * is PKT_NO_TRANSPORT. Linux's u32 doesn't walk them either: `ip6 sport/dport` read fixed offsets 40/42.
 * Reference: include/uapi/linux/ipv6.h.
 */
import type { Arena } from './arena';
import { PKT_BAD_VERSION, PKT_OK, PKT_TRUNCATED, type NetworkView } from './ipv4';

/** next-header values that are extension headers, not transports */
export function isIpv6ExtensionHeader(nh: number): boolean {
  return nh === 0 || nh === 43 || nh === 44 || nh === 50 || nh === 51 || nh === 60 || nh === 135 || nh === 139 || nh === 140 || nh === 253 || nh === 254;
}

export class Ipv6View implements NetworkView {
  readonly bytes: Uint8Array;
  private readonly arena: Arena;
  id = -1;
  base = 0;
  length = 0;
  status = PKT_TRUNCATED;
  transportOffset = -1;
  transportLength = 0;
  transportProtocol = 0;

  constructor(arena: Arena) {
    this.arena = arena;
    this.bytes = arena.bytes;
  }

  reset(id: number): number {
    const a = this.arena;
    const b = this.bytes;
    this.id = id;
    const o = id * a.slotSize;
    this.base = o;
    let len = a.len[id];
    if (len > a.slotSize) len = a.slotSize;
    this.length = len;
    this.transportOffset = -1;
    this.transportLength = 0;
    this.transportProtocol = 0;
    if (len < 1) return (this.status = PKT_TRUNCATED);
    if (b[o] >> 4 !== 6) return (this.status = PKT_BAD_VERSION);
    if (len < 40) return (this.status = PKT_TRUNCATED);
    const payload = (b[o + 4] << 8) | b[o + 5];
    if (40 + payload > len) return (this.status = PKT_TRUNCATED);
    const nh = b[o + 6];
    if (!isIpv6ExtensionHeader(nh)) {
      this.transportOffset = 40;
      this.transportLength = payload;
      this.transportProtocol = nh;
    }
    return (this.status = PKT_OK);
  }

  private u8(off: number): number {
    return this.status === PKT_OK ? this.bytes[this.base + off] : 0;
  }

  get version(): number {
    return this.length > 0 ? this.bytes[this.base] >> 4 : 0;
  }
  get trafficClass(): number {
    return ((this.u8(0) & 0x0f) << 4) | (this.u8(1) >> 4);
  }
  get dscp(): number {
    return this.trafficClass >> 2;
  }
  get ecn(): number {
    return this.trafficClass & 3;
  }
  get flowLabel(): number {
    return ((this.u8(1) & 0x0f) << 16) | (this.u8(2) << 8) | this.u8(3);
  }
  get payloadLength(): number {
    return (this.u8(4) << 8) | this.u8(5);
  }
  get nextHeader(): number {
    return this.u8(6);
  }
  get hopLimit(): number {
    return this.u8(7);
  }
  /** word i (0..3) of the source address, unsigned */
  srcWord(i: number): number {
    return this.word(8 + 4 * (i & 3));
  }
  /** word i (0..3) of the destination address, unsigned */
  dstWord(i: number): number {
    return this.word(24 + 4 * (i & 3));
  }
  private word(off: number): number {
    if (this.status !== PKT_OK) return 0;
    const b = this.bytes;
    const o = this.base + off;
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  /** Rewrites the traffic class (IPv6 has no header checksum). */
  setTrafficClass(tc: number): boolean {
    if (this.status !== PKT_OK) return false;
    const b = this.bytes;
    const o = this.base;
    b[o] = 0x60 | ((tc >> 4) & 0x0f);
    b[o + 1] = ((tc & 0x0f) << 4) | (b[o + 1] & 0x0f);
    return true;
  }
  /** Rewrites the DSCP, keeping the ECN bits. */
  setDscp(dscp: number): boolean {
    return this.setTrafficClass(((dscp & 0x3f) << 2) | this.ecn);
  }
}
