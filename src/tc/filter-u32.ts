/**
 * The u32 option language of `tc filter ... u32 ...`, compiled into selectors as iproute2's
 * tc/f_u32.c does: every `match` becomes one or more 32-bit keys (value/mask at a word-aligned
 * offset); two matches on the same word are merged, conflicting bits are an error (`Illegal "match"`).
 *
 * Number bases, as f_u32.c reads them (through tc/values.ts cInt and hexInt): match PATTERNs and
 * offsets are C-style (decimal, 0x hex, 0 octal), match MASKs and `hashkey`/`offset` masks are hex,
 * handles (`ht`, `link`, `handle`) are hex `htid:bucket:node`, `divisor`/`order` are C-style.
 * `ip sport/dport/icmp_type/icmp_code` read fixed offsets 20/22/20/21 (they assume no IP options, as
 * in iproute2); `tcp|udp src|dst` and `icmp type|code` are `nexthdr+` keys (ARCHITECTURE.md D3).
 */
import { TcError, type Args, type Token } from './tokens';
import { cInt, hexInt } from './values';
import { TC_U32_EAT, TC_U32_OFFSET, TC_U32_VAROFFSET, u32Handle, type U32Key, type U32Sel } from '../classify/u32';

/** `htid:hash:node` in hex (get_u32_handle): `800::800`, `2:7b:`, `1:`, `800` */
export function u32HandleOf(t: Token, what: string): number {
  const s = t.text.trim().toLowerCase();
  const parts = s.split(':');
  if (parts.length > 3 || parts.some((p) => p !== '' && !/^(0x)?[0-9a-f]+$/.test(p))) {
    throw new TcError(`invalid ${what} "${t.text}" (expected htid:bucket:node in hex, e.g. 800::800 or 2:7b:)`, t);
  }
  const num = (p: string | undefined): number => (p === undefined || p === '' ? 0 : parseInt(p.replace(/^0x/, ''), 16));
  const htid = num(parts[0]);
  const hash = num(parts[1]);
  const node = num(parts[2]);
  if (htid > 0xfff) throw new TcError(`${what}: hash table id ${parts[0]} is above fff`, t);
  if (hash > 0xff) throw new TcError(`${what}: bucket ${parts[1]} is above ff`, t);
  if (node > 0xfff) throw new TcError(`${what}: node id ${parts[2]} is above fff`, t);
  return u32Handle(htid, hash, node);
}

/** pack_key: merge with a key on the same word, or append */
export function packKey(sel: U32Sel, val: number, mask: number, off: number, offmask: number, at: Token): void {
  val = (val & mask) >>> 0;
  mask >>>= 0;
  for (const k of sel.keys) {
    if (k.off === off && k.offmask === offmask) {
      const intersect = (mask & k.mask) >>> 0;
      if (((val ^ k.val) & intersect) !== 0) throw new TcError('Illegal "match": it contradicts an earlier match on the same word', at);
      k.val = (k.val | val) >>> 0;
      k.mask = (k.mask | mask) >>> 0;
      return;
    }
  }
  if (sel.keys.length >= 128) throw new TcError('too many keys in one u32 filter (max 128)', at);
  sel.keys.push({ val, mask, off, offmask } satisfies U32Key);
}

function packKey16(sel: U32Sel, val: number, mask: number, off: number, offmask: number, at: Token): void {
  if (val > 0xffff || mask > 0xffff) throw new TcError('u16 value or mask above 0xffff', at);
  if (off & 1) throw new TcError(`u16 match at an odd offset (${off})`, at);
  const shift = (off & 3) === 0 ? 16 : 0;
  packKey(sel, val * 2 ** shift, mask * 2 ** shift, off & ~3, offmask, at);
}

function packKey8(sel: U32Sel, val: number, mask: number, off: number, offmask: number, at: Token): void {
  if (val > 0xff || mask > 0xff) throw new TcError('u8 value or mask above 0xff', at);
  const shift = 24 - 8 * (off & 3);
  packKey(sel, val * 2 ** shift, mask * 2 ** shift, off & ~3, offmask, at);
}

/** `at [nexthdr+]OFF` (optional): [off, offmask] */
function parseAt(args: Args, def: number): [number, number] {
  const at = args.accept('at');
  if (!at) return [def, 0];
  const t = args.value(at);
  const m = /^nexthdr\+(.*)$/i.exec(t.text);
  if (m) return [cInt({ ...t, text: m[1], col: t.col + 8 }, 'offset', -0xffff, 0xffff), -1];
  return [cInt(t, 'offset', -0xffff, 0xffff), 0];
}

function valueMask(args: Args, key: Token, maxMask: number): [number, number, Token] {
  const vt = args.value(key);
  const val = cInt(vt, `${key.text} value`, 0, 0xffffffff);
  const mt = args.value(vt);
  const mask = hexInt(mt, `${key.text} mask`, maxMask);
  return [val, mask, mt];
}

function raw(args: Args, sel: U32Sel, width: number, key: Token): void {
  const [val, mask] = valueMask(args, key, width === 32 ? 0xffffffff : width === 16 ? 0xffff : 0xff);
  const [off, offmask] = parseAt(args, 0);
  if (width === 32) {
    if (off & 3) throw new TcError(`u32 match at offset ${off}, which is not a multiple of 4`, key);
    packKey(sel, val, mask, off, offmask, key);
  } else if (width === 16) packKey16(sel, val, mask, off, offmask, key);
  else packKey8(sel, val, mask, off, offmask, key);
}

function ipv4Addr(args: Args, sel: U32Sel, off: number, key: Token): void {
  const t = args.value(key);
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(t.text.trim());
  const anyAll = /^(any|all|default)$/i.test(t.text);
  if (!m && !anyAll) throw new TcError(`invalid IPv4 address "${t.text}" (expected A.B.C.D[/LEN])`, t);
  let addr = 0;
  let plen = 0;
  if (m) {
    const o = [m[1], m[2], m[3], m[4]].map(Number);
    if (o.some((x) => x > 255)) throw new TcError(`invalid IPv4 address "${t.text}"`, t);
    addr = ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
    plen = m[5] === undefined ? 32 : Number(m[5]);
    if (plen > 32) throw new TcError(`invalid prefix length /${m[5]}`, t);
  }
  const mask = plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
  packKey(sel, addr, mask, off, 0, t);
}

function parseIpv6(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (p: string): number[] | null => {
    if (p === '') return [];
    const out: number[] = [];
    for (const g of p.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return null;
  const groups = [...head, ...new Array(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const words: number[] = [];
  for (let i = 0; i < 4; i++) words.push(((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0);
  return words;
}

function ipv6Addr(args: Args, sel: U32Sel, off: number, key: Token): void {
  const t = args.value(key);
  const m = /^([0-9a-f:]+)(?:\/(\d+))?$/i.exec(t.text.trim());
  const words = m ? parseIpv6(m[1]) : null;
  if (!m || !words) throw new TcError(`invalid IPv6 address "${t.text}" (expected e.g. 2001:db8::1/64)`, t);
  const plen = m[2] === undefined ? 128 : Number(m[2]);
  if (plen > 128) throw new TcError(`invalid prefix length /${m[2]}`, t);
  for (let i = 0; i < plen; i += 32) {
    const mask = i + 32 <= plen ? 0xffffffff : (0xffffffff << (32 - (plen & 31))) >>> 0;
    packKey(sel, words[i / 32], mask, off + 4 * (i / 32), 0, t);
  }
}

/** One selector after `match` (or `sample`). */
export function parseSelector(args: Args, sel: U32Sel): void {
  const t = args.next();
  const w = t.text.toLowerCase();
  if (w === 'u32') return raw(args, sel, 32, t);
  if (w === 'u16') return raw(args, sel, 16, t);
  if (w === 'u8') return raw(args, sel, 8, t);
  if (w === 'ip') {
    const f = args.next();
    const fw = f.text.toLowerCase();
    switch (fw) {
      case 'src':
        return ipv4Addr(args, sel, 12, f);
      case 'dst':
        return ipv4Addr(args, sel, 16, f);
      case 'tos':
      case 'dsfield':
      case 'precedence': {
        const [v, m] = valueMask(args, f, 0xff);
        return packKey8(sel, v, m, 1, 0, f);
      }
      case 'ihl': {
        const [v, m] = valueMask(args, f, 0xff);
        return packKey8(sel, v, m, 0, 0, f);
      }
      case 'protocol': {
        const [v, m] = valueMask(args, f, 0xff);
        return packKey8(sel, v, m, 9, 0, f);
      }
      case 'nofrag':
        return packKey16(sel, 0, 0x3fff, 6, 0, f);
      case 'firstfrag':
        return packKey16(sel, 0, 0x1fff, 6, 0, f);
      case 'df':
        return packKey16(sel, 0x4000, 0x4000, 6, 0, f);
      case 'mf':
        return packKey16(sel, 0x2000, 0x2000, 6, 0, f);
      case 'sport':
      case 'dport': {
        const [v, m] = valueMask(args, f, 0xffff);
        return packKey16(sel, v, m, fw === 'sport' ? 20 : 22, 0, f);
      }
      case 'icmp_type':
      case 'icmp_code': {
        const [v, m] = valueMask(args, f, 0xff);
        return packKey8(sel, v, m, fw === 'icmp_type' ? 20 : 21, 0, f);
      }
      default:
        throw new TcError(`unknown "match ip" field "${f.text}" (src, dst, tos, dsfield, precedence, ihl, protocol, nofrag, firstfrag, df, mf, sport, dport, icmp_type, icmp_code)`, f);
    }
  }
  if (w === 'ip6') {
    const f = args.next();
    const fw = f.text.toLowerCase();
    switch (fw) {
      case 'src':
        return ipv6Addr(args, sel, 8, f);
      case 'dst':
        return ipv6Addr(args, sel, 24, f);
      case 'priority': {
        const [v, m] = valueMask(args, f, 0xff);
        return packKey(sel, v << 20, m << 20, 0, 0, f);
      }
      case 'protocol': {
        const [v, m] = valueMask(args, f, 0xff);
        return packKey8(sel, v, m, 6, 0, f);
      }
      case 'flowlabel': {
        const [v, m] = valueMask(args, f, 0xffffffff);
        return packKey(sel, v & 0xfffff, m & 0xfffff, 0, 0, f);
      }
      case 'sport':
      case 'dport': {
        const [v, m] = valueMask(args, f, 0xffff);
        return packKey16(sel, v, m, fw === 'sport' ? 40 : 42, 0, f);
      }
      case 'icmp_type':
      case 'icmp_code': {
        const [v, m] = valueMask(args, f, 0xff);
        return packKey8(sel, v, m, fw === 'icmp_type' ? 40 : 41, 0, f);
      }
      default:
        throw new TcError(`unknown "match ip6" field "${f.text}" (src, dst, priority, protocol, flowlabel, sport, dport)`, f);
    }
  }
  if (w === 'tcp' || w === 'udp') {
    const f = args.next();
    const fw = f.text.toLowerCase();
    if (fw !== 'src' && fw !== 'dst') throw new TcError(`unknown "match ${w}" field "${f.text}" (src, dst)`, f);
    const [v, m] = valueMask(args, f, 0xffff);
    return packKey16(sel, v, m, fw === 'src' ? 0 : 2, -1, f);
  }
  if (w === 'icmp') {
    const f = args.next();
    const fw = f.text.toLowerCase();
    if (fw !== 'type' && fw !== 'code') throw new TcError(`unknown "match icmp" field "${f.text}" (type, code)`, f);
    const [v, m] = valueMask(args, f, 0xff);
    return packKey8(sel, v, m, fw === 'type' ? 0 : 1, -1, f);
  }
  if (w === 'mark' || w === 'ether') throw new TcError(`"match ${w}" is not supported by tunqos (a TUN packet has no ${w === 'mark' ? 'firewall mark' : 'Ethernet header'})`, t);
  throw new TcError(`unknown selector "${t.text}" (u32, u16, u8, ip, ip6, tcp, udp, icmp)`, t);
}

/** `offset [plus N] [at N] [mask M] [shift S] [eat]` */
export function parseOffset(args: Args, sel: U32Sel, key: Token): void {
  let any = false;
  for (;;) {
    const w = args.peekWord();
    if (w === 'plus') {
      const k = args.next();
      sel.off = cInt(args.value(k), 'offset plus', -0x8000, 0x7fff);
      sel.flags |= TC_U32_OFFSET;
    } else if (w === 'at') {
      const k = args.next();
      const v = args.value(k);
      sel.offoff = cInt(v, 'offset at', -0x8000, 0x7fff);
      if (sel.offoff % 2) throw new TcError('offset "at" must be even', v);
      sel.flags |= TC_U32_VAROFFSET;
    } else if (w === 'mask') {
      const k = args.next();
      sel.offmask = hexInt(args.value(k), 'offset mask', 0xffff);
      sel.flags |= TC_U32_VAROFFSET;
    } else if (w === 'shift') {
      const k = args.next();
      sel.offshift = cInt(args.value(k), 'offset shift', 0, 15);
      sel.flags |= TC_U32_VAROFFSET;
    } else if (w === 'eat') {
      args.next();
      sel.flags |= TC_U32_EAT;
    } else break;
    any = true;
  }
  if (!any) throw new TcError('"offset" needs plus, at, mask, shift or eat', key);
}

/** `hashkey mask M at N` */
export function parseHashkey(args: Args, sel: U32Sel, key: Token): void {
  let any = false;
  for (;;) {
    const w = args.peekWord();
    if (w === 'mask') {
      const k = args.next();
      sel.hmask = hexInt(args.value(k), 'hashkey mask');
    } else if (w === 'at') {
      const k = args.next();
      const v = args.value(k);
      const n = cInt(v, 'hashkey at', -0x8000, 0x7fff);
      if (n % 4) throw new TcError('hashkey "at" must be a multiple of 4', v);
      sel.hoff = n;
    } else break;
    any = true;
  }
  if (!any) throw new TcError('"hashkey" needs mask and at', key);
}

/** u32_hash_fold as `sample` uses it: the first key's masked value shifted down to its lowest mask bit */
export function sampleBucket(sample: U32Sel, divisor: number): number {
  const k = sample.keys[0];
  if (!k) return 0;
  const fshift = k.mask ? 31 - Math.clz32(k.mask & -k.mask) : 0;
  const h = ((k.val & k.mask) >>> 0) >>> fshift;
  return h % divisor;
}
