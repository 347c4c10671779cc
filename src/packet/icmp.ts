/**
 * ICMP / ICMPv6 header view: type, code, checksum (the 4 bytes every ICMP message starts with).
 * `reset(net)` needs a transport header (not a non-first fragment) with 4 bytes present.
 */
import { PKT_NO_TRANSPORT, PKT_OK, PKT_TRUNCATED, type NetworkView } from './ipv4';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO = 8;

export class IcmpView {
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
    if (net.transportLength < 4) return (this.status = PKT_TRUNCATED);
    return (this.status = PKT_OK);
  }

  get type(): number {
    return this.status === PKT_OK ? this.bytes[this.start] : 0;
  }
  get code(): number {
    return this.status === PKT_OK ? this.bytes[this.start + 1] : 0;
  }
  get checksum(): number {
    return this.status === PKT_OK ? (this.bytes[this.start + 2] << 8) | this.bytes[this.start + 3] : 0;
  }
}
