import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/packet/arena';
import { TcSystem } from '../../src/tc/system';
import { warmUp } from '../../src/runtime/warmup';
import { seededRandom } from '../../src/qdisc/env';

describe('JIT warm-up', () => {
  it('forwards synthetic traffic through scratch trees, leaves them empty and touches no other tree', () => {
    const cfg = `qdisc add dev tq0 root handle 1: htb default 30
class add dev tq0 parent 1: classid 1:1 htb rate 20mbit
class add dev tq0 parent 1:1 classid 1:10 htb rate 3mbit ceil 20mbit prio 0
class add dev tq0 parent 1:1 classid 1:30 htb rate 10mbit ceil 20mbit prio 3
qdisc add dev tq0 parent 1:30 handle 30: sfq perturb 10
filter add dev tq0 parent 1: protocol ip prio 1 u32 match ip dsfield 0xb8 0xfc flowid 1:10
`;
    const scratch = new TcSystem({ random: seededRandom(1), arena: new Arena(4096) });
    scratch.applyText(cfg, 'warm.tc');
    const live = new TcSystem({ random: seededRandom(1) });
    live.applyText(cfg, 'live.tc');
    const liveBefore = live.execute(['-s', 'class', 'show', 'dev', 'tq0']).stdout;

    const dev = scratch.devices.get('tq0')!;
    const r = warmUp([dev.egress, dev.ingress], scratch.arena, 4000);
    expect(r.offered).toBe(8000); // 4000 per side
    // 200 µs of simulated time per 32 packets: each side carries ~4000 packets in 25 ms of simulated time,
    // so the 20 mbit egress tree sends only what its rate (plus buckets) allows while the pass-through
    // ingress side forwards everything; the HTB's queues were exercised, then purged.
    expect(r.forwarded).toBeGreaterThan(4000);
    expect(r.forwarded).toBeLessThan(8000);
    expect(dev.egress.root.stats.qlen).toBe(0);
    expect(scratch.arena.available).toBe(scratch.arena.slotCount);
    // the HTB classes saw traffic in both the filtered and the default class
    const shown = scratch.execute(['-s', 'class', 'show', 'dev', 'tq0']).stdout;
    expect(shown).toMatch(/class htb 1:10 [^\n]*\n Sent [1-9]/);
    expect(shown).toMatch(/class htb 1:30 [^\n]*\n Sent [1-9]/);
    expect(live.execute(['-s', 'class', 'show', 'dev', 'tq0']).stdout).toBe(liveBefore);
  });
});
