import { describe, expect, it } from 'vitest';
import { forEachQueue, walkTree } from '../../src/control/tree';
import { Arena } from '../../src/packet/arena';
import { seededRandom } from '../../src/qdisc/env';
import { type ClassfulQdisc, formatHandle, isClassful } from '../../src/qdisc/qdisc';
import { TcSystem } from '../../src/tc/system';

// Eight classes: the kernel's class hash grows past 3/4 full, so its walk order differs from the
// order the classes were added (which is HTB's own order).
const CONFIG = [
  'tc qdisc add dev tq0 root handle 1: htb default 30',
  'tc class add dev tq0 parent 1: classid 1:1 htb rate 10mbit',
  ...[0x10, 0x20, 0x30, 0x11, 0x21, 0x31, 0x12].map((m) => `tc class add dev tq0 parent 1:1 classid 1:${m.toString(16)} htb rate 1mbit`),
].join('\n');

function setup() {
  const sys = new TcSystem({ arena: new Arena(64), random: seededRandom(1) });
  sys.applyText(CONFIG, 'tree.tc');
  const model = sys.devices.get('tq0')!;
  const shown = sys
    .execute(['class', 'show', 'dev', 'tq0'])
    .stdout.split('\n')
    .filter((l) => l.startsWith('class '))
    .map((l) => l.split(' ')[2]);
  return { sys, model, root: model.egress.root, shown };
}

describe('control/tree: the walk the metrics and snapshots make', () => {
  it('with the device model\'s classesOf, visits classes in the order tc class show lists them', () => {
    const { model, root, shown } = setup();
    const seen: string[] = [];
    walkTree(root, { qdisc: () => {}, cls: (c) => seen.push(formatHandle(c.classid)) }, (q) => model.classesOf(q));
    expect(seen).toEqual(shown);
    // the test means something only if that order is not HTB's own
    expect(isClassful(root) && (root as ClassfulQdisc).classes().map((c) => formatHandle(c.classid))).not.toEqual(shown);
  });

  it('forEachQueue labels the leaves in that same order', () => {
    const { model, root, shown } = setup();
    const labels: string[] = [];
    forEachQueue(root, (q) => model.classesOf(q), (label) => labels.push(label));
    expect(labels).toEqual(shown.filter((h) => h !== '1:1'));
  });
});
