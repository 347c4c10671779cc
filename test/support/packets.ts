/**
 * The tests' names for the one packet builder, src/packet/synth.ts (benchmarks and the warm-up use it
 * directly): `ipv4Bytes` builds the bytes, `makePacket` puts them in a prepared arena slot.
 */
export { synthPacket as ipv4Bytes, allocPacket as makePacket, ipv4Addr as ip, type PacketSpec } from '../../src/packet/synth';
