import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv, seededRandom } from '../../src/qdisc/env';
import type { Qdisc } from '../../src/qdisc/qdisc';
import { redEvalEwma } from '../../src/tc/red-eval';
import { type ParseContext, findKind } from '../../src/tc/kinds';
import '../../src/tc/kinds/index';
import { Args, TcError, tokensFromArgv } from '../../src/tc/tokens';
import { makePacket } from '../support/packets';

function setup(kind: string, argv: string[], env = createQdiscEnv(new Arena(256), seededRandom(1))) {
  const k = findKind(kind)!;
  const warnings: string[] = [];
  const ctx: ParseContext = { env, warn: (m) => warnings.push(m) };
  const opts = k.parseQdisc(new Args(tokensFromArgv(argv)), ctx);
  const q: Qdisc = k.create(0x10000, opts, env);
  return { k, q, opts, warnings, env, show: (d = false) => k.formatQdisc(q, d) };
}

const parseError = (kind: string, argv: string[]): string => {
  try {
    setup(kind, argv);
  } catch (e) {
    expect(e).toBeInstanceOf(TcError);
    return (e as TcError).message;
  }
  throw new Error('expected a TcError');
};

describe('tbf kind against the real kernel (test/fixtures/kernel/qdisc)', () => {
  const dir = join(__dirname, '../fixtures/kernel/qdisc');
  for (const file of readdirSync(dir).filter((f) => f.startsWith('tbf-'))) {
    it(file, () => {
      const text = readFileSync(join(dir, file), 'utf8').split('\n');
      const argv = text[0].replace(/^\$ tc qdisc add dev v0 root tbf /, '').split(' ');
      const { show } = setup('tbf', argv, createQdiscEnv(new Arena(4), seededRandom(1), { mtu: 1514 }));
      const strip = (line: string) => line.replace(/^qdisc tbf [0-9a-f]+: root refcnt \d+ /, '').trimEnd();
      const plain = strip(text[text.indexOf('$ tc qdisc show dev v0') + 1]);
      const detailed = strip(text[text.indexOf('$ tc -d qdisc show dev v0') + 1]);
      expect(show(false)).toBe(plain);
      expect(show(true)).toBe(detailed);
    });
  }

  it('derives limit from latency and warns when burst < mtu', () => {
    const { opts, warnings } = setup('tbf', ['rate', '220kbit', 'latency', '50ms', 'burst', '1540']);
    expect(opts.limit).toBe(Math.trunc((27500 * 50000) / 1e6 + 1540));
    expect(warnings).toEqual([]);
    expect(setup('tbf', ['rate', '1mbit', 'burst', '1000', 'limit', '10000']).warnings.join()).toContain('burst 1000 is lower than device mtu (1500)');
  });

  it('reports iproute2 errors at the token', () => {
    expect(parseError('tbf', ['rate', '1mbit', 'burst', '10k'])).toContain('either "limit" or "latency" is required');
    expect(parseError('tbf', ['rate', '1mbit', 'burst', '10k', 'limit', '1', 'latency', '1ms'])).toMatch(/1:30: tbf: specifying both/);
    expect(parseError('tbf', ['rate', '1mbit', 'burst', '10k', 'limit', '1k', 'peakrate', '2mbit'])).toContain('"mtu" must also be specified');
    expect(parseError('tbf', ['rate', 'fast', 'burst', '1k', 'limit', '1k'])).toContain('invalid rate "fast"');
    expect(parseError('tbf', ['rate', '1mbit', 'burst', '1k', 'limit', '1k', 'rate', '2mbit'])).toContain('duplicate "rate"');
  });

  it('change keeps queued packets and applies the new rate', () => {
    const { k, q, env } = setup('tbf', ['rate', '1mbit', 'burst', '10k', 'limit', '100k']);
    for (let i = 0; i < 5; i++) q.enqueue(makePacket(env.arena), 0);
    k.change(q, k.parseQdisc(new Args(tokensFromArgv(['rate', '2mbit', 'burst', '10k', 'limit', '100k'])), { env, warn: () => {} }));
    expect(q.stats.qlen).toBe(5);
    expect(k.formatQdisc(q, false)).toMatch(/^rate 2Mbit burst 10Kb/);
  });
});

describe('prio and pfifo_fast kinds', () => {
  it('prints bands and priomap as tc does', () => {
    expect(setup('prio', []).show()).toBe('bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1');
    expect(setup('pfifo_fast', []).show()).toBe('bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1');
    expect(setup('prio', ['bands', '5', 'priomap', '0', '1', '2', '3', '4']).show()).toBe('bands 5 priomap 0 1 2 3 4 2 0 0 1 1 1 1 1 1 1 1');
  });

  it('rejects what tc and the kernel reject', () => {
    expect(parseError('prio', ['bands', '3', 'priomap', '0', '3'])).toContain('"priomap" element is out of bands');
    expect(parseError('prio', ['bands', '2'])).toContain('out of bands'); // default priomap has 2s
    expect(parseError('prio', ['bands', '17'])).toContain('out of range');
    expect(parseError('prio', ['foo'])).toContain('What is "foo"');
    expect(parseError('pfifo_fast', ['limit', '1'])).toContain('does not support option parsing');
  });

  it('change to more bands adds pfifo classes and keeps packets', () => {
    const { k, q, env } = setup('prio', []);
    q.enqueue(makePacket(env.arena), 0);
    k.change(q, k.parseQdisc(new Args(tokensFromArgv(['bands', '4'])), { env, warn: () => {} }));
    expect(q.stats.qlen).toBe(1);
    expect((q as unknown as { classes(): unknown[] }).classes().length).toBe(4);
  });
});

describe('sfq kind', () => {
  it('defaults and print (iproute2 6.x q_sfq.c)', () => {
    expect(setup('sfq', []).show()).toBe('limit 127p quantum 1500b depth 127 divisor 1024');
    expect(setup('sfq', ['perturb', '10']).show()).toBe('limit 127p quantum 1500b depth 127 divisor 1024 perturb 10sec');
    expect(setup('sfq', ['limit', '3000', 'flows', '512', 'divisor', '2048', 'depth', '64', 'headdrop', 'quantum', '3000']).show(true)).toBe(
      'limit 3000p quantum 3000b depth 64 headdrop flows 512 divisor 2048',
    );
    // limit is capped at depth × flows (sfq_change)
    expect(setup('sfq', ['limit', '10000', 'depth', '10', 'flows', '16']).show()).toMatch(/^limit 160p/);
  });

  it('errors', () => {
    expect(parseError('sfq', ['limit', '1'])).toContain('Illegal "limit", must be > 1');
    expect(parseError('sfq', ['divisor', '1000'])).toContain('power of 2');
    expect(parseError('sfq', ['redflowlimit', '1000'])).toContain('not supported');
  });

  it('change to a lower limit drops from the longest flow and reports it', () => {
    const { k, q, env } = setup('sfq', []);
    for (let i = 0; i < 50; i++) q.enqueue(makePacket(env.arena), 0);
    k.change(q, k.parseQdisc(new Args(tokensFromArgv(['limit', '20'])), { env, warn: () => {} }));
    expect(q.stats.qlen).toBe(20);
    expect(env.arena.available).toBe(256 - 20);
  });
});

describe('red kind', () => {
  it('derives min/max/burst/Wlog like tc and prints like tc', () => {
    const { opts, show, warnings } = setup('red', ['limit', '400000', 'min', '30000', 'max', '90000', 'avpkt', '1000', 'burst', '55', 'ecn', 'bandwidth', '10mbit', 'probability', '0.02']);
    expect(show()).toBe('limit 400000b min 30000b max 90000b ecn');
    expect(warnings).toEqual([]);
    // Wlog is the smallest w with burst + 1 − min/avpkt ≤ (1 − (1−W)^burst)/W
    const a = 55 + 1 - 30;
    const ok = (w: number) => a <= (1 - (1 - 2 ** -w) ** 55) / 2 ** -w;
    expect(ok(opts.Wlog)).toBe(true);
    expect(ok(opts.Wlog - 1)).toBe(false);
    expect(opts.maxP).toBe(Math.trunc(0.02 * 2 ** 32));
    expect(show(true)).toBe(`limit 400000b min 30000b max 90000b ecn ewma ${opts.Wlog} probability 0.02 Scell_log ${opts.ScellLog}`);
  });

  it('defaults: max = limit/4, min = max/3, burst = (2min+max)/(3avpkt), bandwidth 10Mbit with a warning', () => {
    const { opts, warnings } = setup('red', ['limit', '120000', 'avpkt', '1000', 'harddrop', 'adaptive']);
    expect(opts.qthMax).toBe(30000);
    expect(opts.qthMin).toBe(10000);
    expect(opts.Wlog).toBe(redEvalEwma(10000, Math.floor(50000 / 3000), 1000));
    expect(warnings.join()).toContain('10Mbit');
    expect(setup('red', ['limit', '120000', 'avpkt', '1000', 'harddrop', 'adaptive', 'bandwidth', '1mbit']).show()).toBe('limit 120000b min 10000b max 30000b harddrop adaptive');
  });

  it('errors and xstats', () => {
    expect(parseError('red', ['min', '1000'])).toContain('Required parameter (limit, avpkt) is missing');
    expect(parseError('red', ['limit', '1000', 'avpkt', '100', 'max', '5000'])).toContain('larger than limit');
    const { k, q } = setup('red', ['limit', '400000', 'avpkt', '1000', 'bandwidth', '10mbit']);
    expect(k.formatQdiscXstats!(q)).toEqual(['  marked 0 early 0 pdrop 0 other 0']);
  });
});
