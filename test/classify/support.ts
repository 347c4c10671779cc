/** Classification tests: filters built from tc lines, packets from the one builder (src/packet/synth.ts). */
import { Arena, FLAG_IPV4, FLAG_IPV6 } from '../../src/packet/arena';
import { preparePacket } from '../../src/packet/prepare';
import { createQdiscEnv } from '../../src/qdisc/env';
import { parseFilterCommand } from '../../src/tc/filter-command';
import { FilterSet } from '../../src/tc/filter-set';
import type { ParseContext } from '../../src/tc/kinds';
import { Args } from '../../src/tc/tokens';
import { lineTokens } from '../support/tokens';
import { seededRandom } from '../../src/qdisc/env';
import { type PacketSpec, synthPacket } from '../../src/packet/synth';

export function filters(arena: Arena, lines: string[], warnings: string[] = []): FilterSet {
  const ctx: ParseContext = { env: createQdiscEnv(arena, seededRandom(1)), warn: (m) => warnings.push(m) };
  const set = new FilterSet(arena);
  lines.forEach((l, i) => {
    const t = lineTokens(l.replace(/^tc\s+/, ''), 'test.tc', i + 1);
    if (t[0].text !== 'filter') throw new Error('not a filter line');
    set.apply(parseFilterCommand(t[1].text, new Args(t.slice(2), t[1]), ctx), ctx);
  });
  return set;
}

/** puts raw bytes into a slot and runs the first validation (flags) */
export function slot(arena: Arena, bytes: Uint8Array): number {
  const id = arena.allocFrom(bytes);
  if (id < 0) throw new Error('arena full');
  preparePacket(arena, id);
  if (arena.flags[id] === 0 && bytes.length > 0) arena.flags[id] = bytes[0] >> 4 === 6 ? FLAG_IPV6 : bytes[0] >> 4 === 4 ? FLAG_IPV4 : 0;
  return id;
}

/** The classify tests' packets: TCP with ACK set to port 80, exactly as long as its headers plus `payload`. */
export function ipv4(p: PacketSpec): Uint8Array {
  return synthPacket({ proto: 6, dport: 80, tcpFlags: 0x10, payload: 0, ...p });
}

/** The filters `lines` build, as the chain of `parent` (1: by default), and `r(p)`: the verdict for an ipv4(p) packet. */
export function u32Chain(lines: string[], slots = 16, parent = 0x10000, warnings: string[] = []) {
  const a = new Arena(slots);
  const c = filters(a, lines, warnings).chainFor(parent)!;
  return { a, c, r: (p: PacketSpec): number => c.classify(slot(a, ipv4(p)), 0) };
}
