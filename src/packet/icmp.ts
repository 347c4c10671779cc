/**
 * ICMP / ICMPv6 header view: type, code, checksum (the 4 bytes every ICMP message starts with; the
 * types tunqos names are ICMP_TYPE in fields.ts). `reset(net)` needs a transport header (not a
 * non-first fragment) with 4 bytes present. Edge code (tests, tools), see view.ts.
 */
import { ICMP } from './fields';
import { type NetworkView, TransportHeaderView } from './view';

export class IcmpView extends TransportHeaderView {
  reset(net: NetworkView): number {
    return this.enter(net, ICMP.HEADER_LEN);
  }

  get type(): number {
    return this.u8(ICMP.TYPE);
  }
  get code(): number {
    return this.u8(ICMP.CODE);
  }
  get checksum(): number {
    return this.u16(ICMP.CHECKSUM);
  }
}
