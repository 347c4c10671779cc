/**
 * MemoryLink: a Link in memory, for unit tests and benchmarks (no root, no addon).
 *
 * Reading: `inject(bytes)` queues a packet (by reference: the same template may be injected many
 * times without allocating), `signal()` runs the readable callback as uv_poll would. readBatch copies
 * queued packets into arena slots, with the same edge cases as TunLink: a packet longer than a slot
 * is dropped (`rxOversize`), and with no free slot a batch's worth is read and dropped (`rxNoSlot`).
 *
 * Writing: every written packet is counted; with `record: true` (the default) its bytes are copied
 * into `written` (allocates: tests only); `failWrites(k)` makes the next k writes fail (`txErrors`).
 */
import type { Arena } from '../packet/arena';
import { type Link, type LinkCounters, newLinkCounters } from './link';

export interface MemoryLinkOptions {
  name?: string;
  mtu?: number;
  /** how many packets may wait to be read (default 65536) */
  capacity?: number;
  /** keep a copy of every written packet in `written` (default true; false for benchmarks) */
  record?: boolean;
}

export class MemoryLink implements Link {
  readonly name: string;
  readonly mtu: number;
  readonly arena: Arena;
  readonly counters: LinkCounters;
  /** copies of the written packets, in order (when recording) */
  readonly written: Uint8Array[] = [];
  /** every write batch size, in order (when recording): shows the batching */
  readonly writeBatches: number[] = [];
  readonly record: boolean;
  closed = false;
  private readonly pending: (Uint8Array | null)[];
  private head = 0;
  private count = 0;
  private cb: (() => void) | null = null;
  private failNext = 0;

  constructor(arena: Arena, opts: MemoryLinkOptions = {}) {
    this.arena = arena;
    this.name = opts.name ?? 'mem0';
    this.mtu = opts.mtu ?? 1500;
    this.record = opts.record ?? true;
    this.counters = newLinkCounters();
    this.pending = new Array<Uint8Array | null>(Math.max(1, opts.capacity ?? 65536)).fill(null);
  }

  /** packets waiting to be read */
  get queued(): number {
    return this.count;
  }

  /** queues a packet for reading (kept by reference); false when the queue is full */
  inject(bytes: Uint8Array): boolean {
    if (this.count === this.pending.length) return false;
    this.pending[(this.head + this.count) % this.pending.length] = bytes;
    this.count++;
    return true;
  }

  /** runs the readable callback if packets are waiting (what uv_poll does for a TUN fd) */
  signal(): void {
    if (this.cb && this.count > 0 && !this.closed) this.cb();
  }

  /** the next k packets written fail */
  failWrites(k: number): void {
    this.failNext = k;
  }

  readBatch(ids: Int32Array, max: number): number {
    if (this.closed) return 0;
    const arena = this.arena;
    if (max > ids.length) max = ids.length;
    let n = 0;
    let bytes = 0;
    let taken = 0;
    while (n < max && this.count > 0) {
      const data = this.pending[this.head] as Uint8Array;
      const id = arena.alloc();
      if (id < 0) {
        // Like TunLink: nowhere to put it, read a batch and drop it (only when nothing was read yet).
        if (n > 0) break;
        while (taken < max && this.count > 0) {
          this.shift();
          this.counters.rxNoSlot++;
          taken++;
        }
        break;
      }
      this.shift();
      taken++;
      if (data.length > arena.slotSize) {
        arena.free(id);
        this.counters.rxOversize++;
        continue;
      }
      arena.bytes.set(data, id * arena.slotSize);
      arena.len[id] = data.length;
      ids[n++] = id;
      bytes += data.length;
    }
    this.counters.rxPackets += n;
    this.counters.rxBytes += bytes;
    return n;
  }

  writeBatch(ids: Int32Array, n: number): number {
    const arena = this.arena;
    let sent = 0;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      const len = arena.len[id];
      if (this.failNext > 0 || this.closed) {
        if (this.failNext > 0) this.failNext--;
        this.counters.txErrors++;
      } else {
        if (this.record) this.written.push(arena.bytes.slice(id * arena.slotSize, id * arena.slotSize + len));
        this.counters.txPackets++;
        this.counters.txBytes += len;
        sent++;
      }
      arena.free(id);
    }
    if (this.record) this.writeBatches.push(n);
    return sent;
  }

  onReadable(cb: () => void): void {
    this.cb = cb;
  }

  close(): void {
    this.closed = true;
    this.cb = null;
  }

  private shift(): void {
    this.pending[this.head] = null;
    this.head = (this.head + 1) % this.pending.length;
    this.count--;
  }
}
