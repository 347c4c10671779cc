import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestFor } from '../../src/cli/tc';
import { BATCH_MARKER, encodeBatch, executeRequest } from '../../src/control/batch';
import { TcSystem } from '../../src/tc/system';
import { lexTc } from '../../src/tc/lexer';
import { seededRandom } from '../../src/qdisc/env';

const BASE = `qdisc add dev tq0 root handle 1: htb default 20
class add dev tq0 parent 1: classid 1:1 htb rate 10mbit
class add dev tq0 parent 1:1 classid 1:10 htb rate 5mbit ceil 10mbit
class add dev tq0 parent 1:1 classid 1:20 htb rate 1mbit ceil 10mbit
`;

function system(): TcSystem {
  const s = new TcSystem({ random: seededRandom(1) });
  s.applyText(BASE, 'base.tc');
  return s;
}

const io = { out: () => {}, err: () => {}, exit: () => {} };

describe('live batches (tunqos tc -b FILE / --script FILE)', () => {
  it('applies every command of a batch, then prints its show commands', () => {
    const s = system();
    const text = 'class change dev tq0 parent 1:1 classid 1:10 htb rate 6mbit ceil 10mbit\nclass add dev tq0 parent 1:1 classid 1:30 htb rate 2mbit\nclass show dev tq0 classid 1:30\n';
    const r = executeRequest(s, encodeBatch(lexTc(text, 'changes.tc')));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^class htb 1:30 parent 1:1 .*rate 2Mbit/);
    expect(executeRequest(s, ['class', 'show', 'dev', 'tq0']).stdout).toMatch(/class htb 1:10 parent 1:1 prio 0 rate 6Mbit/);
  });

  it('is atomic: a bad third command leaves the running tree exactly as it was, and names its location', () => {
    const s = system();
    const before = executeRequest(s, ['-s', 'class', 'show', 'dev', 'tq0']).stdout;
    const text = [
      'class change dev tq0 parent 1:1 classid 1:10 htb rate 7mbit ceil 10mbit',
      'class add dev tq0 parent 1:1 classid 1:30 htb rate 2mbit',
      'class add dev tq0 parent 1:1 classid 1:40 htb rate fast',
    ].join('\n');
    const r = executeRequest(s, encodeBatch(lexTc(text, 'changes.tc')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: changes\.tc:3:\d+: .*fast/);
    // column of the bad token: "fast" starts at the column where it stands in line 3
    const col = text.split('\n')[2].indexOf('fast') + 1;
    expect(r.stderr).toContain(`changes.tc:3:${col}:`);
    expect(executeRequest(s, ['-s', 'class', 'show', 'dev', 'tq0']).stdout).toBe(before);
  });

  it('sends a bash script recorded on the client, with errors located at the script line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tq-batch-'));
    const script = join(dir, 'shaper.sh');
    writeFileSync(
      script,
      ['#!/bin/bash', 'DEV=tq0', 'for i in 1 2 3; do', '  tc class add dev $DEV parent 1:1 classid 1:$((i + 40)) htb rate ${i}mbit', 'done', 'tc class add dev $DEV parent 1:9 classid 1:50 htb rate 1mbit', ''].join('\n'),
    );
    const s = system();
    const req = requestFor([], script, io);
    expect(req[0]).toBe(BATCH_MARKER);
    const r = executeRequest(s, req);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${script} (tc call #4):6:`); // the 4th tc call, on line 6 of the script
    expect(executeRequest(s, ['class', 'show', 'dev', 'tq0']).stdout).not.toContain('1:41');

    writeFileSync(script, ['DEV=tq0', 'for i in 1 2 3; do', '  tc class add dev $DEV parent 1:1 classid 1:$((i + 40)) htb rate ${i}mbit', 'done', ''].join('\n'));
    expect(executeRequest(s, requestFor([], script, io)).code).toBe(0);
    const shown = executeRequest(s, ['class', 'show', 'dev', 'tq0']).stdout;
    expect(shown).toMatch(/class htb 1:41 .*rate 1Mbit/);
    expect(shown).toMatch(/class htb 1:43 .*rate 3Mbit/);
  });

  it('passes ordinary tc arguments through unchanged and rejects a -b without exactly one file', () => {
    expect(requestFor(['-s', 'class', 'show', 'dev', 'tq0'], undefined, io)).toEqual(['-s', 'class', 'show', 'dev', 'tq0']);
    expect(() => requestFor(['-b'], undefined, io)).toThrow(/exactly one FILE/);
    expect(() => requestFor(['-b', 'a', 'b'], undefined, io)).toThrow(/exactly one FILE/);
  });

  it('answers a malformed batch request with an error and changes nothing', () => {
    const s = system();
    expect(executeRequest(s, [BATCH_MARKER, '{not json']).stderr).toMatch(/^Error: malformed batch request/);
    expect(executeRequest(s, [BATCH_MARKER, JSON.stringify([{ tokens: [{ text: 'x' }] }])]).code).toBe(1);
    expect(executeRequest(s, [BATCH_MARKER]).code).toBe(1);
  });
});
