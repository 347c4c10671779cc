import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { CLS_NOMATCH } from '../../src/classify/classifier';
import { filters, ipv4, slot } from './support';

// 1,024 cable-modem customers 1.2.0.0–1.2.3.255 in classes 1:1/1:2/1:3 (seeds §3.5, S-21/S-22)
const classOf = (third: number, last: number): number => 1 + ((third * 7 + last * 3) % 3);

describe('the 1,024-customer example: 256 buckets keyed on the last octet of the source', () => {
  const a = new Arena(64);
  const linear: string[] = [];
  const hashed: string[] = [
    'filter add dev eth1 parent 1:0 prio 5 protocol ip u32',
    'filter add dev eth1 parent 1:0 prio 5 handle 2: protocol ip u32 divisor 256',
  ];
  for (let third = 0; third < 4; third++)
    for (let last = 0; last < 256; last++) {
      const cls = classOf(third, last);
      linear.push(`filter add dev eth1 parent 1:0 protocol ip prio 100 match ip src 1.2.${third}.${last} classid 1:${cls}`);
      hashed.push(`filter add dev eth1 protocol ip parent 1:0 prio 5 u32 ht 2:${last.toString(16)}: match ip src 1.2.${third}.${last} flowid 1:${cls}`);
    }
  hashed.push('filter add dev eth1 protocol ip parent 1:0 prio 5 u32 ht 800:: match ip src 1.2.0.0/16 hashkey mask 0x000000ff at 12 link 2:');
  const lin = filters(a, linear).chainFor(0x10000)!;
  const hsh = filters(a, hashed).chainFor(0x10000)!;

  it('S-21 (no u32 keyword, D4) and the hashed rules classify every customer the same', () => {
    for (let third = 0; third < 4; third++)
      for (let last = 0; last < 256; last++) {
        const id = slot(a, ipv4({ src: (1 << 24) | (2 << 16) | (third << 8) | last }));
        const want = 0x10000 + classOf(third, last);
        expect(lin.classify(id, 0)).toBe(want);
        expect(hsh.classify(id, 0)).toBe(want);
        a.free(id);
      }
    const other = slot(a, ipv4({ src: 0x01030001 }));
    expect(hsh.classify(other, 0)).toBe(CLS_NOMATCH);
    expect(lin.classify(other, 0)).toBe(CLS_NOMATCH);
  });

  it('a hashed lookup tries at most 4 customer rules (plus the linking rule) instead of up to 1,024', () => {
    const id = slot(a, ipv4({ src: 0x0102037b }));
    const h = hsh.classifyTrace(id, 0);
    const l = lin.classifyTrace(id, 0);
    expect(h.steps.reduce((s, x) => s + x.nodesTried, 0)).toBeLessThanOrEqual(5);
    expect(l.steps.reduce((s, x) => s + x.nodesTried, 0)).toBe(3 * 256 + 0x7b + 1);
    expect(h.steps[0].handle).toBe('2:7b:803');
    a.free(id);
  });
});
