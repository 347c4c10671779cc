/**
 * A FIFO of packet ids in an Int32Array ring: the queue every discipline builds on (pfifo, HTB's
 * direct queue, SFQ's flows). Fixed capacity chosen at construction, so pushing never allocates;
 * `grow()` exists for setup-time changes (a larger limit), never for the hot path.
 */
export class PacketRing {
  private buf: Int32Array;
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    this.buf = new Int32Array(Math.max(1, capacity));
  }

  get length(): number {
    return this.count;
  }
  get capacity(): number {
    return this.buf.length;
  }

  /** false when full (the caller decides what to drop) */
  push(id: number): boolean {
    if (this.count === this.buf.length) return false;
    this.buf[(this.head + this.count) % this.buf.length] = id;
    this.count++;
    return true;
  }

  /** removes and returns the oldest id, -1 when empty */
  shift(): number {
    if (this.count === 0) return -1;
    const id = this.buf[this.head];
    this.head = (this.head + 1) % this.buf.length;
    this.count--;
    return id;
  }

  /** the oldest id without removing it, -1 when empty */
  peek(): number {
    return this.count === 0 ? -1 : this.buf[this.head];
  }

  /** removes and returns the newest id, -1 when empty (tail drop of a queued packet) */
  pop(): number {
    if (this.count === 0) return -1;
    this.count--;
    return this.buf[(this.head + this.count) % this.buf.length];
  }

  /** the i-th oldest id (0 = head); for stats and tests */
  at(i: number): number {
    return i < 0 || i >= this.count ? -1 : this.buf[(this.head + i) % this.buf.length];
  }

  /** setup-time resize; keeps order. Never shrinks below the current length. */
  grow(capacity: number): void {
    if (capacity <= this.buf.length) return;
    const next = new Int32Array(capacity);
    for (let i = 0; i < this.count; i++) next[i] = this.buf[(this.head + i) % this.buf.length];
    this.buf = next;
    this.head = 0;
  }
}
