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
 * Keep-warm (`keepWarm`, off by default; `tunqos run` turns it on): the first packet after the process
 * slept is slow for reasons that are not the forwarder's work: waking from epoll, entering V8 from
 * libuv, and code and data pages fallen out of the CPU's caches and TLB while other processes ran (on
 * a virtual machine a TLB miss costs a two-level page walk). Measured on the 2-core VM this was
 * written on, the user-space part of a lone packet's trip grows from ~15 µs when packets are 2 ms
 * apart to ~100 µs when they are 50 ms apart; a C read/write loop pays ~5 µs either way. So while
 * packets have been seen in the last `keepWarmWindow` (1 s), the forwarder never sleeps longer than
 * `keepWarm`: the timer wakes it, it polls the link (normally nothing to read) and drains the tree,
 * which walks the same libuv → addon → V8 → read path a packet takes and keeps it resident. The cost
 * is one short wake-up per `keepWarm` while traffic is sparse, none at all once the link has been
 * quiet for the window, and no change to what is sent or when (a tick only reads and drains, as a
 * readable event would). This is the user-space cousin of the kernel's busy polling (SO_BUSY_POLL),
 * which spins instead of ticking.
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
import { DROP_REASON_NAMES } from '../qdisc/stats';
import type { Clock, Nanos } from '../time/clock';
import type { WakeupTimer } from '../time/timer';

export interface ForwarderOptions {
  rx: Link;
  /** where packets go out (default: back into rx, e.g. a TUN whose kernel side routes them on) */
  tx?: Link;
  arena: Arena;
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

/** Never arm a timer closer than this after `now` when the tree says "now" but sent nothing. */
const MIN_REARM_NS = 1_000;

/** Default keep-warm window: ticks go on for this long after the last packet read. */
export const DEFAULT_KEEP_WARM_WINDOW_NS = 1e9;

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
  readonly timer: WakeupTimer;
  readonly tree: QdiscTree;
  readonly counters = new ForwarderCounters();
  /** the deadline the timer is armed for, Infinity when not armed */
  armedAt: Nanos = Infinity;
  /** true while the timer runs periodic keep-warm ticks rather than waiting for the tree's wakeAt */
  armedForWarmth = false;
  running = false;
  /** clock time of the last read that returned packets (-Infinity: none yet) */
  lastRxAt: Nanos = -Infinity;
  private readonly keepWarm: Nanos;
  private readonly keepWarmWindow: Nanos;
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
    this.arena = opts.arena;
    this.clock = opts.clock;
    this.timer = opts.timer;
    this.tree = opts.tree;
    this.rxBatch = opts.rxBatch ?? 64;
    this.txBatch = opts.txBatch ?? 64;
    this.maxReadBatches = opts.maxReadBatches ?? 16;
    this.sojourn = opts.sojourn ?? null;
    this.keepWarm = opts.keepWarm ?? 0;
    this.keepWarmWindow = opts.keepWarmWindow ?? DEFAULT_KEEP_WARM_WINDOW_NS;
    if (this.rxBatch < 1 || this.txBatch < 1) throw new RangeError('rxBatch and txBatch must be at least 1');
    if (!(this.keepWarm >= 0) || !(this.keepWarmWindow >= 0)) throw new RangeError('keepWarm and keepWarmWindow must be non-negative');
    this.rxIds = new Int32Array(this.rxBatch);
    this.txIds = new Int32Array(this.txBatch);
    this.onReadableBound = () => this.onReadable();
    this.onTimerBound = () => this.onTimer();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timer.onFire(this.onTimerBound);
    this.rx.onReadable(this.onReadableBound);
  }

  /**
   * Stops forwarding: closes the timer and the links, and purges what the tree still holds (counted
   * by the qdiscs as purge drops), so every arena slot is free again.
   */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.timer.disarm();
    this.timer.close();
    this.armedAt = Infinity;
    this.armedForWarmth = false;
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
      this.lastRxAt = now;
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
    if (this.armedForWarmth) {
      // A keep-warm tick (the timer is periodic and stays armed): take the path a packet would, read
      // then drain; the drain stops the ticks once the window has passed.
      this.counters.warmTicks++;
      this.armedAt = this.clock.now() + this.keepWarm;
      this.onReadable();
      this.drain(this.clock.now());
      return;
    }
    this.armedAt = Infinity;
    this.counters.wakeups++;
    const sent = this.drain(this.clock.now());
    if (sent === 0) this.counters.idleWakeups++;
  }

  /** Dequeues everything the tree releases at `now`, writes it in batches; arms the timer if throttled. */
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
    const warm = this.keepWarm > 0 && now - this.lastRxAt < this.keepWarmWindow;
    if (root.stats.qlen > 0) this.armFor(root.wakeAt, now, warm);
    else if (warm) this.armWarm(now);
    else if (this.armedAt !== Infinity) {
      this.timer.disarm();
      this.armedAt = Infinity;
      this.armedForWarmth = false;
    }
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

  /** Arms for the tree's deadline `at`; while warm, no later than one keep-warm interval away. */
  private armFor(at: Nanos, now: Nanos, warm: boolean): void {
    if (warm && at > now + this.keepWarm) {
      this.armWarm(now);
      return;
    }
    if (at === Infinity) return; // queued but nothing time-based will release it: the next arrival will
    if (at < now + MIN_REARM_NS) at = now + MIN_REARM_NS;
    if (at === this.armedAt && !this.armedForWarmth) return;
    this.timer.arm(at);
    this.armedAt = at;
    this.armedForWarmth = false;
  }

  /**
   * Starts periodic keep-warm ticks, unless they run already or the tree's own deadline comes sooner
   * (the drain after it decides again): one timerfd_settime() when sparse traffic begins, none per
   * packet or per tick after that.
   */
  private armWarm(now: Nanos): void {
    if (this.armedForWarmth || this.armedAt <= now + this.keepWarm) return;
    const at = now + this.keepWarm;
    this.timer.arm(at, this.keepWarm);
    this.armedAt = at;
    this.armedForWarmth = true;
  }

  /** Drops by reason, for the summary line and metrics (allocates: not for the hot path). */
  dropsByReason(): Record<string, number> {
    const d: Record<string, number> = {};
    const c = this.counters;
    for (let r = 1; r < PREP_REASON_NAMES.length; r++) if (c.malformed[r] > 0) d[`malformed_${PREP_REASON_NAMES[r]}`] = c.malformed[r];
    const rx = this.rx.counters;
    if (rx.rxNoSlot > 0) d.arena_full = rx.rxNoSlot;
    if ((rx.rxOversize ?? 0) > 0) d.oversize = rx.rxOversize as number;
    if (c.txErrors > 0) d.tx_error = c.txErrors;
    const q = this.tree.root.stats.dropsByReason;
    for (let r = 0; r < DROP_REASON_NAMES.length; r++) if (q[r] > 0) d[DROP_REASON_NAMES[r]] = q[r];
    return d;
  }

  /** Total packets dropped for any reason. */
  totalDrops(): number {
    let t = 0;
    const d = this.dropsByReason();
    for (const k in d) t += d[k];
    return t;
  }
}
