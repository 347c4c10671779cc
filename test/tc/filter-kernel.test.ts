/**
 * `tc filter show` compared with what Linux 6.18 + iproute2 6.1 printed for the same commands
 * (test/fixtures/kernel/filters/*.cmds, recorded by record.sh in a private namespace). Commands the
 * kernel refused (*.errors) must be refused here too.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv } from '../../src/qdisc/env';
import { parseFilterCommand } from '../../src/tc/filter-command';
import { FilterSet } from '../../src/tc/filter-set';
import { showFilters } from '../../src/tc/filter-show';
import type { ParseContext } from '../../src/tc/kinds';
import { Args, TcError, type Token } from '../../src/tc/tokens';
import { seededRandom } from '../../src/qdisc/env';

const DIR = join(__dirname, '../fixtures/kernel/filters');

export function lineTokens(line: string, file: string, lineNo: number): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push({ text: m[0], file, line: lineNo, col: m.index + 1 });
  return out;
}

function run(name: string): { set: FilterSet; failed: string[] } {
  const arena = new Arena(8);
  const ctx: ParseContext = { env: createQdiscEnv(arena, seededRandom(1)), warn: () => {} };
  const set = new FilterSet(arena);
  const failed: string[] = [];
  readFileSync(join(DIR, `${name}.cmds`), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const toks = lineTokens(line, `${name}.cmds`, i + 1);
      if (toks.length < 2 || toks[0].text !== 'filter' || toks[1].text === 'show') return;
      try {
        const work = set.clone();
        work.apply(parseFilterCommand(toks[1].text, new Args(toks.slice(2), toks[1]), ctx), ctx);
        // atomic apply: commit by re-applying on the real set
        set.apply(parseFilterCommand(toks[1].text, new Args(toks.slice(2), toks[1]), ctx), ctx);
      } catch (e) {
        if (!(e instanceof TcError)) throw e;
        failed.push(line);
      }
    });
  return { set, failed };
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
