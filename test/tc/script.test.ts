import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/tc/system';
import { recordScript } from '../../src/tc/script';
import { TcError } from '../../src/tc/tokens';
import { seededRandom } from '../../src/qdisc/env';

const dir = mkdtempSync(join(tmpdir(), 'tq-h5-script-'));
const script = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('tc scripts (bash with tc recorded)', () => {
  it('variables, legacy $[...] arithmetic, a command in a variable and loops work as in bash', () => {
    const f = script(
      'a.sh',
      [
        '#!/bin/bash',
        'DEV=tq0; UPLINK=220',
        'tc qdisc add dev $DEV root handle 1: htb default 20',
        'tc class add dev $DEV parent 1: classid 1:1 htb rate $[9*$UPLINK/10]kbit',
        'U32="tc filter add dev $DEV parent 1:0 protocol ip prio 1 u32"',
        'for i in 1 2 3; do',
        '  tc class add dev $DEV parent 1:1 classid 1:$((i * 10)) htb rate ${i}00kbit',
        '  $U32 match ip dport $((8000 + i)) 0xffff flowid 1:$((i * 10))',
        'done',
      ].join('\n'),
    );
    const rec = recordScript(f);
    expect(rec.calls).toHaveLength(8);
    expect(rec.calls[1].tokens.map((t) => t.text).join(' ')).toBe('class add dev tq0 parent 1: classid 1:1 htb rate 198kbit');
    expect(rec.calls[7].tokens.at(-1)!.text).toBe('1:30');
    expect(rec.calls[7].anchor.line).toBe(8);
    const { devices } = loadConfig({ script: f }, { random: seededRandom(1) });
    const out = devices.get('tq0')!;
    expect(out.findClass(0x10030)).toBeDefined();
    expect(out.filters.parents()).toEqual([0x10000]);
  });

  it('does not run ip/iptables (reported), tolerates a failing del, and locates errors at the tc call', () => {
    const f = script(
      'b.sh',
      ['tc qdisc del dev tq0 root 2> /dev/null > /dev/null', 'ip link set dev tq0 qlen 30', 'tc qdisc add dev tq0 root handle 1: htb', 'RATE=10mbitt', 'tc class add dev tq0 parent 1: classid 1:1 htb rate $RATE'].join('\n'),
    );
    const rec = recordScript(f);
    expect(rec.warnings.some((w) => /b\.sh:2: warning: not run .*: ip link set dev tq0 qlen 30/.test(w))).toBe(true);
    try {
      loadConfig({ script: f }, { random: seededRandom(1) });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TcError);
      // column counted in the expanded command `tc class add dev tq0 parent 1: classid 1:1 htb rate 10mbitt`
      expect((e as TcError).message).toMatch(/b\.sh \(tc call #3\):5:53: invalid rate "10mbitt"/);
    }
    const ok = script('c.sh', 'tc qdisc del dev tq0 root\ntc qdisc add dev tq0 root handle 1: pfifo\n');
    const r = loadConfig({ script: ok }, { random: seededRandom(1) });
    expect(r.warnings.some((w) => /ignored \(as a shell script would\)/.test(w))).toBe(true);
    expect(r.devices.get('tq0')!.egress.root.kind).toBe('pfifo');
  });

  it("a script's exit status and stderr become warnings; show calls are dropped", () => {
    const f = script('d.sh', 'tc qdisc add dev tq0 root pfifo\ntc -s qdisc ls dev tq0\necho oops >&2\nexit 3\n');
    const r = loadConfig({ script: f }, { random: seededRandom(1) });
    expect(r.warnings.join('\n')).toMatch(/script stderr: oops[\s\S]*exited with status 3/);
    expect(r.devices.get('tq0')!.egress.root.kind).toBe('pfifo');
  });
});
