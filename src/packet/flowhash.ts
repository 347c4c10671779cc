/**
 * Flow hash: a keyed hash of a packet's flow identity (addresses, protocol, ports), as SFQ needs it.
 *
 * Linux's SFQ hashes the flow-dissector keys with SipHash and a random key (skb_get_hash_perturb);
 * on 32-bit machines the kernel's hsiphash is HalfSipHash-2-4, the 32-bit member of the SipHash family
 * (Aumasson & Bernstein). That is what this file computes: it needs only 32-bit integer operations,
 * so in JavaScript it runs on plain numbers, with no BigInt and no allocation.
 *
 * What is hashed (the flow identity, like the kernel's flow_keys). The headers are not parsed
 * here: preparePacket already found the L3 kind, the transport offset and protocol and the fragment
 * state, and the arena's columns say so.
 *  - IPv4: source, destination, protocol, and for TCP/UDP/UDP-Lite/SCTP/DCCP the two ports, read at
 *    the transport header (l4off = IHL × 4). Fragments carry no ports in the hash — not even the first
 *    one, as the kernel's dissector does without FLOW_DISSECTOR_F_PARSE_1ST_FRAG — so that every
 *    fragment of a datagram lands in the same flow and is never reordered against the others.
 *  - IPv6: source, destination, flow label, the final next header after hop-by-hop / routing /
 *    destination-options / fragment extension headers (l4proto), and the ports as above (none for
 *    fragments).
 *  - Anything else (a packet preparePacket did not accept: tests only): the first bytes we can see.
 * The key is 64 bits (two 32-bit words). Output is 32 bits; SFQ masks it with (divisor − 1).
 *
 * Differences from Linux: Linux hashes a struct flow_keys (with VLAN, tunnel keys, ICMP ids);
 * tunqos sees only IP packets from a TUN, so the identity is the tuple above. Same properties: keyed,
 * uniform, a new key re-randomises which flows collide.
 * Reference: include/linux/siphash.h, lib/siphash.c (hsiphash), net/core/flow_dissector.c.
 */
import { type Arena, FLAG_HASHED, FLAG_IPV4, FLAG_IPV6, FRAG_NONE } from './arena';
import { be32, IPPROTO, IPV4, IPV6 } from './fields';

/** A 64-bit HalfSipHash key. */
export interface FlowKey {
  k0: number;
  k1: number;
}

/** A fresh key from a [0,1) random source (env.random()). */
export function randomFlowKey(random: () => number): FlowKey {
  return { k0: (random() * 4294967296) >>> 0, k1: (random() * 4294967296) >>> 0 };
}

// The hash leaves finish() and hashFlow() through this array, not as a return value: a uint32 above
// 2^30 returned from a function V8 does not inline is boxed as a fresh HeapNumber. On the packet path
// it goes on into the arena's flowHash column (storeFlowHash), so that no 32-bit hash ever crosses a
// call boundary as a number; computeFlowHash returns it, for tests and tools.
const result = new Uint32Array(1);

// HalfSipHash state. Module-level so that the per-packet path allocates nothing; the hash is
// computed start to finish inside one call, so nothing can interleave.
let v0 = 0;
let v1 = 0;
let v2 = 0;
let v3 = 0;

function sipRound(): void {
  v0 = (v0 + v1) | 0;
  v1 = (v1 << 5) | (v1 >>> 27);
  v1 ^= v0;
  v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0;
  v3 = (v3 << 8) | (v3 >>> 24);
  v3 ^= v2;
  v0 = (v0 + v3) | 0;
  v3 = (v3 << 7) | (v3 >>> 25);
  v3 ^= v0;
  v2 = (v2 + v1) | 0;
  v1 = (v1 << 13) | (v1 >>> 19);
  v1 ^= v2;
  v2 = (v2 << 16) | (v2 >>> 16);
}

function begin(key: FlowKey): void {
  v0 = key.k0 | 0;
  v1 = key.k1 | 0;
  v2 = 0x6c796765 ^ key.k0;
  v3 = 0x74656462 ^ key.k1;
}

/** absorbs one 32-bit message word (2 compression rounds) */
function word(m: number): void {
  v3 ^= m;
  sipRound();
  sipRound();
  v0 ^= m;
}

/** the final block (message length in bytes in the top byte), 4 finalisation rounds; the hash goes to result[0] */
function finish(nwords: number): void {
  const b = (nwords * 4) << 24;
  v3 ^= b;
  sipRound();
  sipRound();
  v0 ^= b;
  v2 ^= 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  result[0] = v1 ^ v3;
}

/** protocols whose first 4 transport bytes are source and destination port */
function hasPorts(proto: number): boolean {
  return proto === IPPROTO.TCP || proto === IPPROTO.UDP || proto === IPPROTO.UDPLITE || proto === IPPROTO.SCTP || proto === IPPROTO.DCCP;
}

/**
 * Ends the hash of `nwords` words, adding the ports word first when there is one: a transport with
 * ports, not a fragment, and its 4 bytes present.
 */
function finishWithPorts(arena: Arena, id: number, nwords: number): void {
  const l4 = arena.l4off[id];
  if (arena.frag[id] !== FRAG_NONE || !hasPorts(arena.l4proto[id]) || l4 < 0 || l4 + 4 > arena.len[id]) {
    finish(nwords);
    return;
  }
  word(be32(arena.bytes, arena.offset(id) + l4));
  finish(nwords + 1);
}

/** HalfSipHash-2-4 of the flow identity of packet `id` under `key`. Pure: changes nothing in the arena. */
export function computeFlowHash(arena: Arena, id: number, key: FlowKey): number {
  hashFlow(arena, id, key);
  return result[0];
}

/**
 * The packet path's form (SFQ): hashes packet `id` under `key`, records the hash in the arena
 * (flowHash[id], FLAG_HASHED) and returns `hash & mask` (mask = buckets − 1 < 2^30). What it returns
 * is a small integer, so nothing is boxed whether or not V8 inlines the call; bench/memory.ts showed
 * 4 to 8 bytes a packet under SFQ in the runs where a returned 32-bit hash was not inlined.
 */
export function storeFlowHash(arena: Arena, id: number, key: FlowKey, mask: number): number {
  hashFlow(arena, id, key);
  const h = result[0];
  arena.flowHash[id] = h;
  arena.flags[id] |= FLAG_HASHED;
  return h & mask;
}

function hashFlow(arena: Arena, id: number, key: FlowKey): void {
  const b = arena.bytes;
  const o = arena.offset(id);
  const len = arena.len[id];
  const flags = arena.flags[id];
  begin(key);
  if ((flags & FLAG_IPV4) !== 0) {
    word(be32(b, o + IPV4.SRC));
    word(be32(b, o + IPV4.DST));
    word(arena.l4proto[id]);
    finishWithPorts(arena, id, 3);
    return;
  }
  if ((flags & FLAG_IPV6) !== 0) {
    for (let i = IPV6.SRC; i < IPV6.HEADER_LEN; i += 4) word(be32(b, o + i)); // source and destination addresses
    word((be32(b, o + IPV6.VER_TC_FLOW) & 0x000fffff) | (arena.l4proto[id] << 24)); // flow label and final next header
    finishWithPorts(arena, id, 9);
    return;
  }
  // Not a packet we can parse: hash what there is (up to 16 bytes), so it still spreads.
  let n = 0;
  for (let i = 0; i + 4 <= len && i < 16; i += 4) {
    word(be32(b, o + i));
    n++;
  }
  word(len);
  finish(n + 1);
}
