/** Builds a FilterSet from tc lines for classification tests. */
import { Arena, FLAG_IPV4, FLAG_IPV6 } from '../../src/packet/arena';
import { preparePacket } from '../../src/packet/prepare';
import { createQdiscEnv } from '../../src/qdisc/env';
import { parseFilterCommand } from '../../src/tc/filter-command';
import { FilterSet } from '../../src/tc/filter-set';
import type { ParseContext } from '../../src/tc/kinds';
import { Args } from '../../src/tc/tokens';
import { lineTokens } from '../support/tokens';
import { seededRandom } from '../../src/qdisc/env';

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

export interface Pkt {
  proto?: number;
  src?: number;
  dst?: number;
  sport?: number;
  dport?: number;
  tos?: number;
  ttl?: number;
  options?: number; // bytes of IP options (multiple of 4)
  payload?: number;
  tcpFlags?: number;
  frag?: number; // raw flags+offset word
}

/** An IPv4 packet with optional IP options, TCP (20-byte header) / UDP / ICMP. */
export function ipv4(p: Pkt): Uint8Array {
  const opt = p.options ?? 0;
  const hl = 20 + opt;
  const proto = p.proto ?? 6;
  const th = proto === 6 ? 20 : proto === 17 ? 8 : 8;
  const total = hl + th + (p.payload ?? 0);
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  b[0] = 0x40 | (hl >> 2);
  b[1] = p.tos ?? 0;
  dv.setUint16(2, total);
  dv.setUint16(6, p.frag ?? 0);
  b[8] = p.ttl ?? 64;
  b[9] = proto;
  dv.setUint32(12, p.src ?? 0x0a000001);
  dv.setUint32(16, p.dst ?? 0x0a000101);
  for (let i = 20; i < hl; i++) b[i] = 1; // NOP options
  if (proto === 6 || proto === 17) {
    dv.setUint16(hl, p.sport ?? 1234);
    dv.setUint16(hl + 2, p.dport ?? 80);
  }
  if (proto === 6) {
    b[hl + 12] = 0x50;
    b[hl + 13] = p.tcpFlags ?? 0x10;
  }
  if (proto === 17) dv.setUint16(hl + 4, 8 + (p.payload ?? 0));
  if (proto === 1) {
    b[hl] = p.sport ?? 8; // type
    b[hl + 1] = p.dport ?? 0; // code
  }
  return b;
}
