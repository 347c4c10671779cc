/**
 * The packet builder: valid IPv4 or IPv6 packets carrying UDP, TCP or ICMP, with correct checksums
 * (the IPv4 header checksum, and the transport checksum over the RFC 768/9293 pseudo header, or over
 * the message for ICMPv4), laid out through the field tables of src/packet/fields.ts. Tests, the
 * benchmarks and the JIT warm-up (src/runtime/warmup.ts) all build their traffic here, as
 * wireguard-go's tuntest gives every caller one `Ping()` builder.
 *
 * Edge code: each call allocates the packet it returns; the data path never builds packets.
 *
 * Defaults: IPv4, UDP, 10.0.0.1:1234 → 10.0.1.1:5201, TOS 0, TTL 64, 100 octets in all (unless
 * `payload` is given: then the headers plus that many octets). TCP gets a 20-octet header with
 * `tcpFlags` (none by default); ICMP an echo request header (type 8 / 128, id 0, sequence 0).
 * A `size` smaller than the headers cuts them off there, the IP length field still saying `size`
 * (for tests of truncated and odd packets).
 */
import type { Arena } from './arena';
import { internetChecksum } from './checksum';
import { preparePacket } from './prepare';
import { ICMP, ICMP_TYPE, IPPROTO, IPV4, IPV4_DF, IPV4_FRAG_OFFSET, IPV4_MF, IPV6, TCP, UDP } from './fields';

export interface PacketSpec {
  /** 4 (default) or 6 */
  version?: 4 | 6;
  /** IPv4 protocol / IPv6 next header: UDP 17 (default), TCP 6, ICMP 1, ICMPv6 58; any other gets no transport header */
  proto?: number;
  /** total length in octets, IP header included (default 100, see `payload`) */
  size?: number;
  /** octets after the transport header; when given without `size`, the packet is exactly that long */
  payload?: number;
  /** IPv4 addresses as unsigned 32-bit numbers (ipv4Addr) */
  src?: number;
  dst?: number;
  /** IPv6 addresses as four 32-bit words, most significant first (default 2001:db8::1 → 2001:db8::2) */
  src6?: readonly number[];
  dst6?: readonly number[];
  /** IPv4 TOS byte / IPv6 traffic class (DSCP << 2 | ECN) */
  tos?: number;
  /** IPv6 flow label (20 bits) */
  flowLabel?: number;
  /** TTL / hop limit (default 64) */
  ttl?: number;
  /** octets of IPv4 options (a multiple of 4, up to 40), filled with NOP */
  options?: number;
  /** IPv4 flags and fragment offset (in 8-octet units) */
  df?: boolean;
  mf?: boolean;
  fragOffset?: number;
  /** TCP / UDP ports (default 1234 → 5201) */
  sport?: number;
  dport?: number;
  /** the TCP flags byte (TCP_FLAG bits; default 0) */
  tcpFlags?: number;
  /** ICMP type and code (default echo request, code 0) */
  icmpType?: number;
  icmpCode?: number;
}

const DEFAULT_SIZE = 100;
const DEFAULT_SRC6 = [0x20010db8, 0, 0, 1];
const DEFAULT_DST6 = [0x20010db8, 0, 0, 2];
const IPOPT_NOP = 1;

/** a.b.c.d as the unsigned 32-bit number the IPv4 header carries */
export const ipv4Addr = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

function transportLength(proto: number): number {
  if (proto === IPPROTO.TCP) return TCP.HEADER_LEN;
  if (proto === IPPROTO.UDP) return UDP.HEADER_LEN;
  if (proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6) return ICMP.ECHO_LEN;
  return 0;
}

/** Builds the packet `spec` describes (a fresh Uint8Array). */
export function synthPacket(spec: PacketSpec = {}): Uint8Array {
  const v6 = spec.version === 6;
  const proto = spec.proto ?? IPPROTO.UDP;
  const ipLen = v6 ? IPV6.HEADER_LEN : IPV4.HEADER_LEN + (spec.options ?? 0);
  const headers = ipLen + transportLength(proto);
  const size = spec.size ?? (spec.payload !== undefined ? headers + spec.payload : DEFAULT_SIZE);
  // build at least the whole headers (so the checksums are right), then cut to `size`
  const p = new Uint8Array(Math.max(size, headers));
  const dv = new DataView(p.buffer);
  if (v6) {
    dv.setUint32(IPV6.VER_TC_FLOW, ((6 << 28) | (((spec.tos ?? 0) & 0xff) << 20) | ((spec.flowLabel ?? 0) & 0xfffff)) >>> 0);
    dv.setUint16(IPV6.LENGTH, Math.max(0, size - IPV6.HEADER_LEN));
    p[IPV6.NEXT_HEADER] = proto;
    p[IPV6.HOP_LIMIT] = spec.ttl ?? 64;
    const src = spec.src6 ?? DEFAULT_SRC6;
    const dst = spec.dst6 ?? DEFAULT_DST6;
    for (let i = 0; i < 4; i++) {
      dv.setUint32(IPV6.SRC + 4 * i, src[i] >>> 0);
      dv.setUint32(IPV6.DST + 4 * i, dst[i] >>> 0);
    }
  } else {
    p[IPV4.VER_IHL] = 0x40 | (ipLen >> 2);
    p[IPV4.TOS] = spec.tos ?? 0;
    dv.setUint16(IPV4.LENGTH, size);
    dv.setUint16(IPV4.FLAGS_FRAG, (spec.df ? IPV4_DF : 0) | (spec.mf ? IPV4_MF : 0) | ((spec.fragOffset ?? 0) & IPV4_FRAG_OFFSET));
    p[IPV4.TTL] = spec.ttl ?? 64;
    p[IPV4.PROTOCOL] = proto;
    dv.setUint32(IPV4.SRC, spec.src ?? ipv4Addr(10, 0, 0, 1));
    dv.setUint32(IPV4.DST, spec.dst ?? ipv4Addr(10, 0, 1, 1));
    p.fill(IPOPT_NOP, IPV4.HEADER_LEN, ipLen);
  }
  writeTransport(p, dv, ipLen, size, proto, spec);
  if (!v6) dv.setUint16(IPV4.CHECKSUM, internetChecksum(p, 0, ipLen));
  return size < p.length ? p.slice(0, size) : p;
}

function writeTransport(p: Uint8Array, dv: DataView, t: number, size: number, proto: number, spec: PacketSpec): void {
  const segment = Math.max(0, size - t);
  if (proto === IPPROTO.TCP || proto === IPPROTO.UDP) {
    dv.setUint16(t + TCP.SRC_PORT, spec.sport ?? 1234);
    dv.setUint16(t + TCP.DST_PORT, spec.dport ?? 5201);
  }
  let sumAt = -1;
  if (proto === IPPROTO.TCP) {
    p[t + TCP.DATA_OFF] = (TCP.HEADER_LEN >> 2) << 4;
    p[t + TCP.FLAGS] = spec.tcpFlags ?? 0;
    sumAt = t + TCP.CHECKSUM;
  } else if (proto === IPPROTO.UDP) {
    dv.setUint16(t + UDP.LENGTH, segment);
    sumAt = t + UDP.CHECKSUM;
  } else if (proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6) {
    p[t + ICMP.TYPE] = spec.icmpType ?? (proto === IPPROTO.ICMP ? ICMP_TYPE.ECHO : ICMP_TYPE.V6_ECHO);
    p[t + ICMP.CODE] = spec.icmpCode ?? 0;
    sumAt = t + ICMP.CHECKSUM;
  }
  if (sumAt < 0 || segment < transportLength(proto)) return; // cut off: no checksum to compute
  const covered = withPseudoHeader(p, t, segment, proto);
  let sum = internetChecksum(covered, 0, covered.length);
  if (proto === IPPROTO.UDP && sum === 0) sum = 0xffff; // RFC 768: 0 means "no checksum"
  dv.setUint16(sumAt, sum);
}

/**
 * The octets the transport checksum covers: the pseudo header (RFC 768, RFC 9293 §3.1, RFC 8200
 * §8.1) then the segment; ICMPv4 has no pseudo header.
 */
function withPseudoHeader(p: Uint8Array, t: number, segment: number, proto: number): Uint8Array {
  const v6 = p[0] >> 4 === 6;
  const pseudo = v6 ? 40 : proto === IPPROTO.ICMP ? 0 : 12;
  const out = new Uint8Array(pseudo + segment);
  const dv = new DataView(out.buffer);
  if (v6) {
    out.set(p.subarray(IPV6.SRC, IPV6.HEADER_LEN), 0);
    dv.setUint32(32, segment);
    out[39] = proto;
  } else if (pseudo > 0) {
    out.set(p.subarray(IPV4.SRC, IPV4.DST + 4), 0);
    out[9] = proto;
    dv.setUint16(10, segment);
  }
  out.set(p.subarray(t, t + segment), pseudo);
  return out;
}

/**
 * Copies the packet `spec` describes into a fresh arena slot and runs preparePacket on it, as the
 * forwarder does with what it reads, so qdiscs and classifiers see the columns they rely on.
 * Throws when the arena is full (setup code: tests and benchmarks).
 */
export function allocPacket(arena: Arena, spec: PacketSpec = {}): number {
  const id = arena.allocFrom(synthPacket(spec));
  if (id < 0) throw new Error('arena is full (or the packet is larger than a slot)');
  preparePacket(arena, id);
  return id;
}
