/**
 * One line about a packet, for people (`tunqos classify`): `tcp 10.0.0.1:1234 > 10.0.1.1:80 len 60
 * tos 0x00`, `icmp A > B type 8 code 0 len 84 tos 0x00`, `udp6 A:53 > B:443 len 48`, `not IP (3 bytes)`.
 *
 * Edge code. It reads through the same field tables as preparePacket and the views (fields.ts), but
 * leniently on purpose: it prints what the bytes say even for a header preparePacket would refuse,
 * so that a capture cut short by tcpdump's snaplen (total length beyond the captured bytes) still
 * shows its addresses and ports. Only what it reads must be inside the buffer: it needs the fixed
 * IPv4 (20) or IPv6 (40) header, and prints ports only when they were captured.
 */
import { be16, ICMP, IPPROTO, IPV4, IPV4_FRAG_OFFSET, IPV6, TCP } from './fields';

function ipv4Text(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** eight hex words, the first run of two or more zero words written `::` */
function ipv6Text(b: Uint8Array, o: number): string {
  const w: string[] = [];
  for (let i = 0; i < 16; i += 2) w.push(be16(b, o + i).toString(16));
  return w.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

function summarizeIpv4(b: Uint8Array): string {
  const ihl = (b[IPV4.VER_IHL] & 0x0f) * 4;
  const proto = b[IPV4.PROTOCOL];
  const src = ipv4Text(b, IPV4.SRC);
  const dst = ipv4Text(b, IPV4.DST);
  const tail = `len ${be16(b, IPV4.LENGTH)} tos 0x${b[IPV4.TOS].toString(16).padStart(2, '0')}`;
  const firstFragment = (be16(b, IPV4.FLAGS_FRAG) & IPV4_FRAG_OFFSET) === 0;
  if ((proto === IPPROTO.TCP || proto === IPPROTO.UDP) && firstFragment && b.length >= ihl + 4) {
    const name = proto === IPPROTO.TCP ? 'tcp' : 'udp';
    return `${name} ${src}:${be16(b, ihl + TCP.SRC_PORT)} > ${dst}:${be16(b, ihl + TCP.DST_PORT)} ${tail}`;
  }
  if (proto === IPPROTO.ICMP && b.length >= ihl + 2) return `icmp ${src} > ${dst} type ${b[ihl + ICMP.TYPE]} code ${b[ihl + ICMP.CODE]} ${tail}`;
  return `ip proto ${proto} ${src} > ${dst} ${tail}`;
}

function summarizeIpv6(b: Uint8Array): string {
  const nh = b[IPV6.NEXT_HEADER];
  const t = IPV6.HEADER_LEN;
  const ported = (nh === IPPROTO.TCP || nh === IPPROTO.UDP) && b.length >= t + 4;
  const sport = ported ? `:${be16(b, t + TCP.SRC_PORT)}` : '';
  const dport = ported ? `:${be16(b, t + TCP.DST_PORT)}` : '';
  const name = nh === IPPROTO.TCP ? 'tcp6' : nh === IPPROTO.UDP ? 'udp6' : `ip6 nh ${nh}`;
  return `${name} ${ipv6Text(b, IPV6.SRC)}${sport} > ${ipv6Text(b, IPV6.DST)}${dport} len ${IPV6.HEADER_LEN + be16(b, IPV6.LENGTH)}`;
}

/** A one-line description of the packet `b` (from the IP header on). */
export function summarize(b: Uint8Array): string {
  if (b.length < 1) return 'empty packet';
  const v = b[IPV4.VER_IHL] >> 4;
  if (v === 4 && b.length >= IPV4.HEADER_LEN) return summarizeIpv4(b);
  if (v === 6 && b.length >= IPV6.HEADER_LEN) return summarizeIpv6(b);
  return `not IP (${b.length} bytes)`;
}
