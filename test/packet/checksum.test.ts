import { describe, expect, it } from 'vitest';
import { checksumUpdate16, internetChecksum } from '../../src/packet/checksum';
import { ipv4Bytes, ip } from '../support/packets';
import { seededRandom } from '../../src/qdisc/env';

describe('internet checksum (RFC 1071)', () => {
  it('a header with its checksum in place sums to zero', () => {
    const p = ipv4Bytes({ size: 60, src: ip(192, 168, 1, 2), dst: ip(8, 8, 8, 8), tos: 0xb8 });
    expect(internetChecksum(p, 0, 20)).toBe(0);
  });

  it('matches the RFC 1071 worked example', () => {
    // RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2 (before inversion)
    const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(internetChecksum(b, 0, 8)).toBe(~0xddf2 & 0xffff);
  });
});

describe('incremental update (RFC 1624)', () => {
  it('equals a full recomputation for random headers and random word changes', () => {
    const rnd = seededRandom(7);
    for (let n = 0; n < 2000; n++) {
      const p = ipv4Bytes({ size: 40, src: (rnd() * 2 ** 32) >>> 0, dst: (rnd() * 2 ** 32) >>> 0, tos: (rnd() * 256) | 0 });
      const word = ((rnd() * 10) | 0) * 2;
      if (word === 10) continue; // the checksum field itself
      const oldWord = (p[word] << 8) | p[word + 1];
      const newWord = (rnd() * 65536) | 0;
      p[word] = newWord >> 8;
      p[word + 1] = newWord & 0xff;
      const updated = checksumUpdate16((p[10] << 8) | p[11], oldWord, newWord);
      p[10] = 0;
      p[11] = 0;
      const full = internetChecksum(p, 0, 20);
      // 0x0000 and 0xffff are the same number in one's complement
      expect(updated === full || (updated ^ full) === 0xffff).toBe(true);
    }
  });
});
