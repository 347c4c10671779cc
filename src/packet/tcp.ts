/**
 * TCP header view (RFC 9293) behind an IPv4 or IPv6 view: ports, sequence and acknowledgement
 * numbers, data offset, flags, window, payload length, and `isPureAck` (ACK set, no SYN/FIN/RST, no
 * payload: the packets wondershaper-style rules prioritise so that uploads don't starve downloads).
 *
 * `reset(net)` validates against what the network layer says is there: a transport header must exist
 * (not a non-first fragment, see PKT_NO_TRANSPORT), 20 bytes must be present, and the data offset
 * must be >= 5 words and fit in the IP payload. Getters return 0 unless the status is PKT_OK.
 * Reference: include/uapi/linux/tcp.h.
 */
import { PKT_BAD_HEADER, PKT_NO_TRANSPORT, PKT_OK, PKT_TRUNCATED, type NetworkView } from './ipv4';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export class TcpView {
  readonly bytes: Uint8Array;
  status = PKT_NO_TRANSPORT;
  /** offset of the TCP header in `bytes` */
  start = 0;
  /** bytes of TCP header + payload */
  segmentLength = 0;
  /** header length in bytes (data offset × 4) */
  headerLength = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  reset(net: NetworkView): number {
    this.headerLength = 0;
    this.segmentLength = 0;
    if (net.status !== PKT_OK) return (this.status = net.status);
    if (net.transportOffset < 0) return (this.status = PKT_NO_TRANSPORT);
    this.start = net.base + net.transportOffset;
    const seg = net.transportLength;
    if (seg < 20) return (this.status = PKT_TRUNCATED);
    const hl = (this.bytes[this.start + 12] >> 4) << 2;
    if (hl < 20) return (this.status = PKT_BAD_HEADER);
    if (hl > seg) return (this.status = PKT_TRUNCATED);
    this.segmentLength = seg;
    this.headerLength = hl;
    return (this.status = PKT_OK);
  }

  private u16(off: number): number {
    return this.status === PKT_OK ? (this.bytes[this.start + off] << 8) | this.bytes[this.start + off + 1] : 0;
  }
  private u32(off: number): number {
    if (this.status !== PKT_OK) return 0;
    const b = this.bytes;
    const o = this.start + off;
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  get sport(): number {
    return this.u16(0);
  }
  get dport(): number {
    return this.u16(2);
  }
  get seq(): number {
    return this.u32(4);
  }
  get ack(): number {
    return this.u32(8);
  }
  /** data offset in 32-bit words */
  get dataOffset(): number {
    return this.headerLength >> 2;
  }
  get flags(): number {
    return this.status === PKT_OK ? this.bytes[this.start + 13] : 0;
  }
  get window(): number {
    return this.u16(14);
  }
  get checksum(): number {
    return this.u16(16);
  }
  get payloadLength(): number {
    return this.segmentLength - this.headerLength;
  }
  /** ACK without SYN, FIN or RST, and no payload */
  get isPureAck(): boolean {
    const f = this.flags;
    return this.status === PKT_OK && (f & TCP_ACK) !== 0 && (f & (TCP_SYN | TCP_FIN | TCP_RST)) === 0 && this.payloadLength === 0;
  }
}
