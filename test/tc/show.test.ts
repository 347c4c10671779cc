/**
 * `tc show` output against what the real kernel printed for the same commands
 * (test/fixtures/kernel/show/*.cmds, recorded by record.sh with iproute2 6.1 on Linux 6.18).
 * The generic parts (header, parent/root/refcnt/leaf, stats lines, ordering, JSON keys) are this
 * layer's; the middle of each line is the kind's. Normalised: automatic handles (the kernel's counter
 * is global to the machine) and trailing blanks (iproute2's tbf prints one, tunqos's tbf kind does
 * not); the TBF kind's JSON options are its own business (compared without them). Timer slack 0 so
 * that HTB's default bursts are the kernel's (tunqos enlarges them for a late-waking timer).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TcSystem } from '../../src/tc/system';
import { seededRandom } from '../../src/qdisc/env';

const dir = join(__dirname, '../fixtures/kernel/show');
const SHOWS: Record<string, string[]> = {
  qshow: ['qdisc', 'show', 'dev', 'v0'],
  sqshow: ['-s', 'qdisc', 'show', 'dev', 'v0'],
  dqshow: ['-d', 'qdisc', 'show', 'dev', 'v0'],
  cshow: ['class', 'show', 'dev', 'v0'],
  scshow: ['-s', 'class', 'show', 'dev', 'v0'],
  jqshow: ['-j', 'qdisc', 'show', 'dev', 'v0'],
  sjqshow: ['-s', '-j', 'qdisc', 'show', 'dev', 'v0'],
};
const normalise = (s: string): string => s.replace(/\b80[0-9a-f]{2}:/g, 'AUTO:').replace(/ +\n/g, '\n');
const jsonOf = (s: string): unknown =>
  (JSON.parse(normalise(s)) as Record<string, unknown>[]).map((o) => (o.kind === 'tbf' ? { ...o, options: '(kind)' } : o));

const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.cmds') && f !== 'default.cmds')
  .map((f) => f.replace(/\.cmds$/, ''));

describe('show matches the kernel', () => {
  for (const name of cases) {
    const sys = new TcSystem({ random: seededRandom(1), env: () => ({ timerSlack: 0 }) });
    sys.applyText(readFileSync(join(dir, `${name}.cmds`), 'utf8'), `${name}.cmds`);
    for (const [suffix, argv] of Object.entries(SHOWS)) {
      it(`${name}: tc ${argv.join(' ')}`, () => {
        const want = readFileSync(join(dir, `${name}.${suffix}`), 'utf8');
        const got = sys.execute(argv);
        expect(got.code).toBe(0);
        if (suffix.includes('j')) expect(jsonOf(got.stdout)).toEqual(jsonOf(want));
        else expect(normalise(got.stdout)).toBe(normalise(want));
      });
    }
  }

  it('the default root of a TUN is pfifo_fast 0: with refcnt 2', () => {
    const sys = new TcSystem({ random: seededRandom(1) });
    sys.addDevice('tq0');
    expect(sys.execute(['qdisc', 'show', 'dev', 'tq0']).stdout).toBe('qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n');
  });
});

describe('rate estimates in tc -s (a running gateway samples an estimator every second)', () => {
  it('prints `rate ... pps` on the backlog line once the estimator has samples, as tc does with an estimator', async () => {
    const { TcSystem } = await import('../../src/tc/system');
    const s = new TcSystem({ random: seededRandom(1) });
    s.applyText('qdisc add dev tq0 root handle 1: htb default 10\nclass add dev tq0 parent 1: classid 1:10 htb rate 10mbit\n', 'r.tc');
    expect(s.execute(['-s', 'class', 'show', 'dev', 'tq0']).stdout).toContain('\n backlog 0b 0p requeues 0');
    const root = s.devices.get('tq0')!.egress.root;
    // 1,000,000 bytes and 1000 packets in one second: 8 Mbit/s, 1000 pps
    root.stats.rate.sample(0, 0, 0);
    const est = root.stats.rate;
    est.sample(1e9, 1_000_000, 1000);
    expect(est.active).toBe(true);
    const out = s.execute(['-s', 'qdisc', 'show', 'dev', 'tq0']).stdout;
    // weight 0.5 EWMA from 0: half of 8 Mbit/s after one interval
    expect(out).toContain(' rate 4Mbit 500pps backlog 0b 0p requeues 0');
  });
});
