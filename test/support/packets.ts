/**
 * Building packets for tests: a minimal but valid IPv4/UDP or IPv4/TCP packet of a given size, with
 * chosen addresses, ports and TOS, written straight into an arena slot.
 */
import type { Arena } from '../../src/packet/arena';

export interface PacketSpec {
  size?: number; // total IP length in bytes (default 100)
  src?: number; // IPv4 address as a 32-bit number
  dst?: number;
  proto?: number; // 6 TCP, 17 UDP (default), 1 ICMP
  sport?: number;
  dport?: number;
  tos?: number;
}

export const ip = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

export function ipv4Bytes(spec: PacketSpec = {}): Uint8Array {
  const size = spec.size ?? 100;
  const proto = spec.proto ?? 17;
  const p = new Uint8Array(size);
  const dv = new DataView(p.buffer);
  p[0] = 0x45;
  p[1] = spec.tos ?? 0;
  dv.setUint16(2, size);
  p[8] = 64;
  p[9] = proto;
  dv.setUint32(12, spec.src ?? ip(10, 0, 0, 1));
  dv.setUint32(16, spec.dst ?? ip(10, 0, 1, 1));
  if (size >= 24) {
    dv.setUint16(20, spec.sport ?? 1234);
    dv.setUint16(22, spec.dport ?? 5201);
  }
  if (proto === 6 && size >= 40) p[32] = 0x50; // TCP data offset 5
  if (proto === 17 && size >= 28) dv.setUint16(24, size - 20);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += dv.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  dv.setUint16(10, ~sum & 0xffff);
  return p;
}

/** allocates a slot holding such a packet; throws when the arena is full */
export function makePacket(arena: Arena, spec: PacketSpec = {}): number {
  const id = arena.allocFrom(ipv4Bytes(spec));
  if (id < 0) throw new Error('test arena is full');
  return id;
}
