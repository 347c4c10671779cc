/**
 * TunLink: a TUN device (IFF_TUN | IFF_NO_PI) as a Link, over the native addon.
 *
 * One read() returns one IP packet (TUN fds are not sockets: no recvmmsg), so the addon loops read()
 * and write() over a batch of arena slots in one N-API call (hot-path rule 6). This class only moves
 * slot ids: it allocates slots before a read and frees the unused ones after, and frees every slot it
 * was asked to write, sent or not (the Link contract, src/link/link.ts).
 *
 *  - A packet longer than a slot (MTU raised above slotSize) is read whole by the addon, its tail into a
 *    scratch buffer; the link drops it and counts `rxOversize`.
 *  - With no free slot at all, waiting would make uv_poll report the fd readable forever (level
 *    triggered), so the link reads and drops up to a batch (`rxNoSlot`): the packet is lost at the
 *    door, as the kernel drops at a full queue.
 *  - A read error other than EAGAIN (the device was deleted: EBADFD/EIO) stops the poller and is
 *    reported once through `onError`.
 *
 * Reference: Documentation/networking/tuntap.rst; ARCHITECTURE.md "The native addon".
 */
import type { Arena } from '../packet/arena';
import { type Link, type LinkCounters, newLinkCounters } from './link';
import { type NativeError, type NativePoller, type TunqosNative, loadNative } from './native';

export interface TunOptions {
  multiQueue?: boolean;
  /** called once when reading fails with a real error (not EAGAIN); the link stops watching */
  onError?: (err: NativeError) => void;
}

/**
 * What to tell a person when opening a TUN fails, by failing call and errno name. The addon's message
 * says what failed (policy stays out of C); the advice goes in before its "(CODE: strerror)" tail.
 */
const OPEN_ADVICE: Record<string, string> = {
  'open EACCES': 'run as root or with CAP_NET_ADMIN',
  'open EPERM': 'run as root or with CAP_NET_ADMIN',
  'TUNSETIFF EBUSY': 'is another tunqos running on it?',
  'TUNSETIFF EPERM': 'run as root or with CAP_NET_ADMIN',
};

export function withAdvice(e: NativeError): NativeError {
  const advice = OPEN_ADVICE[`${e.syscall} ${e.code}`];
  const tail = e.message.lastIndexOf(' (');
  if (advice !== undefined && tail >= 0) e.message = `${e.message.slice(0, tail)} (${advice})${e.message.slice(tail)}`;
  return e;
}

export class TunLink implements Link {
  readonly name: string;
  readonly mtu: number;
  readonly arena: Arena;
  readonly counters: LinkCounters;
  readonly fd: number;
  /** errno of the last read/write error (0: none) */
  lastError = 0;
  private readonly native: TunqosNative;
  private readonly out = new Int32Array(4);
  private poller: NativePoller | null = null;
  private readonly onError: ((err: NativeError) => void) | null;
  private closed = false;

  /**
   * Opens (creating if absent) TUN device `name`. Throws a NativeError (code EBUSY, EINVAL, EPERM...)
   * whose message says what to do about it where there is something to do.
   */
  static open(name: string, arena: Arena, opts: TunOptions = {}): TunLink {
    const native = loadNative();
    let opened: { fd: number; name: string };
    try {
      opened = native.openTun(name, { multiQueue: opts.multiQueue ?? false });
    } catch (e) {
      throw withAdvice(e as NativeError);
    }
    const { fd, name: actual } = opened;
    let mtu = 1500;
    try {
      mtu = native.ifMtu(actual);
    } catch {
      // keep the TUN default
    }
    return new TunLink(native, fd, actual, mtu, arena, opts);
  }

  private constructor(native: TunqosNative, fd: number, name: string, mtu: number, arena: Arena, opts: TunOptions) {
    this.native = native;
    this.fd = fd;
    this.name = name;
    this.mtu = mtu;
    this.arena = arena;
    this.counters = newLinkCounters();
    this.onError = opts.onError ?? null;
  }

  readBatch(ids: Int32Array, max: number): number {
    if (this.closed) return 0;
    const arena = this.arena;
    if (max > ids.length) max = ids.length;
    let got = 0;
    while (got < max) {
      const id = arena.alloc();
      if (id < 0) break;
      ids[got++] = id;
    }
    if (got === 0) {
      if (max > 0) this.counters.rxNoSlot += this.native.discard(this.fd, max);
      return 0;
    }
    const n = this.native.readBatch(this.fd, arena.buffer, arena.slotSize, ids, arena.len, got, this.out);
    // Unused slots back, newest first, so the free stack is as it was.
    for (let i = got - 1; i >= n; i--) arena.free(ids[i]);
    const slot = arena.slotSize;
    let k = 0;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      const len = arena.len[id];
      if (len > slot) {
        arena.len[id] = 0;
        arena.free(id);
        this.counters.rxOversize++;
        continue;
      }
      ids[k++] = id;
      bytes += len;
    }
    this.counters.rxPackets += k;
    this.counters.rxBytes += bytes;
    if (this.out[0] !== 0) this.readFailed(this.out[0]);
    return k;
  }

  writeBatch(ids: Int32Array, n: number): number {
    const arena = this.arena;
    let sent = 0;
    if (!this.closed && n > 0) {
      const out = this.out;
      out[1] = 0;
      out[2] = 0;
      const consumed = this.native.writeBatch(this.fd, arena.buffer, arena.slotSize, ids, arena.len, n, out);
      sent = consumed - out[1];
      if (out[0] !== 0) this.lastError = out[0];
      this.counters.txBytes += out[2];
    }
    this.counters.txPackets += sent;
    this.counters.txErrors += n - sent;
    for (let i = 0; i < n; i++) arena.free(ids[i]);
    return sent;
  }

  onReadable(cb: () => void): void {
    if (this.closed) throw new Error(`TUN ${this.name} is closed`);
    if (this.poller) this.poller.close();
    this.poller = new this.native.Poller(this.fd, cb);
    this.poller.start();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.poller) {
      this.poller.close();
      this.poller = null;
    }
    this.native.close(this.fd);
  }

  private readFailed(errno: number): void {
    this.lastError = errno;
    if (this.poller) {
      this.poller.close();
      this.poller = null;
    }
    if (this.onError) {
      const known = this.native.errnoName(errno);
      const code = known === 'EUNKNOWN' ? `errno ${errno}` : known;
      const err: NativeError = new Error(`reading TUN ${this.name} failed (${code}); stopped watching it`);
      err.code = code;
      err.errno = errno;
      this.onError(err);
    }
  }
}
