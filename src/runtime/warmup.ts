/**
 * JIT warm-up: forward synthetic traffic through a scratch copy of the configured trees before the
 * real devices open.
 *
 * Why: V8 optimises a function only after it has run many times. At ping rates (one packet every
 * 50 ms) the forwarder, the classifier and the qdiscs would stay in the baseline tier for minutes,
 * and every idle packet would pay for unoptimised code (the end-to-end benchmark measured it: tens of
 * µs of extra RTT). Methods live on the classes, so their type feedback and optimised code are shared
 * by every instance: running a scratch tree built by the same tc commands warms the live one.
 *
 * The scratch trees, arena, links, clock and timer are private to the warm-up; nothing it does shows
 * in the live counters. The packets vary in protocol, ports, addresses, TOS and size so that filters,
 * flow hashing and the shapers' throttled paths all run. Time is simulated (ManualClock), so a warm-up
 * of a shaped tree takes the same few tens of milliseconds as one of a FIFO.
 */
import { Forwarder } from '../forwarder/forwarder';
import type { QdiscTree } from '../qdisc/qdisc';
import { MemoryLink } from '../link/memory';
import type { Arena } from '../packet/arena';
import { ipv4Addr, synthPacket } from '../packet/synth';
import { ManualClock } from '../time/clock';
import { ManualTimer } from '../time/timer';

export interface WarmUpResult {
  /** packets offered to the scratch links, and how many came out of the trees */
  offered: number;
  forwarded: number;
}

/** A small valid IPv4 packet of the given protocol, size, TOS and ports. */
function syntheticPacket(i: number): Uint8Array {
  return synthPacket({
    proto: [17, 6, 1][i % 3],
    size: [64, 200, 576, 1500][(i >> 2) % 4],
    tos: [0x00, 0xb8, 0x10, 0x02][(i >> 4) % 4],
    src: ipv4Addr(10, 0, 0, 1 + (i % 7)),
    dst: ipv4Addr(10, 1, 0, 1 + (i % 5)),
    sport: (1024 + i * 7) & 0xffff,
    dport: [22, 80, 5201, 5202, 53, 443][i % 6],
  });
}

/**
 * Forwards `packets` synthetic packets through each scratch tree (all sharing `arena`), 32 per read
 * batch, advancing a simulated clock 200 µs per batch and firing the timer when due. Purges the
 * scratch trees at the end.
 */
export function warmUp(trees: readonly QdiscTree[], arena: Arena, packets = 20_000): WarmUpResult {
  const templates = Array.from({ length: 96 }, (_, i) => syntheticPacket(i));
  let offered = 0;
  let forwarded = 0;
  for (const tree of trees) {
    const rx = new MemoryLink(arena, { name: 'warmup', record: false, capacity: 1024 });
    const tx = new MemoryLink(arena, { name: 'warmup-tx', record: false });
    const clock = new ManualClock(1e9);
    const timer = new ManualTimer();
    const fwd = new Forwarder({ rx, tx, clock, timer, tree });
    fwd.start();
    for (let i = 0; i < packets; i += 32) {
      for (let k = 0; k < 32; k++) if (rx.inject(templates[(i + k) % templates.length])) offered++;
      rx.signal();
      clock.advance(200_000);
      timer.runDue(clock.now());
    }
    forwarded += fwd.counters.txPackets;
    fwd.stop(); // purges what the scratch tree still holds
  }
  return { offered, forwarded };
}
