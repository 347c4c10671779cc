/**
 * The packet arena: every packet tunqos holds lives in one preallocated ArrayBuffer, cut into
 * fixed-size slots. A packet *is* its slot index (an integer), so queues are typed-array rings of
 * ints and steady-state forwarding allocates nothing (ARCHITECTURE.md, hot-path rule 1).
 *
 * Per-packet metadata lives in parallel typed arrays indexed by slot id:
 *   len       bytes of the packet in the slot (from the IP header on; a TUN with IFF_NO_PI)
 *   classid   result of classification (tc handle, major<<16 | minor), 0 when none
 *   flowHash  keyed 5-tuple hash (SFQ), valid when flags has FLAG_HASHED
 *   priority  Linux skb->priority, derived from TOS the way ip_forward() does (pfifo_fast, PRIO)
 *   enqTime   Nanos when the packet entered the root qdisc (sojourn time, latency metrics)
 *   flags     per-packet bits (FLAG_*)
 * and what preparePacket (src/packet/prepare.ts) learnt when it validated the headers, so that no
 * later stage parses them again (u32, the flow hash, ECN marking, the raw egress):
 *   l4off     first byte after the IP header(s): IPv4 IHL × 4, IPv6 40 plus the extension headers
 *             walked; the transport header is there unless `frag` is FRAG_LATER. -1 until prepared
 *   l4proto   the protocol found at l4off (IPv4 protocol, IPv6 final next header; an extension
 *             header type when the walk stopped at one)
 *   frag      FRAG_NONE, FRAG_FIRST (offset 0, more to come: carries the transport header) or
 *             FRAG_LATER (a non-first fragment: no transport header, its bytes are mid-datagram)
 * The L3 kind is FLAG_IPV4 / FLAG_IPV6; a packet with neither was not prepared (tests only: the
 * forwarder drops what preparePacket refuses).
 *
 * Slots are handed out from a free stack; `alloc()` returns -1 when the arena is exhausted, which the
 * forwarder counts as a drop. `free()` of a slot that is not in use throws: a double free is a bug in
 * a qdisc, and silent corruption of two queues would be much harder to find.
 */
/** SFQ stored its keyed hash of the packet in `flowHash` */
export const FLAG_HASHED = 1;
export const FLAG_IPV4 = 2;
export const FLAG_IPV6 = 4;
export const FLAG_ECT = 8; // ECN-capable transport (ECT(0) or ECT(1)) at parse time

export const FRAG_NONE = 0;
export const FRAG_FIRST = 1;
export const FRAG_LATER = 2;

export const DEFAULT_SLOT_SIZE = 2048; // an MTU-sized packet (1500) plus room; must stay a multiple of 8
export const DEFAULT_SLOT_COUNT = 16384;

export class Arena {
  readonly slotSize: number;
  readonly slotCount: number;
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly len: Uint32Array;
  readonly classid: Uint32Array;
  readonly flowHash: Uint32Array;
  readonly priority: Uint32Array;
  readonly enqTime: Float64Array;
  readonly flags: Uint8Array;
  readonly l4off: Int32Array;
  readonly l4proto: Uint8Array;
  readonly frag: Uint8Array;
  private readonly freeStack: Int32Array;
  private readonly inUse: Uint8Array;
  private freeTop: number;

  constructor(slotCount = DEFAULT_SLOT_COUNT, slotSize = DEFAULT_SLOT_SIZE) {
    if (!Number.isInteger(slotCount) || slotCount < 1) throw new RangeError(`slotCount must be a positive integer, got ${slotCount}`);
    if (!Number.isInteger(slotSize) || slotSize < 64 || slotSize % 8 !== 0) {
      throw new RangeError(`slotSize must be a multiple of 8 and at least 64, got ${slotSize}`);
    }
    this.slotSize = slotSize;
    this.slotCount = slotCount;
    this.buffer = new ArrayBuffer(slotCount * slotSize);
    this.bytes = new Uint8Array(this.buffer);
    this.len = new Uint32Array(slotCount);
    this.classid = new Uint32Array(slotCount);
    this.flowHash = new Uint32Array(slotCount);
    this.priority = new Uint32Array(slotCount);
    this.enqTime = new Float64Array(slotCount);
    this.flags = new Uint8Array(slotCount);
    this.l4off = new Int32Array(slotCount).fill(-1);
    this.l4proto = new Uint8Array(slotCount);
    this.frag = new Uint8Array(slotCount);
    this.freeStack = new Int32Array(slotCount);
    this.inUse = new Uint8Array(slotCount);
    // Lowest ids on top so that a fresh arena hands out 0, 1, 2, ... (easier to read in tests).
    for (let i = 0; i < slotCount; i++) this.freeStack[i] = slotCount - 1 - i;
    this.freeTop = slotCount;
  }

  /** Number of slots currently free. */
  get available(): number {
    return this.freeTop;
  }

  /** Byte offset of slot `id` in `bytes`/`buffer`. */
  offset(id: number): number {
    return id * this.slotSize;
  }

  /** Takes a free slot and clears its metadata; -1 when none is left. */
  alloc(): number {
    if (this.freeTop === 0) return -1;
    const id = this.freeStack[--this.freeTop];
    this.inUse[id] = 1;
    this.len[id] = 0;
    this.classid[id] = 0;
    this.flowHash[id] = 0;
    this.priority[id] = 0;
    this.enqTime[id] = 0;
    this.flags[id] = 0;
    this.l4off[id] = -1;
    this.l4proto[id] = 0;
    this.frag[id] = FRAG_NONE;
    return id;
  }

  /** Returns slot `id` to the free stack. Throws on a double free or an id out of range. */
  free(id: number): void {
    if (id < 0 || id >= this.slotCount || this.inUse[id] === 0) {
      throw new Error(`arena: free of slot ${id} that is not in use`);
    }
    this.inUse[id] = 0;
    this.freeStack[this.freeTop++] = id;
  }

  isInUse(id: number): boolean {
    return id >= 0 && id < this.slotCount && this.inUse[id] === 1;
  }

  /** Copies `data` into a newly allocated slot (tests, the in-memory link). -1 when full or too big. */
  allocFrom(data: Uint8Array): number {
    if (data.length > this.slotSize) return -1;
    const id = this.alloc();
    if (id < 0) return -1;
    this.bytes.set(data, id * this.slotSize);
    this.len[id] = data.length;
    return id;
  }

  /** A view (no copy) of the packet bytes in slot `id`. Allocates a view object: not for the hot path. */
  packet(id: number): Uint8Array {
    return this.bytes.subarray(id * this.slotSize, id * this.slotSize + this.len[id]);
  }
}
