/**
 * RawEgress: an egress-only Link that sends IPv4 packets through a raw socket bound to an interface
 * (`--egress raw:IFACE`): `socket(AF_INET, SOCK_RAW, IPPROTO_RAW)` (which implies IP_HDRINCL; set
 * explicitly anyway) and `SO_BINDTODEVICE IFACE`. The packet goes out as it is, header included; the
 * kernel routes it by destination but only out of IFACE, fills in nothing but the IP checksum (and the id
 * when 0), and does not decrement the TTL (the TUN already went through ip_forward).
 *
 * Per-packet costs the `raw-socket` package forces (it has no batch or zero-copy API):
 *  - one N-API call and one sendto() per packet (no sendmmsg): the native boundary is crossed per packet,
 *    against hot-path rule 6;
 *  - the destination must be a dotted-quad *string*, which the addon parses again per packet
 *    (uv_ip4_addr): we cache one string per destination address, so steady state allocates nothing;
 *  - a JS callback invoked synchronously per send (a single preallocated function here);
 *  - errors (ENOBUFS, EMSGSIZE, EPERM from a firewall...) are thrown as exceptions with only a message,
 *    no code: each is caught and counted in txErrors.
 * The socket API needs a Node Buffer: one Buffer view over the arena's ArrayBuffer is made once.
 * IPv6 packets cannot be sent on an AF_INET raw socket: they are counted as txErrors.
 */
import { createRequire } from 'node:module';
import { FLAG_IPV4, type Arena } from '../packet/arena';
import { be32, IPV4 } from '../packet/fields';
import { type Link, type LinkCounters, newLinkCounters } from './link';

interface RawSocketWrap {
  send(buf: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): void;
}
interface RawSocket {
  wrap: RawSocketWrap;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  pauseRecv(): RawSocket;
  pauseSend(): RawSocket;
  close(): RawSocket;
  on(event: 'error', cb: (err: Error) => void): void;
}
interface RawSocketModule {
  createSocket(opts: { protocol: number; addressFamily?: number }): RawSocket;
  AddressFamily: Record<string, number>;
  SocketLevel: Record<string, number>;
  SocketOption: Record<string, number>;
}

const IPPROTO_RAW = 255;
/** distinct destinations remembered as strings; beyond this the cache is cleared (setup-like cost) */
const DST_CACHE_MAX = 4096;

function validIfName(name: string): boolean {
  return name.length > 0 && name.length < 16 && !/[\s/:]/.test(name) && name !== '.' && name !== '..';
}

export class RawEgress implements Link {
  readonly name: string;
  readonly mtu: number;
  readonly arena: Arena;
  readonly counters: LinkCounters;
  /** message of the last send error */
  lastError = '';
  private socket: RawSocket | null;
  private readonly buf: Buffer;
  private readonly dstNames = new Map<number, string>();
  private readonly noop = (_bytes: number): void => {};

  constructor(iface: string, arena: Arena, mtu = 1500) {
    if (!validIfName(iface)) throw new Error(`invalid interface name "${iface}" for the raw egress: 1..15 characters, no '/', ':' or whitespace`);
    const require = createRequire(import.meta.url);
    const raw = require('raw-socket') as RawSocketModule;
    this.name = iface;
    this.mtu = mtu;
    this.arena = arena;
    this.counters = newLinkCounters();
    this.buf = Buffer.from(arena.buffer);
    let sock: RawSocket;
    try {
      sock = raw.createSocket({ protocol: IPPROTO_RAW, addressFamily: raw.AddressFamily.IPv4 });
    } catch (e) {
      throw new Error(`cannot open a raw socket for ${iface}: ${(e as Error).message} (needs root or CAP_NET_RAW)`);
    }
    sock.on('error', (err) => {
      this.lastError = err.message;
    });
    sock.pauseRecv(); // IPPROTO_RAW sockets never receive; do not keep a poll on them
    try {
      sock.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);
      const dev = Buffer.from(`${iface}\0`);
      sock.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_BINDTODEVICE, dev, dev.length);
    } catch (e) {
      sock.close();
      throw new Error(`cannot bind the raw egress to "${iface}": ${(e as Error).message}`);
    }
    this.socket = sock;
  }

  /** egress only */
  readBatch(_ids: Int32Array, _max: number): number {
    return 0;
  }

  writeBatch(ids: Int32Array, n: number): number {
    const arena = this.arena;
    const b = arena.bytes;
    let sent = 0;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      const off = id * arena.slotSize;
      const len = arena.len[id];
      // FLAG_IPV4: preparePacket found a whole IPv4 header (IPv6 cannot go out of an AF_INET socket)
      if (this.socket !== null && (arena.flags[id] & FLAG_IPV4) !== 0) {
        if (this.send(off, len, this.dstName(be32(b, off + IPV4.DST)))) {
          sent++;
          this.counters.txBytes += len;
        }
      }
      arena.free(id);
    }
    this.counters.txPackets += sent;
    this.counters.txErrors += n - sent;
    return sent;
  }

  onReadable(_cb: () => void): void {
    // nothing is ever read from a raw egress
  }

  close(): void {
    if (this.socket) {
      this.socket.close();
      this.socket = null;
    }
  }

  private send(off: number, len: number, dst: string): boolean {
    try {
      (this.socket as RawSocket).wrap.send(this.buf, off, len, dst, this.noop);
      return true;
    } catch (e) {
      this.lastError = (e as Error).message;
      return false;
    }
  }

  private dstName(dst: number): string {
    let s = this.dstNames.get(dst);
    if (s === undefined) {
      if (this.dstNames.size >= DST_CACHE_MAX) this.dstNames.clear();
      s = `${dst >>> 24}.${(dst >>> 16) & 255}.${(dst >>> 8) & 255}.${dst & 255}`;
      this.dstNames.set(dst, s);
    }
    return s;
  }
}
