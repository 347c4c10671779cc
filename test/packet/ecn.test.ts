import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { internetChecksum } from '../../src/packet/checksum';
import { ECN_CE, ecnOf, setCe } from '../../src/packet/ecn';
import { allocPacket } from '../../src/packet/synth';

describe('ECN CE marking', () => {
  it('marks ECT(0) and ECT(1) IPv4 packets and keeps the header checksum valid', () => {
    const arena = new Arena(8);
    for (const tos of [0x01, 0x02, 0xb9, 0xfe]) {
      const id = allocPacket(arena, { tos });
      expect(setCe(arena, id)).toBe(true);
      const b = arena.packet(id);
      expect(b[1]).toBe(tos | 3); // DSCP untouched
      expect(internetChecksum(b, 0, 20)).toBe(0);
      expect(ecnOf(arena, id)).toBe(ECN_CE);
      arena.free(id);
    }
  });

  it('refuses not-ECT packets and leaves them unchanged; CE stays CE', () => {
    const arena = new Arena(8);
    const id = allocPacket(arena, { tos: 0x10 });
    const before = arena.packet(id).slice();
    expect(setCe(arena, id)).toBe(false);
    expect(arena.packet(id)).toEqual(before);
    const ce = allocPacket(arena, { tos: 0x03 });
    expect(setCe(arena, ce)).toBe(true);
  });

  it('marks IPv6 traffic class', () => {
    const arena = new Arena(4);
    const id = allocPacket(arena, { version: 6, tos: 0x02 }); // traffic class 0x02: ECT(0)
    expect(setCe(arena, id)).toBe(true);
    expect(arena.bytes[arena.offset(id) + 1] >> 4).toBe(3);
  });
});
