/**
 * UDP header view (RFC 768) behind an IPv4 or IPv6 view: ports, length, checksum, payload length.
 * `reset(net)` needs a transport header (not a non-first fragment) with its 8 bytes present, and a
 * UDP length field between 8 and the IP payload length. Getters return 0 unless the status is PKT_OK.
 * Edge code (tests, tools), see view.ts.
 */
import { be16, UDP } from './fields';
import { type NetworkView, PKT_BAD_HEADER, PKT_OK, TransportHeaderView } from './view';

export class UdpView extends TransportHeaderView {
  reset(net: NetworkView): number {
    if (this.enter(net, UDP.HEADER_LEN) !== PKT_OK) return this.status;
    const l = be16(this.bytes, this.start + UDP.LENGTH);
    // IPv6 jumbograms use 0; anything else must fit what the IP layer carries
    if (l < UDP.HEADER_LEN || l > net.transportLength) return (this.status = PKT_BAD_HEADER);
    return this.status;
  }

  get sport(): number {
    return this.u16(UDP.SRC_PORT);
  }
  get dport(): number {
    return this.u16(UDP.DST_PORT);
  }
  get length(): number {
    return this.u16(UDP.LENGTH);
  }
  get checksum(): number {
    return this.u16(UDP.CHECKSUM);
  }
  get payloadLength(): number {
    return this.status === PKT_OK ? this.length - UDP.HEADER_LEN : 0;
  }
}
