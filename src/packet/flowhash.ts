/**
 * Flow hash: a keyed hash of a packet's flow identity (addresses, protocol, ports), as SFQ needs it.
 *
 * Linux's SFQ hashes the flow-dissector keys with SipHash and a random key (skb_get_hash_perturb);
 * on 32-bit machines the kernel's hsiphash is HalfSipHash-2-4, the 32-bit member of the SipHash family
 * (Aumasson & Bernstein). That is what this file computes: it needs only 32-bit integer operations,
 * so in JavaScript it runs on plain numbers, with no BigInt and no allocation.
 *
 * What is hashed (the flow identity, like the kernel's flow_keys):
 *  - IPv4: source, destination, protocol, and for TCP/UDP/UDP-Lite/SCTP/DCCP the two ports, read at
 *    the transport header (IHL × 4). Fragments carry no ports in the hash — not even the first one, as
 *    the kernel's dissector does without FLOW_DISSECTOR_F_PARSE_1ST_FRAG — so that every fragment of a
 *    datagram lands in the same flow and is never reordered against the others.
 *  - IPv6: source, destination, flow label, the final next header after hop-by-hop / routing /
 *    destination-options / fragment extension headers, and the ports as above (none for fragments).
 *  - Anything else (or a header cut short): the first bytes we can see, so garbage still spreads out.
 * The key is 64 bits (two 32-bit words). Output is 32 bits; SFQ masks it with (divisor − 1).
 *
 * Differences from Linux: Linux hashes a struct flow_keys (with VLAN, tunnel keys, ICMP ids);
 * tunqos sees only IP packets from a TUN, so the identity is the tuple above. Same properties: keyed,
 * uniform, a new key re-randomises which flows collide.
 * Reference: include/linux/siphash.h, lib/siphash.c (hsiphash), net/core/flow_dissector.c.
 */
import { type Arena, FLAG_HASHED } from './arena';

/** A 64-bit HalfSipHash key. */
export interface FlowKey {
  k0: number;
  k1: number;
}

/** A fresh key from a [0,1) random source (env.random()). */
export function randomFlowKey(random: () => number): FlowKey {
  return { k0: (random() * 4294967296) >>> 0, k1: (random() * 4294967296) >>> 0 };
}

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

/** the final block (message length in bytes in the top byte), 4 finalisation rounds */
function finish(nwords: number): number {
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
  return (v1 ^ v3) >>> 0;
}

function be32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** protocols whose first 4 transport bytes are source and destination port */
function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 136 || proto === 132 || proto === 33;
}

/** HalfSipHash-2-4 of the flow identity of packet `id` under `key`. Pure: stores nothing. */
export function computeFlowHash(arena: Arena, id: number, key: FlowKey): number {
  const b = arena.bytes;
  const o = arena.offset(id);
  const len = arena.len[id];
  begin(key);
  const version = len > 0 ? b[o] >> 4 : 0;
  if (version === 4 && len >= 20) {
    const ihl = (b[o] & 0x0f) * 4;
    const proto = b[o + 9];
    const frag = ((b[o + 6] << 8) | b[o + 7]) & 0x3fff; // MF flag + fragment offset
    word(be32(b, o + 12));
    word(be32(b, o + 16));
    word(proto);
    if (frag === 0 && hasPorts(proto) && ihl >= 20 && ihl + 4 <= len) {
      word(be32(b, o + ihl));
      return finish(4);
    }
    return finish(3);
  }
  if (version === 6 && len >= 40) {
    let nh = b[o + 6];
    let off = 40;
    let fragment = false;
    // Walk the common extension headers (at most a few; each is length-checked).
    for (let i = 0; i < 8; i++) {
      if (nh === 0 || nh === 43 || nh === 60) {
        if (off + 8 > len) break;
        const next = b[o + off];
        off += (b[o + off + 1] + 1) * 8;
        nh = next;
      } else if (nh === 44) {
        if (off + 8 > len) break;
        fragment = true;
        nh = b[o + off];
        off += 8;
      } else {
        break;
      }
    }
    for (let i = 8; i < 40; i += 4) word(be32(b, o + i)); // source and destination addresses
    word((be32(b, o) & 0x000fffff) | (nh << 24)); // flow label and final next header
    if (!fragment && hasPorts(nh) && off + 4 <= len) {
      word(be32(b, o + off));
      return finish(10);
    }
    return finish(9);
  }
  // Not a packet we can parse: hash what there is (up to 16 bytes), so it still spreads.
  let n = 0;
  for (let i = 0; i + 4 <= len && i < 16; i += 4) {
    word(be32(b, o + i));
    n++;
  }
  word(len);
  return finish(n + 1);
}

/** The process-wide key for cached flow hashes (drawn once at start-up). */
export const DEFAULT_FLOW_KEY: FlowKey = randomFlowKey(Math.random);

/**
 * The packet's flow hash under the process-wide key, cached in arena.flowHash (FLAG_HASHED) so that
 * every consumer after the first reads it for free.
 */
export function flowHash(arena: Arena, id: number): number {
  if ((arena.flags[id] & FLAG_HASHED) !== 0) return arena.flowHash[id];
  const h = computeFlowHash(arena, id, DEFAULT_FLOW_KEY);
  arena.flowHash[id] = h;
  arena.flags[id] |= FLAG_HASHED;
  return h;
}
