/**
 * UDP header view (RFC 768) behind an IPv4 or IPv6 view: ports, length, checksum, payload length.
 * `reset(net)` needs a transport header (not a non-first fragment) with its 8 bytes present, and a
 * UDP length field between 8 and the IP payload length. Getters return 0 unless the status is PKT_OK.
 */
import { PKT_BAD_HEADER, PKT_NO_TRANSPORT, PKT_OK, PKT_TRUNCATED, type NetworkView } from './ipv4';

export class UdpView {
  readonly bytes: Uint8Array;
  status = PKT_NO_TRANSPORT;
  start = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  reset(net: NetworkView): number {
    if (net.status !== PKT_OK) return (this.status = net.status);
    if (net.transportOffset < 0) return (this.status = PKT_NO_TRANSPORT);
    this.start = net.base + net.transportOffset;
    if (net.transportLength < 8) return (this.status = PKT_TRUNCATED);
    const l = (this.bytes[this.start + 4] << 8) | this.bytes[this.start + 5];
    // IPv6 jumbograms use 0; anything else must fit what the IP layer carries
    if (l < 8 || l > net.transportLength) return (this.status = PKT_BAD_HEADER);
    return (this.status = PKT_OK);
  }

  private u16(off: number): number {
    return this.status === PKT_OK ? (this.bytes[this.start + off] << 8) | this.bytes[this.start + off + 1] : 0;
  }
  get sport(): number {
    return this.u16(0);
  }
  get dport(): number {
    return this.u16(2);
  }
  get length(): number {
    return this.u16(4);
  }
  get checksum(): number {
    return this.u16(6);
  }
  get payloadLength(): number {
    return this.status === PKT_OK ? this.length - 8 : 0;
  }
}
