/** Builds a FilterSet from tc lines for classification tests. */
import { Arena, FLAG_IPV4, FLAG_IPV6 } from '../../src/packet/arena';
import { preparePacket } from '../../src/packet/prepare';
import { createQdiscEnv } from '../../src/qdisc/env';
import { FilterSet, parseFilterCommand } from '../../src/tc/filter';
import type { ParseContext } from '../../src/tc/kinds';
import { Args, type Token } from '../../src/tc/tokens';
import { seededRandom } from '../../src/qdisc/env';
import { type PacketSpec, synthPacket } from '../../src/packet/synth';

export function toks(line: string, lineNo = 1): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push({ text: m[0], file: 'test.tc', line: lineNo, col: m.index + 1 });
  return out;
}

export function filters(arena: Arena, lines: string[], warnings: string[] = []): FilterSet {
  const ctx: ParseContext = { env: createQdiscEnv(arena, seededRandom(1)), warn: (m) => warnings.push(m) };
  const set = new FilterSet(arena);
  lines.forEach((l, i) => {
    const t = toks(l.replace(/^tc\s+/, ''), i + 1);
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
