/**
 * TCP header view (RFC 9293) behind an IPv4 or IPv6 view: ports, sequence and acknowledgement
 * numbers, data offset, flags (TCP_FLAG in fields.ts), window, payload length, and `isPureAck` (ACK
 * set, no SYN/FIN/RST, no payload: the packets wondershaper-style rules prioritise so that uploads
 * don't starve downloads). Edge code (tests, tools), see view.ts.
 *
 * `reset(net)` validates against what the network layer says is there: a transport header must exist
 * (not a non-first fragment, see PKT_NO_TRANSPORT), 20 bytes must be present, and the data offset
 * must be >= 5 words and fit in the IP payload. Getters return 0 unless the status is PKT_OK.
 * Reference: include/uapi/linux/tcp.h.
 */
import { TCP, TCP_FLAG } from './fields';
import { type NetworkView, PKT_BAD_HEADER, PKT_OK, PKT_TRUNCATED, TransportHeaderView } from './view';

export class TcpView extends TransportHeaderView {
  /** bytes of TCP header + payload */
  segmentLength = 0;
  /** header length in bytes (data offset × 4) */
  headerLength = 0;

  reset(net: NetworkView): number {
    this.headerLength = 0;
    this.segmentLength = 0;
    if (this.enter(net, TCP.HEADER_LEN) !== PKT_OK) return this.status;
    const seg = net.transportLength;
    const hl = (this.bytes[this.start + TCP.DATA_OFF] >> 4) << 2;
    if (hl < TCP.HEADER_LEN) return (this.status = PKT_BAD_HEADER);
    if (hl > seg) return (this.status = PKT_TRUNCATED);
    this.segmentLength = seg;
    this.headerLength = hl;
    return this.status;
  }

  get sport(): number {
    return this.u16(TCP.SRC_PORT);
  }
  get dport(): number {
    return this.u16(TCP.DST_PORT);
  }
  get seq(): number {
    return this.u32(TCP.SEQ);
  }
  get ack(): number {
    return this.u32(TCP.ACK);
  }
  /** data offset in 32-bit words */
  get dataOffset(): number {
    return this.headerLength >> 2;
  }
  get flags(): number {
    return this.u8(TCP.FLAGS);
  }
  get window(): number {
    return this.u16(TCP.WINDOW);
  }
  get checksum(): number {
    return this.u16(TCP.CHECKSUM);
  }
  get payloadLength(): number {
    return this.segmentLength - this.headerLength;
  }
  /** ACK without SYN, FIN or RST, and no payload */
  get isPureAck(): boolean {
    const f = this.flags;
    return this.status === PKT_OK && (f & TCP_FLAG.ACK) !== 0 && (f & (TCP_FLAG.SYN | TCP_FLAG.FIN | TCP_FLAG.RST)) === 0 && this.payloadLength === 0;
  }
}
