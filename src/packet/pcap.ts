/**
 * A minimal reader of classic pcap files (the libpcap format tcpdump -w writes), for `tunqos classify`.
 *
 * Format: a 24-byte global header (magic 0xa1b2c3d4 for microsecond or 0xa1b23c4d for nanosecond
 * timestamps, in the writer's byte order; version; snaplen; link type), then records of a 16-byte
 * header (ts_sec, ts_frac, incl_len, orig_len) followed by incl_len bytes.
 * Link types handled: RAW (101, and LINKTYPE_IPV4 228 / IPV6 229: the packet starts at the IP header),
 * Ethernet (1: the 14-byte header is stripped; a single 802.1Q tag too; non-IP frames are skipped),
 * Linux cooked SLL (113: 16-byte header) and NULL/loopback (0: 4-byte family).
 * pcapng is not read (tcpdump -w writes classic pcap; convert with `editcap -F pcap`).
 * Reference: https://wiki.wireshark.org/Development/LibpcapFileFormat, pcap-linktype(7).
 */
/** the link types read (pcap-linktype(7) numbers) */
export const LINKTYPE = { NULL: 0, ETHERNET: 1, RAW: 101, LINUX_SLL: 113, IPV4: 228, IPV6: 229 } as const;
const LINKTYPES_READ: readonly number[] = Object.values(LINKTYPE);

export interface PcapPacket {
  /** record index, 1-based (as Wireshark numbers frames) */
  frame: number;
  /** bytes from the IP header on */
  ip: Uint8Array;
}

export interface PcapContents {
  linkType: number;
  packets: PcapPacket[];
  /** frames that carried no IP packet (ARP, truncated, ...) */
  skipped: number;
}

export class PcapError extends Error {}

export function readPcap(buf: Uint8Array): PcapContents {
  if (buf.length < 24) throw new PcapError('not a pcap file (shorter than its 24-byte header)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magicBE = dv.getUint32(0, false);
  let little: boolean;
  if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) little = false;
  else if (magicBE === 0xd4c3b2a1 || magicBE === 0x4d3cb2a1) little = true;
  else if (magicBE === 0x0a0d0d0a) throw new PcapError('pcapng is not supported: convert it with `editcap -F pcap IN OUT`');
  else throw new PcapError(`not a pcap file (magic 0x${magicBE.toString(16)})`);
  const linkType = dv.getUint32(20, little) & 0x0fffffff;
  if (!LINKTYPES_READ.includes(linkType)) {
    throw new PcapError(`unsupported link type ${linkType} (supported: raw IP 101/228/229, Ethernet 1, Linux SLL 113, NULL 0)`);
  }
  const packets: PcapPacket[] = [];
  let skipped = 0;
  let off = 24;
  let frame = 0;
  while (off + 16 <= buf.length) {
    const incl = dv.getUint32(off + 8, little);
    off += 16;
    frame++;
    if (off + incl > buf.length) {
      skipped++; // truncated last record
      break;
    }
    const data = buf.subarray(off, off + incl);
    off += incl;
    const ip = ipPayload(data, linkType, little);
    if (ip && ip.length > 0 && (ip[0] >> 4 === 4 || ip[0] >> 4 === 6)) packets.push({ frame, ip });
    else skipped++;
  }
  return { linkType, packets, skipped };
}

function ipPayload(d: Uint8Array, linkType: number, little: boolean): Uint8Array | null {
  switch (linkType) {
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return d;
    case LINKTYPE.ETHERNET: {
      if (d.length < 14) return null;
      let type = (d[12] << 8) | d[13];
      let off = 14;
      if (type === 0x8100 && d.length >= 18) {
        type = (d[16] << 8) | d[17];
        off = 18;
      }
      return type === 0x0800 || type === 0x86dd ? d.subarray(off) : null;
    }
    case LINKTYPE.LINUX_SLL: {
      if (d.length < 16) return null;
      const type = (d[14] << 8) | d[15];
      return type === 0x0800 || type === 0x86dd ? d.subarray(16) : null;
    }
    case LINKTYPE.NULL: {
      if (d.length < 4) return null;
      const fam = little ? d[0] | (d[1] << 8) : (d[2] << 8) | d[3];
      return fam === 2 || fam === 10 || fam === 24 || fam === 28 || fam === 30 ? d.subarray(4) : null;
    }
    default:
      return null;
  }
}

/** Writes a classic pcap (microseconds, little endian) — for tests and for recording tunqos traffic. */
export function writePcap(packets: readonly Uint8Array[], linkType: number = LINKTYPE.RAW): Uint8Array {
  const size = 24 + packets.reduce((s, p) => s + 16 + p.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 65535, true);
  dv.setUint32(20, linkType, true);
  let off = 24;
  packets.forEach((p, i) => {
    dv.setUint32(off, i, true);
    dv.setUint32(off + 8, p.length, true);
    dv.setUint32(off + 12, p.length, true);
    out.set(p, off + 16);
    off += 16 + p.length;
  });
  return out;
}
