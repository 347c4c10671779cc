import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv } from '../../src/qdisc/env';
import { Fifo } from '../../src/qdisc/fifo';
import type { Htb, HtbClass } from '../../src/qdisc/htb';
import { type QdiscEnv, TC_H_ROOT, formatHandle } from '../../src/qdisc/qdisc';
import type { ParseContext } from '../../src/tc/kinds';
import { htbKind } from '../../src/tc/kinds/htb';
import { ClassHash } from '../../src/tc/class-order';
import { Args, tokensFromArgv } from '../../src/tc/tokens';
import { handleOf } from '../../src/tc/values';
import { seededRandom } from '../../src/qdisc/env';

const FIXTURES = join(__dirname, '../fixtures/kernel/htb');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

interface Replay {
  q: Htb;
  errors: string[];
  warnings: string[];
  show: (flags: { stats?: boolean; details?: boolean }) => string;
  qdiscLine: (details: boolean) => string;
}

/**
 * Replays a recorded script (`tc` commands without the leading "tc") through the htb kind, the way the
 * tc layer would, and renders `tc [-s] [-d] class show` around the kind's output. The generic parts
 * (the "class htb X parent Y leaf Z:" prefix and the Sent/backlog lines) are tc_class.c's, rebuilt here.
 */
function replay(cmds: string, envOver: Partial<QdiscEnv> = {}): Replay {
  const arena = new Arena(64);
  const warnings: string[] = [];
  const env = createQdiscEnv(arena, seededRandom(1), { warn: (m) => warnings.push(m), txQueueLen: 1000, ...envOver });
  const ctx: ParseContext = { env, warn: (m) => warnings.push(m) };
  const errors: string[] = [];
  let q: Htb | undefined;
  const order = new ClassHash(); // `tc class show` order, as the device model keeps it
  for (const line of cmds.split('\n').filter((l) => l.trim() && !l.startsWith('#'))) {
    const words = line.trim().split(/\s+/);
    const toks = tokensFromArgv(words);
    const at = (w: string): number => words.indexOf(w);
    try {
      if (words[0] === 'qdisc') {
        const handle = handleOf(toks[at('handle') + 1]);
        if (words.includes('htb')) {
          const opts = htbKind.parseQdisc(new Args(toks.slice(at('htb') + 1), toks[at('htb')]), ctx);
          q = htbKind.create(handle, opts, env) as Htb;
        } else {
          const parent = handleOf(toks[at('parent') + 1]);
          const f = new Fifo('pfifo', handle, env, { limit: Number(words[at('limit') + 1]) });
          q!.graft(parent, f);
        }
      } else if (words[1] === 'del') {
        htbKind.deleteClass!(q!, handleOf(toks[at('classid') + 1]));
        order.remove(handleOf(toks[at('classid') + 1]));
      } else {
        const parentTok = toks[at('parent') + 1];
        const parent = parentTok.text === '1:' ? q!.handle : handleOf(parentTok);
        const classid = handleOf(toks[at('classid') + 1]);
        const spec = htbKind.parseClass!(new Args(toks.slice(at('htb') + 1), toks[at('htb')]), ctx, q!);
        htbKind.addClass!(q!, classid, parent, spec);
        order.insert(classid);
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  const h = q!;
  return {
    q: h,
    errors,
    warnings,
    qdiscLine: (details) => `qdisc htb 1: root refcnt 3 ${htbKind.formatQdisc(h, details)}`,
    show({ stats, details }) {
      const out: string[] = [];
      for (const c of order.walk().map((id) => h.getClass(id)!) as HtbClass[]) {
        const parent = c.parent ? `parent ${formatHandle(c.parent.classid)}` : 'root';
        const leaf = c.leaf && c.leaf.handle !== 0 ? `leaf ${formatHandle(c.leaf.handle)} ` : '';
        out.push(`class htb ${formatHandle(c.classid)} ${parent} ${leaf}${htbKind.formatClass!(h, c, !!details)}`);
        if (stats) {
          const s = c.stats;
          out.push(` Sent ${s.bytes} bytes ${s.packets} pkt (dropped ${s.drops}, overlimits ${s.overlimits} requeues 0) `);
          out.push(` backlog ${s.backlog}b ${s.qlen}p requeues 0`);
          out.push(...htbKind.formatClassXstats!(h, c));
          out.push('');
        }
      }
      return `${out.join('\n')}\n`;
    },
  };
}

describe('htb kind: output identical to Linux 6.18 + iproute2 6.1 (recorded fixtures)', () => {
  // timerSlack 0: tunqos's default burst then equals tc's (1600 bytes), so defaults compare too.
  const env = { timerSlack: 0 };

  for (const name of ['s07', 'tree3', 'defaults']) {
    it(`${name}: tc class show, -s, -d, -s -d`, () => {
      const r = replay(fixture(`${name}.cmds`), env);
      expect(r.show({})).toBe(fixture(`${name}.class.txt`));
      expect(r.show({ details: true })).toBe(fixture(`${name}.d-class.txt`));
      expect(r.show({ stats: true })).toBe(fixture(`${name}.s-class.txt`));
      expect(r.show({ stats: true, details: true })).toBe(fixture(`${name}.s-d-class.txt`));
    });
  }

  it('qdisc line (direct_packets_stat normalised: the kernel saw one stray packet before any class existed)', () => {
    const r = replay(fixture('s07.cmds'), env);
    const norm = (s: string) => s.replace(/direct_packets_stat \d+/, 'direct_packets_stat N').trim();
    expect(norm(r.qdiscLine(false))).toBe(norm(fixture('s07.qdisc.txt')));
    expect(norm(r.qdiscLine(true))).toBe(norm(fixture('s07.d-qdisc.txt')));
    const t = replay(fixture('tree3.cmds'), env);
    expect(t.qdiscLine(false)).toBe(fixture('tree3.qdisc.txt').split('\n')[0]);
  });

  it('the same errors and warnings as tc and the kernel', () => {
    const r = replay(fixture('defaults.cmds'), env);
    expect(r.errors.length).toBe(4);
    expect(r.errors[0]).toContain('"rate" is required.');
    expect(r.errors[1]).toContain('What is "foo"?');
    expect(r.errors[2]).toContain('tree is too deep');
    expect(r.errors[3]).toContain('HTB class in use');
    // kernel: "quantum of class 10010 is big. Consider r2q change." (tunqos names the class 1:10)
    expect(r.warnings).toContain('quantum of class 1:10 is big. Consider r2q change.');
    expect(r.warnings.some((w) => w.includes('ceil 1Mbit is below rate 2Mbit'))).toBe(true);
    expect(r.warnings.some((w) => w.includes('prio 9 is above 7'))).toBe(true);
    const s07 = replay(fixture('s07.cmds'), env);
    expect(s07.warnings).toContain('quantum of class 1:30 is small. Consider r2q change.');
    // 5 + 3 + 0.001 Mbit under a 6 Mbit parent
    expect(s07.warnings.some((w) => w.includes('children of class 1:1 are guaranteed 8001Kbit'))).toBe(true);
  });
});

describe('htb kind: tunqos defaults', () => {
  it('shows the burst actually used: rate × timerSlack + mtu (1 ms at 100 Mbit → 14100 bytes)', () => {
    const r = replay('qdisc add dev x root handle 1: htb\nclass add dev x parent 1: classid 1:1 htb rate 100mbit ceil 200mbit', {
      timerSlack: 1e6,
    });
    // 14100 bytes at 100 Mbit: 1128 µs → 17625 ticks → back to 14100; ceil: 26600 at 200 Mbit
    expect(r.show({})).toBe('class htb 1:1 root prio 0 rate 100Mbit ceil 200Mbit burst 14100b cburst 26600b \n');
  });

  it('class change replaces every parameter (as tc does), keeping tokens and packets', () => {
    const r = replay('qdisc add dev x root handle 1: htb\nclass add dev x parent 1: classid 1:1 htb rate 10mbit ceil 20mbit prio 3', {
      timerSlack: 0,
    });
    const cl = r.q.getClass(0x10001) as HtbClass;
    const tokens = cl.tokens;
    const toks = tokensFromArgv(['rate', '5mbit']);
    htbKind.changeClass!(r.q, 0x10001, htbKind.parseClass!(new Args(toks), { env: r.q.env, warn: () => {} }, r.q));
    expect([cl.rate, cl.ceil, cl.prio, cl.tokens]).toEqual([625000, 625000, 0, tokens]);
  });

  it('parses the qdisc options and refuses unknown ones', () => {
    const ctx: ParseContext = { env: createQdiscEnv(new Arena(4), seededRandom(1)), warn: () => {} };
    const p = (s: string) => htbKind.parseQdisc(new Args(tokensFromArgv(s.split(' '))), ctx);
    expect(p('default 30 r2q 5 direct_qlen 77')).toEqual({ defcls: 0x30, r2q: 5, directQlen: 77 });
    expect(p('def 1a')).toEqual({ defcls: 0x1a });
    expect(() => p('default 30 bogus')).toThrow(/What is "bogus"\?/);
    expect(TC_H_ROOT).toBe(0xffffffff);
  });
});
