/** FilterSet (src/tc/filter-set.ts): the model operations that do not go through a command. */
import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv, seededRandom } from '../../src/qdisc/env';
import { parseFilterCommand } from '../../src/tc/filter-command';
import { FilterSet, resolveClassid } from '../../src/tc/filter-set';
import { showFilters } from '../../src/tc/filter-show';
import type { ParseContext } from '../../src/tc/kinds';
import { Args } from '../../src/tc/tokens';
import { lineTokens } from '../support/tokens';

function set(lines: string[]): FilterSet {
  const arena = new Arena(8);
  const ctx: ParseContext = { env: createQdiscEnv(arena, seededRandom(1)), warn: () => {} };
  const s = new FilterSet(arena);
  for (const l of lines) {
    const t = lineTokens(l);
    s.apply(parseFilterCommand(t[1].text, new Args(t.slice(2), t[1]), ctx), ctx);
  }
  return s;
}

const LINES = [
  'filter add dev tq0 parent 1: protocol ip prio 1 u32 match ip dport 80 0xffff flowid 1:10',
  'filter add dev tq0 parent 1: protocol ip prio 2 u32 match ip dport 443 0xffff flowid :20',
  'filter add dev tq0 parent 1:1 protocol ip prio 3 u32 match ip dport 22 0xffff flowid 1:30',
];

describe('FilterSet.deleteParent', () => {
  it('removes every instance at one parent and leaves the other parents as they were', () => {
    const s = set(LINES);
    const other = showFilters(s, 0x10001, { stats: false, details: false });
    expect(s.parents()).toEqual([0x10000, 0x10001]);
    expect(s.chainFor(0x10000)).not.toBeNull();
    expect(s.deleteParent(0x10000)).toBe(true);
    expect(s.parents()).toEqual([0x10001]);
    expect(s.instances(0x10000)).toEqual([]);
    expect(s.chainFor(0x10000)).toBeNull();
    expect(showFilters(s, 0x10001, { stats: false, details: false })).toBe(other);
    expect(s.filterPointingAt(0x10010)).toBeUndefined();
    expect(s.filterPointingAt(0x10030)).toBe('parent 1:1 pref 3 fh 802::800');
  });

  it('is what `filter del dev X parent P` does, and says false when there is nothing there', () => {
    const viaModel = set(LINES);
    viaModel.deleteParent(0x10000);
    const viaCommand = set([...LINES, 'filter del dev tq0 parent 1:']);
    expect(showFilters(viaModel, undefined, { stats: false, details: false })).toBe(showFilters(viaCommand, undefined, { stats: false, details: false }));
    expect(viaModel.deleteParent(0x10000)).toBe(false);
    expect(viaModel.deleteParent(0x20000)).toBe(false);
  });

  it('a clone is independent of deletions on the original', () => {
    const s = set(LINES);
    const c = s.clone();
    s.deleteParent(0x10000);
    expect(c.parents()).toEqual([0x10000, 0x10001]);
  });
});

describe('resolveClassid', () => {
  it('gives `flowid :N` the major of its parent, except at root; a full classid stays', () => {
    expect(resolveClassid(0x20, 0x10000)).toBe(0x10020);
    expect(resolveClassid(0x20, 0x10001)).toBe(0x10020);
    expect(resolveClassid(0x20020, 0x10000)).toBe(0x20020);
    expect(resolveClassid(0x20, 0xffffffff)).toBe(0x20);
    expect(set(LINES).filterPointingAt(0x10020)).toBe('parent 1: pref 2 fh 801::800');
  });
});
