/**
 * The device model (src/tc/device.ts): two sides whose objects never change identity, handles unique
 * across both, the kernel's show orders (qdisc hash buckets, class hash walk), and filter chains
 * attached to the qdiscs and classes they name after every change.
 */
import { describe, expect, it } from 'vitest';
import { TC_H_INGRESS, TC_H_ROOT, isClassful } from '../../src/qdisc/qdisc';
import { seededRandom } from '../../src/qdisc/env';
import { ClassHash } from '../../src/tc/class-order';
import { qdiscHashBucket } from '../../src/tc/device';
import { visibleQdiscs } from '../../src/tc/show';
import { TcSystem } from '../../src/tc/system';

function device(config = '') {
  const sys = new TcSystem({ random: seededRandom(7) });
  const dev = sys.addDevice('tq0');
  if (config) sys.applyText(config, 'dev.tc');
  return { sys, dev };
}

const HTB = `qdisc add dev tq0 root handle 1: htb default 10
class add dev tq0 parent 1: classid 1:1 htb rate 10mbit
class add dev tq0 parent 1:1 classid 1:10 htb rate 5mbit
class add dev tq0 parent 1:1 classid 1:20 htb rate 5mbit
`;

describe('device sides', () => {
  it('starts with a pfifo_fast root (handle 0) and an ingress pass-through, no ingress qdisc', () => {
    const { dev } = device();
    expect(dev.egress.root.kind).toBe('pfifo_fast');
    expect(dev.egress.root.handle).toBe(0);
    expect(dev.egress.root.parent).toBe(TC_H_ROOT);
    expect(dev.ingressQdisc).toBeNull();
    expect(dev.allQdiscs().map((e) => [e.side, e.parent])).toEqual([
      ['egress', TC_H_ROOT],
      ['ingress', TC_H_INGRESS],
    ]);
  });

  it('keeps each side object when its root is replaced (the forwarder holds the side)', () => {
    const { sys, dev } = device();
    const egress = dev.egress;
    const ingress = dev.ingress;
    sys.applyText(HTB + 'qdisc add dev tq0 handle ffff: ingress\n', 'dev.tc');
    expect(dev.egress).toBe(egress);
    expect(dev.ingress).toBe(ingress);
    expect(egress.root.handle).toBe(0x10000);
    expect(dev.ingressQdisc).toBe(ingress.root);
    sys.applyText('qdisc del dev tq0 root\n', 'dev.tc');
    expect(dev.egress).toBe(egress);
    expect(egress.root.handle).toBe(0);
  });

  it('refuses a handle already used on the other side (handles are per device)', () => {
    const { sys, dev } = device(HTB + 'qdisc add dev tq0 handle ffff: ingress\n');
    expect(() => sys.applyText('qdisc add dev tq0 parent ffff: handle 1: pfifo limit 10\n', 'dev.tc')).toThrow(/handle 1: is already used on tq0/);
    sys.applyText('qdisc add dev tq0 parent ffff: handle 2: pfifo limit 10\n', 'dev.tc');
    expect(dev.findQdisc(0x10000)?.side).toBe('egress');
    expect(dev.findQdisc(0x20000)?.side).toBe('ingress');
    expect(dev.findQdisc(0x20000)?.parent).toBe(0xffff0000);
    expect(() => sys.applyText('qdisc add dev tq0 parent 1:10 handle 2: pfifo\n', 'dev.tc')).toThrow(/handle 2: is already used on tq0/);
  });
});

describe('show orders', () => {
  it('hash_32(handle, 4) buckets: 1: in bucket 8, 2: in 0, 16: with 1: in 8', () => {
    expect(qdiscHashBucket(0x10000)).toBe(8);
    expect(qdiscHashBucket(0x20000)).toBe(0);
    expect(qdiscHashBucket(0x160000)).toBe(8);
    expect(qdiscHashBucket(0x30000)).toBe(9);
  });

  it('lists the root, then the other qdiscs by hash bucket, the newest first within a bucket', () => {
    // 1: is the root; 3: (bucket 9), 16: and 29: (bucket 8), 2: (bucket 0)
    const { dev } = device(`qdisc add dev tq0 root handle 1: htb
class add dev tq0 parent 1: classid 1:1 htb rate 1mbit
class add dev tq0 parent 1: classid 1:2 htb rate 1mbit
class add dev tq0 parent 1: classid 1:3 htb rate 1mbit
class add dev tq0 parent 1: classid 1:4 htb rate 1mbit
qdisc add dev tq0 parent 1:1 handle 3: pfifo
qdisc add dev tq0 parent 1:2 handle 16: pfifo
qdisc add dev tq0 parent 1:3 handle 29: pfifo
qdisc add dev tq0 parent 1:4 handle 2: pfifo
`);
    expect(visibleQdiscs(dev).map((e) => e.q.handle >>> 16)).toEqual([0x1, 0x2, 0x29, 0x16, 0x3]);
  });

  it('lists classes in the walk of their class hash, which remembers a grow after a delete', () => {
    const { sys, dev } = device(`qdisc add dev tq0 root handle 1: htb
class add dev tq0 parent 1: classid 1:1 htb rate 10mbit
class add dev tq0 parent 1:1 classid 1:10 htb rate 1mbit
class add dev tq0 parent 1:1 classid 1:20 htb rate 1mbit
class add dev tq0 parent 1:1 classid 1:30 htb rate 1mbit
`);
    const q = dev.egress.root;
    if (!isClassful(q)) throw new Error('htb is classful');
    const order = (): string[] => dev.classesOf(q).map((c) => c.classid.toString(16));
    expect(order()).toEqual(['10001', '10010', '10020', '10030']);
    sys.applyText('class del dev tq0 classid 1:20\n', 'dev.tc');
    // the table grew to 8 buckets on the fourth class and stays so: not the order 1:1 1:10 1:30 would get afresh
    expect(order()).toEqual(['10001', '10010', '10030']);
    const fresh = new ClassHash();
    for (const id of [0x10001, 0x10010, 0x10030]) fresh.insert(id);
    expect(fresh.walk().map((c) => c.toString(16))).toEqual(['10010', '10001', '10030']);
    // the engine itself keeps the order classes were added in
    expect(q.classes().map((c) => c.classid.toString(16))).toEqual(['10001', '10010', '10030']);
  });

  it('ClassHash walks as the kernel did for tree3 (fixture order)', () => {
    const h = new ClassHash();
    for (const id of [0x10001, 0x10010, 0x10100, 0x10101, 0x10020, 0x10030, 0x10040]) h.insert(id);
    expect(h.walk().map((c) => `1:${(c & 0xffff).toString(16)}`)).toEqual(['1:101', '1:100', '1:10', '1:1', '1:20', '1:30', '1:40']);
  });

  it('lists the classes a qdisc comes with (prio bands) as the qdisc holds them', () => {
    const { dev } = device('qdisc add dev tq0 root handle 1: prio\n');
    const q = dev.egress.root;
    if (!isClassful(q)) throw new Error('prio is classful');
    expect(dev.classesOf(q).map((c) => c.classid)).toEqual(q.classes().map((c) => c.classid));
    expect(dev.classesOf(q)).toHaveLength(3);
  });
});

describe('filter chains', () => {
  it('attaches each parent chain to its qdisc or class after every change, and detaches deleted ones', () => {
    const { sys, dev } = device(HTB);
    const q = dev.egress.root;
    if (!isClassful(q)) throw new Error('htb is classful');
    expect(q.filters).toBeNull();
    sys.applyText('filter add dev tq0 parent 1: protocol ip prio 1 u32 match ip dport 80 0xffff flowid 1:10\nfilter add dev tq0 parent 1:1 protocol ip prio 1 u32 match ip dport 22 0xffff flowid 1:20\n', 'dev.tc');
    const chain = q.filters;
    expect(chain).not.toBeNull();
    expect(q.getClass(0x10001)!.filters).not.toBeNull();
    expect(q.getClass(0x10010)!.filters).toBeNull();
    // a change that keeps the qdisc keeps its filters, with a chain compiled afresh
    sys.applyText('class change dev tq0 parent 1:1 classid 1:10 htb rate 6mbit\n', 'dev.tc');
    expect(q.filters).not.toBeNull();
    expect(dev.filters.chainFor(0x10000)).toBe(q.filters);
    sys.applyText('filter del dev tq0 parent 1:1\n', 'dev.tc');
    expect(q.getClass(0x10001)!.filters).toBeNull();
    expect(q.filters).not.toBeNull();
    sys.applyText('qdisc del dev tq0 root\n', 'dev.tc');
    expect(dev.egress.root.filters).toBeNull();
    expect(dev.filters.parents()).toEqual([]);
  });
});
