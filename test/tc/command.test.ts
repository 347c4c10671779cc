import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/tc/command';
import { TC_H_INGRESS, TC_H_ROOT } from '../../src/qdisc/qdisc';
import { TcError, tokensFromArgv } from '../../src/tc/tokens';

const parse = (line: string) => {
  const t = tokensFromArgv(line.split(/\s+/), 'cmd');
  return parseCommand(t, t[0]);
};
const err = (line: string): string => {
  try {
    parse(line);
  } catch (e) {
    expect(e).toBeInstanceOf(TcError);
    return (e as TcError).message;
  }
  throw new Error('expected an error');
};

describe('parseCommand', () => {
  it('a second parent: a class fails on the keyword, before its value is read; a qdisc names the value', () => {
    expect(err('class add dev tq0 parent 1: parent zz classid 1:1 htb rate 1mbit')).toMatch(/parent given twice$/);
    expect(err('class add dev tq0 root parent')).toMatch(/parent given twice$/);
    expect(err('class add dev tq0 parent 1: root classid 1:1 htb rate 1mbit')).toMatch(/parent given twice$/);
    expect(err('qdisc add dev tq0 root parent 1:1 sfq')).toMatch(/"1:1" given twice \(parent already set by "root"\)/);
  });

  it('reads the qdisc prefix: dev, root, handle, kind and the options after it', () => {
    const c = parse('qdisc add dev tq0 root handle 1: htb default 30');
    expect(c.object).toBe('qdisc');
    if (c.object !== 'qdisc') return;
    expect([c.verb, c.dev?.text, c.parent, c.handle, c.kind?.text]).toEqual(['add', 'tq0', TC_H_ROOT, 0x10000, 'htb']);
    expect(c.options.map((t) => t.text)).toEqual(['default', '30']);
  });

  it('parent X:Y is hex; abbreviations and the global flags work', () => {
    const c = parse('-s -d -j q repl dev tq0 parent 1:1a handle 1a: sfq');
    if (c.object !== 'qdisc') throw new Error();
    expect([c.verb, c.parent, c.handle, c.flags]).toEqual(['replace', 0x1001a, 0x1a0000, { stats: true, details: true, json: true }]);
    expect(parse('qdisc ls').verb).toBe('show');
    expect(parse('qdisc list dev x').verb).toBe('show');
    expect(parse('class delete dev x classid 1:1').verb).toBe('del');
  });

  it('ingress sets parent ffff:fff1 and handle ffff:, with or without "handle ffff:"', () => {
    for (const line of ['qdisc add dev tq0 ingress', 'qdisc add dev tq0 handle ffff: ingress']) {
      const c = parse(line);
      if (c.object !== 'qdisc') throw new Error();
      expect([c.parent, c.handle, c.kind?.text]).toEqual([TC_H_INGRESS, 0xffff0000, 'ingress']);
    }
    expect(err('qdisc add dev tq0 handle 2: ingress')).toMatch(/ingress qdisc's handle is ffff:/);
  });

  it('rejects clsact clearly, accepts estimator with a warning', () => {
    expect(err('qdisc add dev tq0 clsact')).toMatch(/cmd:1:19: clsact is not supported/);
    const c = parse('class add dev tq0 parent 1: classid 1:1 estimator 1s 8s htb rate 1mbit');
    expect(c.warnings[0].message).toMatch(/estimator ignored/);
    if (c.object !== 'class') throw new Error();
    expect([c.kind?.text, c.classid]).toEqual(['htb', 0x10001]);
  });

  it('errors name the bad token', () => {
    expect(err('qdisc add dev tq0 root handle 1:5 htb')).toBe('cmd:1:31: a qdisc handle has minor 0 (write "1:")');
    expect(err('qdisc add dev tq0 parent 1:zz pfifo')).toMatch(/^cmd:1:26: invalid parent "1:zz"/);
    expect(err('qdisc frob dev tq0')).toMatch(/^cmd:1:7: unknown command "frob"/);
    expect(err('qdisk add')).toMatch(/^cmd:1:1: unknown object "qdisk"/);
    expect(err('qdisc add root pfifo')).toMatch(/"dev" is required/);
    expect(err('qdisc add dev tq0 pfifo')).toMatch(/needs "root", "parent X:Y" or "ingress"/);
    expect(err('class add dev tq0 parent 1: htb rate 1mbit')).toMatch(/"classid X:Y" is required/);
    expect(err('-x qdisc show')).toMatch(/unknown option "-x"/);
    // a bare major above ffff is refused, not truncated (10000 would otherwise wrap to handle 0:)
    expect(err('qdisc add dev tq0 root handle 10000 htb')).toBe('cmd:1:31: handle "10000" is out of range (max ffff:ffff)');
  });

  it('a filter command keeps its words for the filter parser and knows its device', () => {
    const c = parse('filter add dev tq0 parent 1: protocol ip prio 1 u32 match ip dport 80 0xffff flowid 1:10');
    if (c.object !== 'filter') throw new Error();
    expect(c.dev?.text).toBe('tq0');
    expect(c.args[0].text).toBe('dev');
    expect(c.args.length).toBe(16);
  });
});
