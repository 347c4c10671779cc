import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { onSignal } from '../../src/cli/signals';
import { logSnapshot } from '../../src/control/stats-log';
import type { ShapedSide } from '../../src/control/tree';
import { Arena } from '../../src/packet/arena';
import { tcHandle } from '../../src/qdisc/qdisc';
import { makePacket } from '../support/packets';
import { FakePrio } from '../control/fake-tree';

describe('onSignal: the snapshot trigger run wires to SIGUSR1', () => {
  it('logs the snapshot through pino when the signal arrives, until uninstalled', async () => {
    const arena = new Arena(64);
    const root = new FakePrio(tcHandle(1, 0), arena, [2, 50]);
    const links: ShapedSide[] = [{ dev: 'tq0', direction: 'egress', tree: { root } }];
    const pkt = makePacket(arena, { size: 200 });
    arena.classid[pkt] = tcHandle(1, 2);
    root.enqueue(pkt, 0);
    arena.free(root.dequeue(0));
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = pino({ base: null }, sink);
    const signal = 'SIGUSR2'; // not SIGUSR1 here: the test runner may use the inspector
    const before = process.listenerCount(signal);
    const uninstall = onSignal(signal, () => logSnapshot(logger, () => links));
    process.emit(signal, signal);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]);
    expect(rec.msg).toBe('tc statistics snapshot');
    expect(rec.stats.links[0].classes[1]).toMatchObject({ classid: '1:2', packets: 1, bytes: 200 });
    uninstall();
    expect(process.listenerCount(signal)).toBe(before);
  });
});
