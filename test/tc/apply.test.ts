import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { preparePacket } from '../../src/packet/prepare';
import { TcSystem } from '../../src/tc/system';
import { IngressQdisc } from '../../src/qdisc/ingress';
import { TcError } from '../../src/tc/tokens';
import { ip, makePacket } from '../support/packets';
import { seededRandom } from '../../src/qdisc/env';

const HTB = `
tc qdisc add dev tq0 root handle 1: htb default 30
tc class add dev tq0 parent 1: classid 1:1 htb rate 6mbit burst 15k
tc class add dev tq0 parent 1:1 classid 1:10 htb rate 5mbit burst 15k
tc class add dev tq0 parent 1:1 classid 1:30 htb rate 1mbit ceil 6mbit burst 15k
tc qdisc add dev tq0 parent 1:10 handle 10: pfifo limit 50
tc filter add dev tq0 parent 1: protocol ip prio 1 u32 match ip dport 80 0xffff flowid 1:10
`;

function system(text = HTB, arena?: Arena): TcSystem {
  const s = new TcSystem({ random: seededRandom(1), arena });
  s.applyText(text, 'base.tc');
  return s;
}
const show = (s: TcSystem): string =>
  ['qdisc', 'class', 'filter'].map((o) => s.execute(['-s', o, 'show', 'dev', 'tq0']).stdout).join('');
const errorOf = (f: () => unknown): TcError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TcError);
    return e as TcError;
  }
  throw new Error('expected a TcError');
};

describe('applying tc commands', () => {
  it('builds the tree: qdiscs, classes, leaf qdiscs, filters attached to their parent', () => {
    const s = system();
    const d = s.devices.get('tq0')!;
    expect(d.egress.root.kind).toBe('htb');
    expect(d.egress.root.filters).not.toBeNull();
    const c = d.findClass(0x10010)!;
    expect(c.cls.leaf?.kind).toBe('pfifo');
    expect(c.cls.leaf?.handle).toBe(0x100000);
    expect(s.execute(['class', 'show', 'dev', 'tq0']).stdout).toMatch(/class htb 1:10 parent 1:1 leaf 10: prio 0 rate 5Mbit/);
  });

  it('qdisc add on an occupied parent fails like tc; replace replaces; change keeps the object', () => {
    const s = system();
    const d = s.devices.get('tq0')!;
    expect(errorOf(() => s.applyText('qdisc add dev tq0 root handle 2: pfifo', 'x.tc')).message).toBe(
      'x.tc:1:34: Exclusivity flag on, cannot modify (a qdisc is already there: use replace or change)',
    );
    expect(errorOf(() => s.applyText('qdisc add dev tq0 parent 1:30 handle 10: pfifo', 'x.tc')).message).toMatch(
      /^x\.tc:1:38: Exclusivity flag on, cannot override \(handle 10: is already used on tq0\)/,
    );
    const leaf = d.findClass(0x10010)!.cls.leaf!;
    s.applyText('qdisc change dev tq0 parent 1:10 handle 10: pfifo limit 7', 'x.tc');
    expect(d.findClass(0x10010)!.cls.leaf).toBe(leaf);
    expect(s.execute(['qdisc', 'show', 'dev', 'tq0', 'handle', '10:']).stdout).toBe('qdisc pfifo 10: parent 1:10 limit 7p\n');
    s.applyText('qdisc replace dev tq0 parent 1:10 handle 11: bfifo limit 3000', 'x.tc');
    expect(d.findClass(0x10010)!.cls.leaf!.kind).toBe('bfifo');
    expect(d.findQdisc(0x100000)).toBeUndefined();
    s.applyText('qdisc replace dev tq0 root handle 5: pfifo limit 9', 'x.tc');
    expect(show(s)).toBe('qdisc pfifo 5: root refcnt 2 limit 9p\n Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) \n backlog 0b 0p requeues 0\n');
  });

  it('qdisc del of the root returns to the default root and drops its filters', () => {
    const s = system();
    s.applyText('qdisc del dev tq0 root', 'x.tc');
    const d = s.devices.get('tq0')!;
    expect(d.egress.root.kind).toBe('pfifo_fast');
    expect(d.egress.root.handle).toBe(0);
    expect(d.filters.parents()).toEqual([]);
    expect(errorOf(() => s.applyText('qdisc del dev tq0 root', 'y.tc')).message).toMatch(/^y\.tc:1:19: Cannot delete qdisc with handle of zero/);
  });

  it('enforces the tree rules of seeds §1.3 with the location of the offending token', () => {
    const s = system();
    const cases: [string, RegExp][] = [
      ['class add dev tq0 parent 1:1 classid 2:5 htb rate 1mbit', /^e\.tc:1:38: no qdisc 2: on tq0/],
      ['class add dev tq0 parent 1:99 classid 1:5 htb rate 1mbit', /^e\.tc:1:26: parent class 1:99 does not exist/],
      ['class add dev tq0 parent 1:1 classid 1:10 htb rate 1mbit', /^e\.tc:1:38: class 1:10 already exists/],
      ['class change dev tq0 classid 1:77 htb rate 1mbit', /class 1:77 not found/],
      ['class del dev tq0 classid 1:1', /^e\.tc:1:27: class 1:1 has child classes/],
      ['qdisc add dev tq0 parent 1:1 handle 7: pfifo', /^e\.tc:1:26: class 1:1 has child classes: only a leaf class holds a qdisc/],
      ['qdisc add dev tq0 parent 1: handle 7: pfifo', /parent 1: names a qdisc/],
      ['class add dev tq0 parent 1:1 classid 1:5 sfq', /class kind sfq does not match qdisc 1: \(htb\)/],
      ['qdisc add dev tq0 root handle 1: frobnicate', /^e\.tc:1:34: unknown qdisc kind "frobnicate" \(tunqos supports: .*htb.*pfifo/],
      ['qdisc add dev tq1 root htb rate', /^e\.tc:1:/],
      ['qdisc add dev tq0 parent ffff: handle 3: pfifo', /no ingress qdisc on tq0/],
      ['qdisc add dev tq0 root clsact', /clsact is not supported/],
    ];
    for (const [line, re] of cases) expect(errorOf(() => s.applyText(line, 'e.tc')).message).toMatch(re);
  });

  it('a class with children, with filters attached, or named by a filter cannot be deleted until they are gone', () => {
    const s = system(
      `${HTB}\ntc class add dev tq0 parent 1: classid 1:2 htb rate 1mbit\n` +
        'tc filter add dev tq0 parent 1:1 protocol ip prio 1 u32 match ip dport 22 0xffff flowid 1:2\n',
    );
    expect(errorOf(() => s.applyText('class del dev tq0 classid 1:30\nclass del dev tq0 classid 1:1', 'd.tc')).message).toMatch(
      /^d\.tc:2:27: class 1:1 has child classes/,
    );
    // the root's filter says flowid 1:10: Linux refuses with "HTB class in use" (checked on this kernel)
    expect(errorOf(() => s.applyText('class del dev tq0 classid 1:30\nclass del dev tq0 classid 1:10', 'd.tc')).message).toMatch(
      /^d\.tc:2:27: class 1:10 is in use by filter parent 1: pref 1 /,
    );
    expect(s.devices.get('tq0')!.findClass(0x10030)).toBeDefined(); // the batch changed nothing
    s.applyText('filter del dev tq0 parent 1: prio 1\nclass del dev tq0 classid 1:30\nclass del dev tq0 classid 1:10', 'd.tc');
    expect(s.devices.get('tq0')!.findClass(0x10030)).toBeUndefined();
    expect(errorOf(() => s.applyText('class del dev tq0 classid 1:1', 'd.tc')).message).toMatch(/^d\.tc:1:27: class 1:1 has filters attached/);
    s.applyText('filter del dev tq0 parent 1:1\nclass del dev tq0 classid 1:1', 'd.tc');
    expect(s.devices.get('tq0')!.findClass(0x10001)).toBeUndefined();
  });

  it('errors on continuation lines point at the physical line and column', () => {
    const s = new TcSystem({ random: seededRandom(1) });
    const text = 'tc qdisc add dev tq0 root handle 1: htb default 30\ntc class add dev tq0 parent 1: classid 1:1 \\\n    htb rate 6mbitt burst 15k\n';
    expect(errorOf(() => s.applyText(text, 'c.tc')).message).toMatch(/^c\.tc:3:14: .*"6mbitt"/);
  });

  it('is atomic: a config whose 5th command fails leaves the model exactly as it was', () => {
    const s = system();
    const d = s.devices.get('tq0')!;
    const before = show(s);
    const root = d.egress.root;
    const filters = d.filters;
    const bad = [
      'qdisc replace dev tq0 parent 1:30 handle 30: sfq',
      'class change dev tq0 classid 1:10 htb rate 2mbit',
      'class add dev tq0 parent 1:1 classid 1:40 htb rate 1mbit',
      'filter add dev tq0 parent 1: protocol ip prio 2 u32 match ip sport 25 0xffff flowid 1:40',
      'class add dev tq0 parent 1:1 classid 1:50 htb rate nonsense',
      'qdisc del dev tq0 root',
    ].join('\n');
    expect(errorOf(() => s.applyText(bad, 'bad.tc')).message).toMatch(/^bad\.tc:5:52: invalid rate "nonsense"/);
    expect(show(s)).toBe(before);
    expect(d.egress.root).toBe(root);
    expect(d.filters).toBe(filters);
    expect(d.findClass(0x10040)).toBeUndefined();
  });

  it('class change under traffic keeps every queued packet (in-memory path)', () => {
    const arena = new Arena(512);
    const s = system(HTB, arena);
    const d = s.devices.get('tq0')!;
    const root = d.egress.root;
    const ids: number[] = [];
    for (let i = 0; i < 40; i++) {
      const p = makePacket(arena, { size: 1000, dport: i % 2 ? 80 : 5000, dst: ip(10, 0, 1, 2) });
      preparePacket(arena, p);
      root.enqueue(p, 0);
      ids.push(p);
    }
    expect(root.stats.qlen).toBe(40);
    s.applyText('class change dev tq0 classid 1:10 htb rate 1mbit ceil 2mbit\nclass change dev tq0 classid 1:30 htb rate 500kbit', 'live.tc');
    expect(d.egress.root).toBe(root);
    expect(s.execute(['class', 'show', 'dev', 'tq0', 'classid', '1:10']).stdout).toMatch(/rate 1Mbit ceil 2Mbit/);
    const out = new Set<number>();
    for (let t = 0; t < 60e9 && out.size < 40; t += 1e6) {
      for (let p = root.dequeue(t); p >= 0; p = root.dequeue(t)) {
        out.add(p);
        arena.free(p);
      }
    }
    expect([...out].sort((a, b) => a - b)).toEqual(ids.sort((a, b) => a - b));
    expect(root.stats.drops).toBe(0);
  });

  it('qdisc del purges and counts what the qdisc held', () => {
    const arena = new Arena(64);
    const s = system('qdisc add dev tq0 root handle 1: pfifo limit 100', arena);
    const root = s.devices.get('tq0')!.egress.root;
    for (let i = 0; i < 5; i++) root.enqueue(makePacket(arena, {}), 0);
    const free = arena.available;
    const r = s.applyText('qdisc del dev tq0 root', 'x.tc');
    expect(arena.available).toBe(free + 5);
    expect(root.stats.drops).toBe(5);
    expect(r.notes[0]).toMatch(/qdisc pfifo 1: deleted, 5 queued packet\(s\) purged/);
  });

  it('live execute: tc-like answers, unknown devices, show of all devices, warnings on stderr', () => {
    const s = system();
    expect(s.execute(['qdisc', 'add', 'dev', 'nope', 'root', 'pfifo'])).toMatchObject({ code: 1, stderr: 'Error: Cannot find device "nope"\n' });
    const r = s.execute(['class', 'add', 'dev', 'tq0', 'parent', '1:1', 'classid', '1:20', 'estimator', '1s', '8s', 'htb', 'rate', '1mbit']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: estimator ignored/);
    expect(s.execute(['-j', 'qdisc', 'show']).stdout).toMatch(/^\[\{"kind":"htb","handle":"1:","root":true/);
    expect(s.execute(['filter', 'show', 'dev', 'tq0']).stdout).toMatch(/^filter parent 1: protocol ip pref 1 u32 chain 0 \n/);
  });

  it('ingress: the ingress qdisc polices, and a tree grafted under it shapes downloads', () => {
    const arena = new Arena(64);
    const s = new TcSystem({ random: seededRandom(1), arena });
    s.applyText(
      [
        'qdisc add dev tq0 handle ffff: ingress',
        'filter add dev tq0 parent ffff: protocol ip prio 1 u32 match ip src 10.9.0.0/16 action drop',
        'qdisc add dev tq0 parent ffff: handle 2: htb default 20',
        'class add dev tq0 parent 2: classid 2:20 htb rate 1mbit',
      ].join('\n'),
      'in.tc',
    );
    const d = s.devices.get('tq0')!;
    const side = d.ingress;
    expect(side.root).toBeInstanceOf(IngressQdisc);
    const ing = side.root as IngressQdisc;
    expect(ing.child.kind).toBe('htb');
    const bad = makePacket(arena, { src: ip(10, 9, 1, 1) });
    preparePacket(arena, bad);
    side.root.enqueue(bad, 0);
    expect(ing.stats.drops).toBe(1);
    const good = makePacket(arena, { src: ip(10, 8, 1, 1) });
    preparePacket(arena, good);
    side.root.enqueue(good, 0);
    expect(side.root.stats.qlen).toBe(1);
    expect(side.root.dequeue(1e9)).toBe(good);
    expect(s.execute(['qdisc', 'show', 'dev', 'tq0']).stdout).toBe(
      'qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\nqdisc ingress ffff: parent ffff:fff1 ---------------- \nqdisc htb 2: parent ffff: r2q 10 default 0x20 direct_packets_stat 0 direct_qlen 1000\n',
    );
    // the side object stays the same; deleting the ingress qdisc goes back to pass-through
    s.applyText('qdisc del dev tq0 ingress', 'x.tc');
    expect(d.ingress).toBe(side);
    expect(side.root).not.toBeInstanceOf(IngressQdisc);
  });
});

describe('class del while a filter points at the class (recorded on this kernel: "Error: HTB class in use.")', () => {
  it('is refused, naming the filter, and allowed once the filter is gone', async () => {
    const { TcSystem } = await import('../../src/tc/system');
    const s = new TcSystem({ random: seededRandom(1) });
    s.applyText(
      [
        'qdisc add dev tq0 root handle 1: htb default 20',
        'class add dev tq0 parent 1: classid 1:10 htb rate 1mbit',
        'class add dev tq0 parent 1: classid 1:20 htb rate 1mbit',
        'filter add dev tq0 parent 1: protocol ip prio 1 u32 match ip dport 80 0xffff flowid :10',
      ].join('\n'),
      'k.tc',
    );
    const refused = s.execute(['class', 'del', 'dev', 'tq0', 'classid', '1:10']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('class 1:10 is in use by filter parent 1: pref 1 fh 800::800');
    expect(s.execute(['class', 'show', 'dev', 'tq0']).stdout).toContain('class htb 1:10 ');
    expect(s.execute(['class', 'del', 'dev', 'tq0', 'classid', '1:20']).code).toBe(0); // no filter names 1:20
    expect(s.execute(['filter', 'del', 'dev', 'tq0', 'parent', '1:', 'prio', '1']).code).toBe(0);
    expect(s.execute(['class', 'del', 'dev', 'tq0', 'classid', '1:10']).code).toBe(0);
  });
});
