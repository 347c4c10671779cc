/**
 * `tc filter show` compared with what Linux 6.18 + iproute2 6.1 printed for the same commands
 * (test/fixtures/kernel/filters/*.cmds, recorded by record.sh in a private namespace). Commands the
 * kernel refused (*.errors) must be refused here too.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { seededRandom } from '../../src/qdisc/env';
import type { FilterSet } from '../../src/tc/filter-set';
import { showFilters } from '../../src/tc/filter-show';
import { TcSystem } from '../../src/tc/system';
import { TcError } from '../../src/tc/tokens';
import { lineTokens } from '../support/tokens';

const DIR = join(__dirname, '../fixtures/kernel/filters');

/**
 * Replays a recording through a TcSystem, one atomic apply per line as tc runs them: the qdisc and
 * class lines must succeed; the filter lines that fail are returned (each failure changed nothing).
 */
function run(name: string): { set: FilterSet; failed: string[] } {
  const sys = new TcSystem({ arena: new Arena(8), random: seededRandom(1) });
  const failed: string[] = [];
  readFileSync(join(DIR, `${name}.cmds`), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const toks = lineTokens(line, `${name}.cmds`, i + 1);
      if (toks.length < 2 || !['qdisc', 'class', 'filter'].includes(toks[0].text) || toks[1].text === 'show') return;
      try {
        sys.applyText(line, `${name}.cmds`);
      } catch (e) {
        if (!(e instanceof TcError) || toks[0].text !== 'filter') throw e;
        failed.push(line);
      }
    });
  return { set: sys.devices.get('v0')!.filters, failed };
}

function kernelErrors(name: string): string[] {
  const f = join(DIR, `${name}.errors`);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('filter ') && l.includes(' => '))
    .map((l) => l.slice(0, l.indexOf(' => ')));
}

describe('tc filter show matches the kernel', () => {
  for (const name of ['basic', 'hash', 'del']) {
    it(`${name}.cmds`, () => {
      const { set, failed } = run(name);
      expect(failed).toEqual(kernelErrors(name));
      const expected = readFileSync(join(DIR, `${name}.show`), 'utf8');
      expect(showFilters(set, 0x10000, { stats: false, details: false }).replace(/^filter /gm, 'filter parent 1: ')).toBe(expected);
    });
  }

  it('del.cmds: show with parent, prio and protocol filters omits those fields like tc', () => {
    const { set } = run('del');
    const sections = readFileSync(join(DIR, 'del.out'), 'utf8').split(/^### /m).filter(Boolean);
    const byCmd = new Map(sections.map((s) => [s.slice(0, s.indexOf('\n')), s.slice(s.indexOf('\n') + 1)]));
    expect(showFilters(set, 0x10000, { stats: false, details: false })).toBe(byCmd.get('tc filter show dev v0 parent 1:'));
    expect(showFilters(set, 0x10001, { stats: false, details: false })).toBe(byCmd.get('tc filter show dev v0 parent 1:1'));
    expect(showFilters(set, 0x10000, { stats: false, details: false, prio: 4 })).toBe(byCmd.get('tc filter show dev v0 parent 1: prio 4'));
    expect(showFilters(set, 0x10000, { stats: false, details: false, protocol: 0x0800 })).toBe(byCmd.get('tc filter show dev v0 parent 1: protocol ip'));
    expect(showFilters(set, 0x10000, { stats: false, details: false, protocol: 0x86dd })).toBe(byCmd.get('tc filter show dev v0 parent 1: protocol ipv6'));
  });

  it('police.cmds parse (the kernel here lacks act_police, so only parsing is checked)', () => {
    const { failed } = run('police');
    expect(failed).toEqual([]);
  });
});
