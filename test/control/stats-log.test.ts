import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SojournTable } from '../../src/control/sojourn';
import { logSnapshot, sampleRates, snapshot } from '../../src/control/stats-log';
import type { ShapedSide } from '../../src/control/tree';
import { Arena } from '../../src/packet/arena';
import { tcHandle } from '../../src/qdisc/qdisc';
import { NS_PER_MS, NS_PER_SEC } from '../../src/time/clock';
import { makePacket } from '../support/packets';
import { FakePrio } from './fake-tree';

function scenario(): { arena: Arena; root: FakePrio; links: ShapedSide[]; send(classMinor: number, size: number, n: number): void } {
  const arena = new Arena(64);
  const root = new FakePrio(tcHandle(1, 0), arena, [2, 50]);
  const sojourn = new SojournTable();
  const links: ShapedSide[] = [{ dev: 'tq0', direction: 'egress', tree: { root }, sojourn }];
  return {
    arena,
    root,
    links,
    /** n packets through class 1:minor, each enqueued and dequeued after 2 ms */
    send(minor, size, n) {
      for (let i = 0; i < n; i++) {
        const pkt = makePacket(arena, { size });
        arena.classid[pkt] = tcHandle(1, minor);
        root.enqueue(pkt, 0);
        const out = root.dequeue(0);
        sojourn.observe(arena.classid[out], 2 * NS_PER_MS);
        arena.free(out);
      }
    },
  };
}

describe('sampleRates', () => {
  it('feeds every qdisc and class estimator, so each reports its own rate', () => {
    const s = scenario();
    sampleRates(() => s.links, 0); // baseline
    s.send(1, 100, 10); // 1000 B/s through 1:1
    s.send(2, 500, 4); // 2000 B/s through 1:2
    sampleRates(() => s.links, NS_PER_SEC);
    // RateEstimator is an EWMA with weight 0.5 starting from 0: after one 1 s interval it holds half
    // the interval's rate.
    expect(s.root.stats.rate.bps).toBe(0.5 * 3000);
    expect(s.root.stats.rate.pps).toBe(0.5 * 14);
    expect(s.root.bands[0].stats.rate.bps).toBe(0.5 * 1000);
    expect(s.root.bands[1].stats.rate.bps).toBe(0.5 * 2000);
    expect(s.root.bands[1].leaf.stats.rate.pps).toBe(0.5 * 4); // leaf qdiscs too
  });
});

describe('snapshot', () => {
  it('lists every qdisc and class of every link with its counters, labelled as tc prints them', () => {
    const s = scenario();
    s.send(1, 100, 3);
    for (let i = 0; i < 3; i++) {
      const pkt = makePacket(s.arena, { size: 64 });
      s.arena.classid[pkt] = tcHandle(1, 1);
      s.root.enqueue(pkt, 0); // limit 2: the third is dropped
    }
    const snap = snapshot(() => s.links);
    expect(snap.links).toHaveLength(1);
    const link = snap.links[0];
    expect(link.dev).toBe('tq0');
    expect(link.qdiscs.map((q) => `${q.kind} ${q.handle} parent ${q.parent}`)).toEqual(['prio 1: parent root', 'pfifo 0: parent 1:1', 'pfifo 0: parent 1:2']);
    expect(link.classes.map((c) => `${c.classid} ${c.parent} ${c.leaf}`)).toEqual(['1:1 1: pfifo 0:', '1:2 1: pfifo 0:']);
    const root = link.qdiscs[0];
    expect(root).toMatchObject({ packets: 3, bytes: 300, drops: 1, dropsByReason: { queue_full: 1 }, qlen: 2, backlog: 128 });
    expect(link.classes[1]).toMatchObject({ packets: 0, drops: 0, dropsByReason: {} });
    expect(link.sojourn).toEqual([{ class: '1:1', count: 3, meanSeconds: 0.002 }]);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap); // plain data, safe to log
  });
});

describe('logSnapshot', () => {
  it('logs the snapshot through pino at info level', async () => {
    const s = scenario();
    s.send(2, 200, 1);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    logSnapshot(pino({ base: null }, sink), () => s.links);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]);
    expect(rec.level).toBe(30);
    expect(rec.msg).toBe('tc statistics snapshot');
    expect(rec.stats.links[0].classes[1]).toMatchObject({ classid: '1:2', packets: 1, bytes: 200 });
  });
});
