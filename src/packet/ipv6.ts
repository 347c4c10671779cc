/**
 * IPv6 fixed-header view (RFC 8200) over an arena slot, re-pointed with `reset(id)`. Edge code
 * (tests, tools): the data path reads what preparePacket recorded instead (view.ts says why).
 *
 * `reset` checks version 6, the 40-byte header and 40 + payload length within what was captured.
 * Fields: traffic class (DSCP + ECN), flow label, payload length, next header, hop limit, addresses
 * (as four 32-bit words each). The view does not walk extension headers (preparePacket does): the
 * transport header is known only when the next header is not an extension header (hop-by-hop,
 * routing, fragment, ESP, AH, destination options, mobility, HIP, shim6, experimental); otherwise the
 * status of a transport view is PKT_NO_TRANSPORT. Linux's u32 doesn't walk them either: `ip6
 * sport/dport` read fixed offsets 40/42.
 * Reference: include/uapi/linux/ipv6.h.
 */
import { be16, IPV6 } from './fields';
import { NetworkHeaderView, PKT_BAD_VERSION, PKT_OK, PKT_TRUNCATED } from './view';

/** next-header values that are extension headers, not transports */
export function isIpv6ExtensionHeader(nh: number): boolean {
  return nh === 0 || nh === 43 || nh === 44 || nh === 50 || nh === 51 || nh === 60 || nh === 135 || nh === 139 || nh === 140 || nh === 253 || nh === 254;
}

export class Ipv6View extends NetworkHeaderView {
  protected validate(b: Uint8Array, o: number, len: number): number {
    if (len < 1) return PKT_TRUNCATED;
    if (b[o] >> 4 !== 6) return PKT_BAD_VERSION;
    if (len < IPV6.HEADER_LEN) return PKT_TRUNCATED;
    const payload = be16(b, o + IPV6.LENGTH);
    if (IPV6.HEADER_LEN + payload > len) return PKT_TRUNCATED;
    const nh = b[o + IPV6.NEXT_HEADER];
    if (!isIpv6ExtensionHeader(nh)) {
      this.transportOffset = IPV6.HEADER_LEN;
      this.transportLength = payload;
      this.transportProtocol = nh;
    }
    return PKT_OK;
  }

  get trafficClass(): number {
    return (this.u16(IPV6.VER_TC_FLOW) >> 4) & 0xff;
  }
  get dscp(): number {
    return this.trafficClass >> 2;
  }
  get ecn(): number {
    return this.trafficClass & 3;
  }
  get flowLabel(): number {
    return this.u32(IPV6.VER_TC_FLOW) & 0xfffff;
  }
  get payloadLength(): number {
    return this.u16(IPV6.LENGTH);
  }
  get nextHeader(): number {
    return this.u8(IPV6.NEXT_HEADER);
  }
  get hopLimit(): number {
    return this.u8(IPV6.HOP_LIMIT);
  }
  /** word i (0..3) of the source address, unsigned */
  srcWord(i: number): number {
    return this.u32(IPV6.SRC + 4 * (i & 3));
  }
  /** word i (0..3) of the destination address, unsigned */
  dstWord(i: number): number {
    return this.u32(IPV6.DST + 4 * (i & 3));
  }

  /** Rewrites the traffic class (IPv6 has no header checksum). */
  setTrafficClass(tc: number): boolean {
    if (this.status !== PKT_OK) return false;
    const b = this.bytes;
    const o = this.start + IPV6.VER_TC_FLOW;
    b[o] = 0x60 | ((tc >> 4) & 0x0f);
    b[o + 1] = ((tc & 0x0f) << 4) | (b[o + 1] & 0x0f);
    return true;
  }
  /** Rewrites the DSCP, keeping the ECN bits. */
  setDscp(dscp: number): boolean {
    return this.setTrafficClass(((dscp & 0x3f) << 2) | this.ecn);
  }
}
