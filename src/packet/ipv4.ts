/**
 * IPv4 header view (RFC 791) over an arena slot, re-pointed with `reset(id)`. Edge code (tests,
 * tools): the data path reads what preparePacket recorded instead (view.ts says why).
 *
 * `reset` checks before anything is read: version 4, 20 <= IHL×4 <= captured length, IHL×4 <= total
 * length <= captured length. The result is a status code (PKT_*); getters return 0 while the status
 * is not PKT_OK. Fields: version, IHL, TOS (DSCP + ECN), total length, id, flags and fragment
 * offset (in 8-byte units, as on the wire), TTL, protocol, checksum, addresses (unsigned 32-bit),
 * options. Only the first fragment (offset 0) carries the transport header.
 *
 * Rewrites (`setTos`, `setDscp`) patch the header checksum incrementally (RFC 1624) the way the
 * kernel's ipv4_change_dsfield() does, instead of summing the header again.
 * Reference: include/uapi/linux/ip.h, include/net/dsfield.h.
 */
import { checksumUpdate16, internetChecksum } from './checksum';
import { be16, IPV4, IPV4_DF, IPV4_FRAG_OFFSET, IPV4_MF } from './fields';
import { NetworkHeaderView, PKT_BAD_HEADER, PKT_BAD_VERSION, PKT_OK, PKT_TRUNCATED } from './view';

export class Ipv4View extends NetworkHeaderView {
  /** header length in bytes (IHL × 4) */
  headerLength = 0;

  protected validate(b: Uint8Array, o: number, len: number): number {
    this.headerLength = 0;
    if (len < 1) return PKT_TRUNCATED;
    if (b[o + IPV4.VER_IHL] >> 4 !== 4) return PKT_BAD_VERSION;
    if (len < IPV4.HEADER_LEN) return PKT_TRUNCATED;
    const hl = (b[o + IPV4.VER_IHL] & 0x0f) << 2;
    if (hl < IPV4.HEADER_LEN) return PKT_BAD_HEADER;
    if (hl > len) return PKT_TRUNCATED;
    const total = be16(b, o + IPV4.LENGTH);
    if (total < hl) return PKT_BAD_HEADER;
    if (total > len) return PKT_TRUNCATED;
    this.headerLength = hl;
    this.transportProtocol = b[o + IPV4.PROTOCOL];
    if ((be16(b, o + IPV4.FLAGS_FRAG) & IPV4_FRAG_OFFSET) === 0) {
      this.transportOffset = hl;
      this.transportLength = total - hl;
    }
    return PKT_OK;
  }

  /** IHL in 32-bit words */
  get ihl(): number {
    return this.u8(IPV4.VER_IHL) & 0x0f;
  }
  get tos(): number {
    return this.u8(IPV4.TOS);
  }
  get dscp(): number {
    return this.tos >> 2;
  }
  get ecn(): number {
    return this.tos & 3;
  }
  get totalLength(): number {
    return this.u16(IPV4.LENGTH);
  }
  get identification(): number {
    return this.u16(IPV4.IDENT);
  }
  /** the 3 flag bits: 4 = reserved, 2 = DF, 1 = MF */
  get flags(): number {
    return this.u16(IPV4.FLAGS_FRAG) >> 13;
  }
  get dontFragment(): boolean {
    return (this.u16(IPV4.FLAGS_FRAG) & IPV4_DF) !== 0;
  }
  get moreFragments(): boolean {
    return (this.u16(IPV4.FLAGS_FRAG) & IPV4_MF) !== 0;
  }
  /** fragment offset in 8-byte units */
  get fragmentOffset(): number {
    return this.u16(IPV4.FLAGS_FRAG) & IPV4_FRAG_OFFSET;
  }
  /** part of a fragmented datagram (MF set or a non-zero offset) */
  get isFragment(): boolean {
    return (this.u16(IPV4.FLAGS_FRAG) & (IPV4_MF | IPV4_FRAG_OFFSET)) !== 0;
  }
  get ttl(): number {
    return this.u8(IPV4.TTL);
  }
  get protocol(): number {
    return this.u8(IPV4.PROTOCOL);
  }
  get checksum(): number {
    return this.u16(IPV4.CHECKSUM);
  }
  get src(): number {
    return this.u32(IPV4.SRC);
  }
  get dst(): number {
    return this.u32(IPV4.DST);
  }
  get optionsLength(): number {
    return this.status === PKT_OK ? this.headerLength - IPV4.HEADER_LEN : 0;
  }
  /** the i-th byte of the options (0 ≤ i < optionsLength), 0 outside */
  option(i: number): number {
    return i >= 0 && i < this.optionsLength ? this.bytes[this.start + IPV4.HEADER_LEN + i] : 0;
  }
  /** bytes after the IP header (total length − IHL×4) */
  get payloadLength(): number {
    return this.status === PKT_OK ? this.totalLength - this.headerLength : 0;
  }
  /** true when the stored checksum verifies over the header */
  checksumOk(): boolean {
    return this.status === PKT_OK && internetChecksum(this.bytes, this.start, this.headerLength) === 0;
  }

  /** Rewrites the whole TOS byte and patches the checksum (RFC 1624). False when the header is not valid. */
  setTos(tos: number): boolean {
    if (this.status !== PKT_OK) return false;
    const b = this.bytes;
    const o = this.start;
    const oldWord = be16(b, o + IPV4.VER_IHL);
    b[o + IPV4.TOS] = tos & 0xff;
    const sum = checksumUpdate16(be16(b, o + IPV4.CHECKSUM), oldWord, be16(b, o + IPV4.VER_IHL));
    b[o + IPV4.CHECKSUM] = sum >> 8;
    b[o + IPV4.CHECKSUM + 1] = sum & 0xff;
    return true;
  }

  /** Rewrites the DSCP (6 bits), keeping the ECN bits, as ipv4_change_dsfield(mask 0x03). */
  setDscp(dscp: number): boolean {
    if (this.status !== PKT_OK) return false;
    return this.setTos(((dscp & 0x3f) << 2) | this.ecn);
  }
}
