/**
 * The Forwarder: one direction of one link, from packets read to packets written.
 *
 *   readable ─▶ readBatch ─▶ preparePacket ─▶ enqTime ─▶ tree.root.enqueue(pkt, now)
 *                                                              │
 *   writeBatch ◀── tx batch (64) ◀── tree.root.dequeue(now) ◀──┘ ◀── timer (root.wakeAt)
 *
 * After every read batch, and whenever the timer fires, the forwarder dequeues every packet the tree
 * releases at that instant and writes them in batches (the kernel's __qdisc_run: one wake-up may send
 * many packets). If packets remain queued after that, the tree is throttled and its root's `wakeAt`
 * (the minimum over the tree) is when to come back: the forwarder arms its timer for it, unless it is
 * already armed for that instant. A timer that fires early finds the tree still throttled and re-arms;
 * one that fires late is harmless (token buckets use the real `now`).
 *
 * The tree is a mutable holder: the tc layer replaces `tree.root` and changes classes live, so the
 * forwarder reads `tree.root` at each use, and `kick()` after a change lets a newly unthrottled tree
 * send at once.
 *
 * Keep-warm (`keepWarm`, off by default; `tunqos run` turns it on): while packets have been seen in the
 * last `keepWarmWindow` (1 s), the forwarder never sleeps longer than `keepWarm`. When to wake, and
 * why keeping warm pays, is the WakeupPolicy's (src/forwarder/wakeup.ts); the figures are in
 * bench/NOTES.md ("Keep-warm").
 *
 * Malformed packets (src/packet/prepare.ts) are counted by reason and freed, never thrown on. Drops
 * inside the tree are counted by the qdiscs (root.stats). Steady-state forwarding allocates nothing:
 * the id arrays are preallocated, callbacks are bound once, counters are plain numbers and typed arrays.
 *
 * Differences from Linux: one thread per process, so there is no qdisc lock and no requeue to a busy
 * driver: a packet handed to writeBatch is sent or counted as a tx error.
 */
import type { Link } from '../link/link';
import type { Arena } from '../packet/arena';
import { PREP_OK, PREP_REASON_NAMES, preparePacket } from '../packet/prepare';
import { Fifo } from '../qdisc/fifo';
import type { QdiscEnv, QdiscTree } from '../qdisc/qdisc';
import type { Clock, Nanos } from '../time/clock';
import type { WakeupTimer } from '../time/timer';
import { DEFAULT_KEEP_WARM_WINDOW_NS, WakeupPolicy } from './wakeup';


export interface ForwarderOptions {
  /** where packets come from; its arena is the forwarder's (tx must share it) */
  rx: Link;
  /** where packets go out (default: back into rx, e.g. a TUN whose kernel side routes them on) */
  tx?: Link;
  clock: Clock;
  timer: WakeupTimer;
  tree: QdiscTree;
  /** packets per readBatch (default 64) */
  rxBatch?: number;
  /** packets per writeBatch (default 64) */
  txBatch?: number;
  /** read batches per readable event before yielding to the event loop (default 16) */
  maxReadBatches?: number;
  /** told the sojourn time of every dequeued packet (metrics' latency histograms); must not allocate */
  sojourn?: SojournSink | null;
  /** longest sleep while traffic is recent, in ns (0, the default: sleep until something happens) */
  keepWarm?: Nanos;
  /** how long after the last packet read the keep-warm ticks go on, in ns (default 1 s) */
  keepWarmWindow?: Nanos;
}

/** Receives each dequeued packet's class and time spent queued (src/control/sojourn.ts implements it). */
export interface SojournSink {
  observe(classid: number, ns: Nanos): void;
}

/**
 * What this forwarder did. The rx/tx figures are this forwarder's own (a link's LinkCounters count
 * every caller of that link for its whole life, and tx may be rx); drops are reported by
 * src/control/drops.ts from these, the rx link's counters and the tree's stats.
 */
export class ForwarderCounters {
  /** packets and bytes read from rx (malformed ones included) */
  rxPackets = 0;
  rxBytes = 0;
  /** packets and bytes written to tx */
  txPackets = 0;
  txBytes = 0;
  /** dequeued packets the tx link failed to write */
  txErrors = 0;
  /** malformed packets by PREP_* reason (index 0, PREP_OK, stays 0) */
  readonly malformed = new Float64Array(PREP_REASON_NAMES.length);
  /** timer expiries for the tree, and how many found nothing to send (early or superfluous) */
  wakeups = 0;
  idleWakeups = 0;
  /** timer expiries that were keep-warm ticks (not counted in wakeups) */
  warmTicks = 0;
}

/** The default tree of a device without configuration: a pfifo of txqueuelen packets, like Linux's. */
export function defaultTree(env: QdiscEnv): QdiscTree {
  return { root: new Fifo('pfifo', 0, env) };
}

export class Forwarder {
  readonly rx: Link;
  readonly tx: Link;
  readonly arena: Arena;
  readonly clock: Clock;
  readonly tree: QdiscTree;
  readonly counters = new ForwarderCounters();
  /** when the timer fires next and why (the timer itself is wakeup.timer) */
  readonly wakeup: WakeupPolicy;
  running = false;
  private stopped = false;
  private readonly rxIds: Int32Array;
  private readonly txIds: Int32Array;
  private readonly rxBatch: number;
  private readonly txBatch: number;
  private readonly maxReadBatches: number;
  private readonly sojourn: SojournSink | null;
  private readonly onReadableBound: () => void;
  private readonly onTimerBound: () => void;

  constructor(opts: ForwarderOptions) {
    this.rx = opts.rx;
    this.tx = opts.tx ?? opts.rx;
    this.arena = opts.rx.arena;
    this.clock = opts.clock;
    this.tree = opts.tree;
    this.rxBatch = opts.rxBatch ?? 64;
    this.txBatch = opts.txBatch ?? 64;
    this.maxReadBatches = opts.maxReadBatches ?? 16;
    this.sojourn = opts.sojourn ?? null;
    if (this.rxBatch < 1 || this.txBatch < 1) throw new RangeError('rxBatch and txBatch must be at least 1');
    if (this.tx.arena !== this.arena) throw new RangeError('rx and tx must share one arena');
    this.wakeup = new WakeupPolicy(opts.timer, opts.keepWarm ?? 0, opts.keepWarmWindow ?? DEFAULT_KEEP_WARM_WINDOW_NS);
    this.rxIds = new Int32Array(this.rxBatch);
    this.txIds = new Int32Array(this.txBatch);
    this.onReadableBound = () => this.onReadable();
    this.onTimerBound = () => this.onTimer();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.wakeup.timer.onFire(this.onTimerBound);
    this.rx.onReadable(this.onReadableBound);
  }

  /**
   * Stops forwarding: closes the timer and the links, and purges what the tree still holds (counted
   * by the qdiscs as purge drops), so every arena slot is free again. The forwarder owns its links
   * from construction on: stop() closes them whether or not start() ran, and only once.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    this.wakeup.close();
    this.rx.close();
    if (this.tx !== this.rx) this.tx.close();
    this.tree.root.reset();
  }

  /** After a live configuration change: send what the changed tree releases now, re-arm the timer. */
  kick(): void {
    if (this.running) this.drain(this.clock.now());
  }

  /** Reads until the link is empty (or a fair share of batches), enqueuing and draining as it goes. */
  onReadable(): void {
    const rx = this.rx;
    const arena = this.arena;
    const ids = this.rxIds;
    const c = this.counters;
    for (let b = 0; b < this.maxReadBatches; b++) {
      const n = rx.readBatch(ids, this.rxBatch);
      if (n === 0) break;
      const now = this.clock.now();
      this.wakeup.packetsRead(now);
      const root = this.tree.root;
      for (let i = 0; i < n; i++) {
        const id = ids[i];
        c.rxPackets++;
        c.rxBytes += arena.len[id];
        const verdict = preparePacket(arena, id);
        if (verdict !== PREP_OK) {
          c.malformed[verdict]++;
          arena.free(id);
          continue;
        }
        arena.enqTime[id] = now;
        root.enqueue(id, now); // drops are the qdisc's to count and free
      }
      this.drain(now);
      if (n < this.rxBatch) break;
    }
  }

  private onTimer(): void {
    if (!this.running) return;
    if (this.wakeup.fired(this.clock.now())) {
      // A keep-warm tick: take the path a packet would, read then drain; the drain stops the ticks
      // once the window has passed.
      this.counters.warmTicks++;
      this.onReadable();
      this.drain(this.clock.now());
      return;
    }
    this.counters.wakeups++;
    const sent = this.drain(this.clock.now());
    if (sent === 0) this.counters.idleWakeups++;
  }

  /** Dequeues everything the tree releases at `now`, writes it in batches; then the wake-up policy decides. */
  drain(now: Nanos): number {
    const root = this.tree.root;
    const ids = this.txIds;
    const batch = this.txBatch;
    let k = 0;
    let out = 0;
    for (;;) {
      const id = root.dequeue(now);
      if (id < 0) break;
      if (this.sojourn !== null) this.sojourn.observe(this.arena.classid[id], now - this.arena.enqTime[id]);
      ids[k++] = id;
      out++;
      if (k === batch) {
        this.flush(k);
        k = 0;
      }
    }
    if (k > 0) this.flush(k);
    // wakeAt matters only while packets wait. Not reading it otherwise keeps an idle drain from
    // boxing a float field into a fresh number for the call (as V8 does when the root's type varies).
    const qlen = root.stats.qlen;
    this.wakeup.afterDrain(now, qlen, qlen > 0 ? root.wakeAt : Infinity);
    return out;
  }

  private flush(k: number): void {
    const tx = this.tx;
    const before = tx.counters.txBytes;
    const sent = tx.writeBatch(this.txIds, k); // frees every slot
    this.counters.txPackets += sent;
    this.counters.txErrors += k - sent;
    this.counters.txBytes += tx.counters.txBytes - before;
  }
}
