/**
 * SFQ: Stochastic Fairness Queueing — one FIFO per flow, served by byte-based deficit round robin.
 *
 * A keyed hash of the flow identity (src/packet/flowhash.ts) picks one of `divisor` buckets; a bucket
 * in use points at a flow slot (at most `flows` slots, `depth` packets each). Active slots form a
 * ring; a new flow is linked in after the current tail and becomes the tail, so it waits behind the
 * flows already waiting. Dequeue (sfq_dequeue): look at tail.next; while its allowance `allot` is used
 * up, move the tail there and give it another `quantum` bytes; then send its head packet and charge
 * the bytes. A slot that empties leaves the ring and frees its bucket.
 * Overflow: a flow at `depth` drops the new packet (or, with `headdrop`, its own oldest one); when the
 * whole qdisc passes `limit`, the longest flow loses a packet — found in O(1) through `dep[]`, lists
 * of slots bucketed by queue length (sfq_drop). So one flooding flow cannot push others out.
 * Perturbation: every `perturb` seconds the hash key is replaced and every queued packet re-hashed
 * into slots in flow order (sfq_rehash), so collisions do not last and no flow is reordered. Qdiscs
 * own no timers here, so this happens on the first enqueue at or after the due time (only new
 * arrivals can collide; and packets a re-hash drops then show in the qlen/backlog difference the
 * parent reads around enqueue, so they are not also reported through reduceBacklog).
 * Filters attached to SFQ replace the hash: the result's minor (1..divisor) is the bucket.
 * Parameters: limit (packets, default 127), depth (packets per flow, 127), flows (128), divisor
 * (buckets, power of two ≤ 65536, default 1024), quantum (bytes, default the device MTU + link header
 * = 1500 on a TUN), perturb (seconds, 0 = key drawn once), headdrop.
 * Differences from Linux: the optional per-flow RED (redflowlimit ...) is not offered; the periodic
 * re-key is lazy (see above).
 * Reference: net/sched/sch_sfq.c, tc/q_sfq.c, tc-sfq(8), LARTC §9.2.3.
 * Longer than the tree's 500-line rule on purpose: a port that mirrors one kernel file, sch_sfq.c.
 */
import { CLS_SHOT } from '../classify/classifier';
import { type FlowKey, randomFlowKey, storeFlowHash } from '../packet/flowhash';
import { NS_PER_SEC, type Nanos } from '../time/clock';
import { QdiscBase, qdiscDrop } from './base';
import { type QdiscEnv, XMIT_CN, XMIT_DROP, XMIT_SUCCESS, reduceBacklog, tcMajor, tcMinor } from './qdisc';
import { DropReason } from './stats';

export const SFQ_MAX_DEPTH = 127;
export const SFQ_DEFAULT_FLOWS = 128;
export const SFQ_MAX_FLOWS = 0x10000 - SFQ_MAX_DEPTH - 1; // 65408
export const SFQ_DEFAULT_HASH_DIVISOR = 1024;
const EMPTY = -1;

export interface SfqOptions {
  /** packets; 0 = keep/default */
  limit?: number;
  quantum?: number;
  /** seconds */
  perturb?: number;
  divisor?: number;
  flows?: number;
  depth?: number;
  headdrop?: boolean;
}

/** The effective parameters after sfq_init defaults and sfq_change's clamping. */
export interface SfqParams {
  limit: number;
  quantum: number;
  perturb: number;
  divisor: number;
  maxflows: number;
  maxdepth: number;
  headdrop: boolean;
}

/** sfq_change's arithmetic on top of `base` (defaults or the current parameters). */
export function sfqParams(base: SfqParams, o: SfqOptions): SfqParams {
  const p = { ...base };
  if (o.quantum) p.quantum = o.quantum;
  if (o.perturb !== undefined) p.perturb = o.perturb;
  if (o.flows) p.maxflows = Math.min(o.flows, SFQ_MAX_FLOWS);
  if (o.divisor) {
    p.divisor = o.divisor;
    p.maxflows = Math.min(p.maxflows, o.divisor);
  }
  if (o.depth) p.maxdepth = Math.min(o.depth, SFQ_MAX_DEPTH);
  if (o.headdrop !== undefined) p.headdrop = o.headdrop;
  if (o.limit) {
    p.limit = Math.min(o.limit, p.maxdepth * p.maxflows);
    p.maxflows = Math.min(p.maxflows, p.limit);
  }
  return p;
}

export function sfqDefaults(mtu: number): SfqParams {
  return {
    limit: SFQ_MAX_DEPTH,
    quantum: Math.min(Math.max(mtu, 256), 1 << 20),
    perturb: 0,
    divisor: SFQ_DEFAULT_HASH_DIVISOR,
    maxflows: SFQ_DEFAULT_FLOWS,
    maxdepth: SFQ_MAX_DEPTH,
    headdrop: false,
  };
}

export class Sfq extends QdiscBase {
  params: SfqParams;
  key: FlowKey;
  /** when the next re-key is due (ns); Infinity without perturb; NaN until the first packet */
  nextPerturb: Nanos;
  /** re-keys done (stats, tests) */
  perturbations = 0;

  // bucket → slot
  private ht: Int32Array;
  // per slot
  private slotNext: Int32Array; // active ring
  private slotHash: Int32Array;
  private slotQlen: Int32Array;
  private slotAllot: Float64Array;
  private slotBacklog: Float64Array;
  private slotHead: Int32Array; // packet lists
  private slotTail: Int32Array;
  // dep lists: nodes 0..maxflows-1 are slots, maxflows + d is the head of depth d
  private depNext: Int32Array;
  private depPrev: Int32Array;
  private curDepth = 0;
  private tail = EMPTY;
  // per arena slot: doubly linked packet lists
  private readonly pktNext: Int32Array;
  private readonly pktPrev: Int32Array;

  constructor(handle: number, env: QdiscEnv, opts: SfqOptions = {}) {
    super('sfq', handle, env);
    this.params = sfqParams(sfqDefaults(env.mtu), opts);
    this.key = randomFlowKey(env.random);
    this.nextPerturb = this.params.perturb > 0 ? NaN : Infinity;
    this.pktNext = new Int32Array(env.arena.slotCount);
    this.pktPrev = new Int32Array(env.arena.slotCount);
    this.ht = new Int32Array(0);
    this.slotNext = new Int32Array(0);
    this.slotHash = new Int32Array(0);
    this.slotQlen = new Int32Array(0);
    this.slotAllot = new Float64Array(0);
    this.slotBacklog = new Float64Array(0);
    this.slotHead = new Int32Array(0);
    this.slotTail = new Int32Array(0);
    this.depNext = new Int32Array(0);
    this.depPrev = new Int32Array(0);
    this.allocate();
  }

  private allocate(): void {
    const { divisor, maxflows } = this.params;
    this.ht = new Int32Array(divisor).fill(EMPTY);
    this.slotNext = new Int32Array(maxflows);
    this.slotHash = new Int32Array(maxflows);
    this.slotQlen = new Int32Array(maxflows);
    this.slotAllot = new Float64Array(maxflows);
    this.slotBacklog = new Float64Array(maxflows);
    this.slotHead = new Int32Array(maxflows).fill(EMPTY);
    this.slotTail = new Int32Array(maxflows).fill(EMPTY);
    const nodes = maxflows + SFQ_MAX_DEPTH + 1;
    this.depNext = new Int32Array(nodes);
    this.depPrev = new Int32Array(nodes);
    for (let d = 0; d <= SFQ_MAX_DEPTH; d++) {
      this.depNext[maxflows + d] = maxflows + d;
      this.depPrev[maxflows + d] = maxflows + d;
    }
    this.curDepth = 0;
    this.tail = EMPTY;
    for (let x = 0; x < maxflows; x++) this.link(x);
  }

  /** number of active flows (tests, stats) */
  get activeFlows(): number {
    if (this.tail === EMPTY) return 0;
    let n = 1;
    for (let x = this.slotNext[this.tail]; x !== this.tail; x = this.slotNext[x]) n++;
    return n;
  }

  // ---- dep[] lists (sfq_link / sfq_unlink / sfq_inc / sfq_dec) ----
  private link(x: number): void {
    const p = this.params.maxflows + this.slotQlen[x];
    const n = this.depNext[p];
    this.depNext[x] = n;
    this.depPrev[x] = p;
    this.depNext[p] = x;
    this.depPrev[n] = x;
  }
  private unlink(x: number): void {
    const n = this.depNext[x];
    const p = this.depPrev[x];
    this.depNext[p] = n;
    this.depPrev[n] = p;
  }
  private inc(x: number): void {
    this.unlink(x);
    const d = ++this.slotQlen[x];
    if (this.curDepth < d) this.curDepth = d;
    this.link(x);
  }
  private dec(x: number): void {
    const n = this.depNext[x];
    const p = this.depPrev[x];
    this.depNext[p] = n;
    this.depPrev[n] = p;
    const d = --this.slotQlen[x];
    if (n === p && this.curDepth === d + 1) this.curDepth--;
    this.link(x);
  }

  // ---- per-slot packet lists ----
  private pushTail(x: number, pkt: number): void {
    const t = this.slotTail[x];
    this.pktNext[pkt] = EMPTY;
    this.pktPrev[pkt] = t;
    if (t === EMPTY) this.slotHead[x] = pkt;
    else this.pktNext[t] = pkt;
    this.slotTail[x] = pkt;
  }
  private popHead(x: number): number {
    const pkt = this.slotHead[x];
    const n = this.pktNext[pkt];
    this.slotHead[x] = n;
    if (n === EMPTY) this.slotTail[x] = EMPTY;
    else this.pktPrev[n] = EMPTY;
    return pkt;
  }
  private popTail(x: number): number {
    const pkt = this.slotTail[x];
    const p = this.pktPrev[pkt];
    this.slotTail[x] = p;
    if (p === EMPTY) this.slotHead[x] = EMPTY;
    else this.pktNext[p] = EMPTY;
    return pkt;
  }

  /** bucket of `pkt` (0-based), or -1 no-match / -2 shot (sfq_classify) */
  private classify(pkt: number, now: Nanos): number {
    const arena = this.env.arena;
    const prio = arena.priority[pkt];
    const divisor = this.params.divisor;
    if (tcMajor(prio) === tcMajor(this.handle) && tcMajor(prio) !== 0 && tcMinor(prio) > 0 && tcMinor(prio) <= divisor) {
      return tcMinor(prio) - 1;
    }
    if (this.filters === null) return this.hash(pkt);
    const res = this.filters.classify(pkt, now);
    if (res === CLS_SHOT) return -2;
    if (res < 0) return -1;
    const minor = tcMinor(res);
    return minor >= 1 && minor <= divisor ? minor - 1 : -1;
  }

  /** sfq_hash: the bucket of `pkt` under the current key; the full hash goes to arena.flowHash */
  private hash(pkt: number): number {
    return storeFlowHash(this.env.arena, pkt, this.key, this.params.divisor - 1);
  }

  private maybePerturb(now: Nanos): void {
    if (now < this.nextPerturb) return; // Infinity: never; NaN compares false: first call arms
    if (Number.isNaN(this.nextPerturb)) {
      this.nextPerturb = now + this.params.perturb * NS_PER_SEC;
      return;
    }
    this.rekey(false);
    this.nextPerturb = now + this.params.perturb * NS_PER_SEC;
  }

  /**
   * New hash key, and (when the hash is ours, not a filter's) queued packets re-hashed in order.
   * Outside enqueue/dequeue (setup, tests): drops are reported to the parent.
   */
  perturb(): void {
    this.rekey(true);
  }

  /** `report`: tell the owner about drops (false inside enqueue, where the parent sees the deltas) */
  private rekey(report: boolean): void {
    this.key = randomFlowKey(this.env.random);
    this.perturbations++;
    if (this.filters === null && this.tail !== EMPTY) this.rehash(report);
  }

  /**
   * sfq_rehash: takes every queued packet out (slot by slot, each flow in order), then re-inserts
   * them under the current key. Packets of one flow stay in order because a flow maps to one bucket.
   */
  private rehash(report: boolean): void {
    this.requeue(this.unqueueAll(), report);
  }

  /**
   * Empties every slot (their packets stay chained, in slot order and flow order, through pktNext)
   * and returns the first packet of that chain.
   */
  private unqueueAll(): number {
    let first = EMPTY;
    let last = EMPTY;
    for (let x = 0; x < this.params.maxflows; x++) {
      if (this.slotQlen[x] === 0) continue;
      const h = this.slotHead[x];
      const t = this.slotTail[x];
      if (first === EMPTY) first = h;
      else this.pktNext[last] = h;
      last = t;
      this.unlink(x);
      this.slotQlen[x] = 0;
      this.link(x);
      this.slotHead[x] = EMPTY;
      this.slotTail[x] = EMPTY;
      this.slotBacklog[x] = 0;
      this.ht[this.slotHash[x]] = EMPTY;
    }
    this.curDepth = 0;
    this.tail = EMPTY;
    return first;
  }

  /**
   * Re-inserts the chain from `first` under the current key and table shape. A packet that finds no
   * free slot, or a full one, is dropped (DropReason.Purge); `report` tells the owner about those.
   */
  private requeue(first: number, report: boolean): void {
    const { maxflows, maxdepth } = this.params;
    const arena = this.env.arena;
    let droppedPkts = 0;
    let droppedBytes = 0;
    for (let pkt = first; pkt !== EMPTY; ) {
      const next = this.pktNext[pkt];
      const bucket = this.hash(pkt);
      let x = this.ht[bucket];
      if (x === EMPTY) {
        x = this.depNext[maxflows]; // a free slot
        if (x >= maxflows) x = EMPTY;
        else {
          this.ht[bucket] = x;
          this.slotHash[x] = bucket;
        }
      }
      if (x === EMPTY || this.slotQlen[x] >= maxdepth) {
        droppedPkts++;
        droppedBytes += arena.len[pkt];
        qdiscDrop(this.stats, arena, pkt, DropReason.Purge);
      } else {
        this.add(x, pkt);
      }
      pkt = next;
    }
    if (droppedPkts > 0) {
      this.stats.qlen -= droppedPkts;
      this.stats.backlog -= droppedBytes;
      if (report) reduceBacklog(this, droppedPkts, droppedBytes);
    }
  }

  /** appends `pkt` to slot `x`, linking a new flow into the ring after the tail */
  private add(x: number, pkt: number): void {
    this.pushTail(x, pkt);
    this.slotBacklog[x] += this.env.arena.len[pkt];
    this.inc(x);
    if (this.slotQlen[x] === 1) {
      if (this.tail === EMPTY) {
        this.slotNext[x] = x;
      } else {
        this.slotNext[x] = this.slotNext[this.tail];
        this.slotNext[this.tail] = x;
      }
      this.tail = x;
      this.slotAllot[x] = this.params.quantum;
    }
  }

  enqueue(pkt: number, now: Nanos): number {
    this.maybePerturb(now);
    const arena = this.env.arena;
    const bucket = this.classify(pkt, now);
    if (bucket < 0) return qdiscDrop(this.stats, arena, pkt, bucket === -2 ? DropReason.Police : DropReason.Classify);
    const len = arena.len[pkt];
    let x = this.ht[bucket];
    if (x === EMPTY) {
      x = this.depNext[this.params.maxflows]; // dep[0].next: a free slot
      if (x >= this.params.maxflows) return qdiscDrop(this.stats, arena, pkt, DropReason.NoFlowSlot);
      this.ht[bucket] = x;
      this.slotHash[x] = bucket;
      this.slotBacklog[x] = 0;
    } else if (this.slotQlen[x] >= this.params.maxdepth) {
      if (!this.params.headdrop) return qdiscDrop(this.stats, arena, pkt, DropReason.QueueFull);
      // head drop: the flow's oldest packet makes room for the new one
      const head = this.popHead(x);
      const hlen = arena.len[head];
      this.stats.backlog += len - hlen;
      this.slotBacklog[x] += len - hlen;
      this.stats.countDrop(DropReason.QueueFull);
      arena.free(head);
      this.pushTail(x, pkt);
      return XMIT_CN;
    }
    this.stats.backlog += len;
    this.add(x, pkt);
    if (++this.stats.qlen <= this.params.limit) return XMIT_SUCCESS;
    // Over the limit: the longest flow loses a packet. Congestion is notified only when that flow
    // is this packet's own (sfq_enqueue: "qlen != slot->qlen"); the offered packet itself is a drop.
    const qlen = this.slotQlen[x];
    if (this.dropFromLongest() === pkt) return XMIT_DROP;
    return qlen !== this.slotQlen[x] ? XMIT_CN : XMIT_SUCCESS;
  }

  /** sfq_drop: one packet from the longest flow (tail, or head with headdrop). Returns its id or -1. */
  private dropFromLongest(): number {
    const d = this.curDepth;
    const maxflows = this.params.maxflows;
    let x: number;
    if (d > 1) {
      x = this.depNext[maxflows + d];
    } else if (d === 1) {
      // every flow has one packet: drop the next flow in the ring entirely
      x = this.slotNext[this.tail];
      this.slotNext[this.tail] = this.slotNext[x];
      this.ht[this.slotHash[x]] = EMPTY;
    } else {
      return -1;
    }
    const arena = this.env.arena;
    const pkt = this.params.headdrop ? this.popHead(x) : this.popTail(x);
    const len = arena.len[pkt];
    this.slotBacklog[x] -= len;
    this.dec(x);
    this.stats.qlen--;
    this.stats.backlog -= len;
    qdiscDrop(this.stats, arena, pkt, DropReason.QueueFull);
    return pkt;
  }

  dequeue(_now: Nanos): number {
    if (this.tail === EMPTY) return -1;
    let a = this.slotNext[this.tail];
    while (this.slotAllot[a] <= 0) {
      this.tail = a;
      this.slotAllot[a] += this.params.quantum;
      a = this.slotNext[a];
    }
    const pkt = this.popHead(a);
    const len = this.env.arena.len[pkt];
    this.dec(a);
    this.stats.countDequeued(len);
    this.slotBacklog[a] -= len;
    if (this.slotQlen[a] === 0) {
      this.ht[this.slotHash[a]] = EMPTY;
      const nextA = this.slotNext[a];
      if (a === nextA) {
        this.tail = EMPTY;
        return pkt;
      }
      this.slotNext[this.tail] = nextA;
    } else {
      this.slotAllot[a] -= len;
    }
    return pkt;
  }

  peek(_now: Nanos): number {
    if (this.tail === EMPTY) return -1;
    let a = this.slotNext[this.tail];
    // the slot dequeue would pick: the first one in ring order with allowance left, or after one
    // refill round the first one (every active slot gets quantum > 0 added)
    for (let i = 0; i < this.params.maxflows && this.slotAllot[a] <= 0; i++) a = this.slotNext[a];
    if (this.slotAllot[a] <= 0) a = this.slotNext[this.tail];
    return this.slotHead[a];
  }

  /**
   * `tc qdisc change`: new parameters. Queued packets stay (re-hashed into the new table when its
   * shape changed); a lower limit drops from the longest flows until it holds, reported upwards.
   */
  change(opts: SfqOptions): void {
    const old = this.params;
    const next = sfqParams(old, opts);
    if (next.divisor !== old.divisor || next.maxflows !== old.maxflows) {
      // Re-queue everything into freshly sized tables, in flow order: the packets are taken out
      // under the old shape and re-inserted (re-hashed) under the new one.
      const first = this.unqueueAll();
      this.params = next;
      this.allocate();
      this.requeue(first, true);
    }
    this.params = next;
    let dp = 0;
    let db = 0;
    while (this.stats.qlen > next.limit) {
      const b0 = this.stats.backlog;
      if (this.dropFromLongest() < 0) break;
      dp++;
      db += b0 - this.stats.backlog;
    }
    reduceBacklog(this, dp, db);
    if (opts.perturb !== undefined) {
      this.nextPerturb = next.perturb > 0 ? NaN : Infinity;
      if (next.perturb > 0) this.perturb();
    }
  }

  /** per-flow view for tests and `tc -s class show`: [bucket, qlen, backlog, allot] of active flows */
  flows(): Array<{ bucket: number; qlen: number; backlog: number; allot: number }> {
    const out: Array<{ bucket: number; qlen: number; backlog: number; allot: number }> = [];
    for (let x = 0; x < this.params.maxflows; x++) {
      if (this.slotQlen[x] > 0) out.push({ bucket: this.slotHash[x], qlen: this.slotQlen[x], backlog: this.slotBacklog[x], allot: this.slotAllot[x] });
    }
    return out;
  }

  reset(): void {
    const arena = this.env.arena;
    let packets = 0;
    let bytes = 0;
    for (let x = 0; x < this.params.maxflows; x++) {
      for (let p = this.slotHead[x]; p !== EMPTY; ) {
        const n = this.pktNext[p];
        bytes += arena.len[p];
        packets++;
        qdiscDrop(this.stats, arena, p, DropReason.Purge);
        p = n;
      }
    }
    this.allocate();
    this.purged(packets, bytes);
  }
}
