import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/check';

const check = (text: string): { code: number; out: string; err: string } => {
  const file = join(mkdtempSync(join(tmpdir(), 'tunqos-check-')), 'c.tc');
  writeFileSync(file, text);
  let out = '';
  let err = '';
  const code = runCheck({ config: file }, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
};
const count = (text: string, re: RegExp): number => text.split('\n').filter((l) => re.test(l)).length;

describe('tunqos check warnings', () => {
  const { code, err } = check(
    [
      'qdisc add dev tq0 root handle 1: htb',
      'class add dev tq0 parent 1: classid 1:1 htb rate 1mbit',
      'class add dev tq0 parent 1:1 classid 1:10 htb rate 2mbit',
      'class add dev tq0 parent 1:1 classid 1:20 htb rate 1mbit ceil 500kbit',
      // 40 kbit = 5000 B/s, / r2q 10 = 500 bytes: below HTB's 1000-byte floor
      'class add dev tq0 parent 1:1 classid 1:30 htb rate 40kbit',
      'filter add dev tq0 parent 1: u32 match ip dport 80 0xffff flowid :10',
      '',
    ].join('\n'),
  );

  it('accepts the configuration', () => expect(code).toBe(0));
  it('warns once about a ceil below rate, at the class line', () => {
    expect(count(err, /ceil.*below rate/)).toBe(1);
    expect(err).toMatch(/c\.tc:4:\d+: warning: ceil 500Kbit is below rate 1Mbit/);
  });
  it('warns about a clamped quantum', () => expect(count(err, /c\.tc:5:\d+: warning: quantum of class 1:30 is small/)).toBe(1));
  it('warns about children guaranteed more than their parent', () => expect(err).toMatch(/children of class 1:1 are guaranteed/));
  it('warns that the htb has no default class', () => expect(count(err, /htb 1: has no default class/)).toBe(1));
  it('warns about the D4 leniencies (no protocol, flowid without major)', () => {
    expect(err).toMatch(/c\.tc:6:\d+: warning: filter without "protocol"/);
    expect(err).toMatch(/c\.tc:6:\d+: warning: "flowid :10" has no major/);
  });
});
