/**
 * `tc filter add|replace|change|del|show ...`: the words of a filter command → a FilterCommand, as
 * iproute2's tc_filter.c and f_u32.c read them (the u32 selector language itself is in
 * filter-u32.ts). What the command does to the filters is filter-set.ts's; printing is filter-show.ts's.
 *
 * Leniencies (ARCHITECTURE.md D4, each with a warning): no `protocol` means all; a filter without a kind
 * but with `match`/`flowid` is a u32 filter (S-08 catch-all); `flowid :N` (no major) is taken as
 * minor N of the parent's major when the filter is placed (filter-set.ts resolveClassid).
 */
import { FilterAction, ACT_GACT, ACT_POLICE, ACTION_WORDS } from '../classify/action';
import { ETH_P_ALL, ETH_P_IP, ETH_P_IPV6 } from '../classify/chain';
import { Police, type PoliceOptions } from '../classify/police';
import { emptySel, TC_U32_TERMINAL, u32Htid, u32Node, type U32Sel } from '../classify/u32';
import { TC_H_ROOT, tcMajor } from '../qdisc/qdisc';
import type { ParseContext } from './kinds';
import { TcError, type Args, type Token } from './tokens';
import { cInt, handleOf, rateOf, sizeOf } from './values';
import { parseHashkey, parseOffset, parseSelector, sampleBucket, u32HandleOf } from './filter-u32';

export type FilterVerb = 'add' | 'replace' | 'change' | 'del' | 'show';

export interface U32Options {
  sel: U32Sel;
  /** classid as given (may have major 0: `:20`) */
  classid: number | undefined;
  link: number | undefined;
  /** `ht` (table and bucket) */
  ht: number | undefined;
  divisor: number | undefined;
  order: number | undefined;
  actions: FilterAction[];
  /** `u32` with no options at all: only the instance (and its root table) is created */
  empty: boolean;
  tokens: { classid?: Token; link?: Token; ht?: Token; divisor?: Token; order?: Token };
}

export interface FilterCommand {
  verb: FilterVerb;
  dev: string | undefined;
  /** tc handle; TC_H_ROOT if `root` or not given */
  parent: number;
  prio: number | undefined;
  protocol: number | 'all';
  protocolGiven: boolean;
  /** u32 handle (htid:bucket:node) or undefined */
  handle: number | undefined;
  kind: 'u32' | undefined;
  u32: U32Options | undefined;
  anchor: Token;
  tokens: { prio?: Token; handle?: Token; protocol?: Token; parent?: Token };
}

const PROTOCOLS: Record<string, number> = { ip: ETH_P_IP, ipv4: ETH_P_IP, ipv6: ETH_P_IPV6, all: ETH_P_ALL };

/** the EtherType a command's protocol stands for (`all` is ETH_P_ALL) */
export function protoNum(p: number | 'all'): number {
  return p === 'all' ? ETH_P_ALL : p;
}

/**
 * `EXCEED[/CONFORM]`, police's two verdicts: each part's verdict (a gact word, ACTION_WORDS), NaN
 * for a part that is not one; `conform` is undefined when no `/CONFORM` is written.
 */
function parseVerdictPair(text: string): { exceed: number; conform: number | undefined; conformWord: string | undefined } {
  const [ex, co] = text.toLowerCase().split('/');
  const verdict = (word: string): number => (word in ACTION_WORDS ? ACTION_WORDS[word] : NaN);
  return { exceed: verdict(ex), conform: co === undefined ? undefined : verdict(co), conformWord: co };
}

/** police's KEYWORD VALUE options (act_police as m_police.c reads them), each setting its field */
const POLICE_VALUES: Record<string, (o: PoliceOptions, v: Token) => void> = {
  rate: (o, v) => (o.rate = rateOf(v)),
  burst: (o, v) => (o.burst = sizeOf(v, 'burst')),
  buffer: (o, v) => (o.burst = sizeOf(v, 'burst')),
  maxburst: (o, v) => (o.burst = sizeOf(v, 'burst')),
  mtu: (o, v) => (o.mtu = sizeOf(v, 'mtu')),
  minburst: (o, v) => (o.mtu = sizeOf(v, 'mtu')),
  mpu: (o, v) => (o.mpu = sizeOf(v, 'mpu')),
  peakrate: (o, v) => (o.peakrate = rateOf(v, 'peakrate')),
  avrate: (o, v) => (o.avrate = rateOf(v, 'avrate')),
  overhead: (o, v) => (o.overhead = cInt(v, 'overhead', 0, 0xffff)),
  linklayer: (_o, v) => {
    if (v.text.toLowerCase() !== 'ethernet') throw new TcError(`linklayer "${v.text}" is not supported (only ethernet)`, v);
  },
  index: (o, v) => (o.index = cInt(v, 'index', 0)),
};

/** `police rate R burst B [mtu M] [peakrate P] [avrate A] [overhead O] [EXCEED[/CONFORM]] ...` (act_police) */
function parsePolice(args: Args, key: Token): Police {
  const o: PoliceOptions = {};
  let any = false;
  for (;;) {
    const w = args.peekWord();
    if (w === '') break;
    if (Object.hasOwn(POLICE_VALUES, w)) {
      const k = args.next();
      POLICE_VALUES[w](o, args.value(k));
    } else if (w === 'conform-exceed') {
      const k = args.next();
      const v = args.value(k);
      const p = parseVerdictPair(v.text);
      if (Number.isNaN(p.exceed) || Number.isNaN(p.conform)) {
        throw new TcError(`invalid conform-exceed "${v.text}" (EXCEED[/CONFORM], each of drop, pass, ok, continue, reclassify, pipe)`, v);
      }
      o.exceed = p.exceed;
      if (p.conform !== undefined) o.conform = p.conform;
    } else if (!Number.isNaN(parseVerdictPair(w).exceed)) {
      // the verdicts written bare, as print_police prints them: `drop`, `continue/ok`
      const v = args.next();
      const p = parseVerdictPair(w);
      if (Number.isNaN(p.conform)) throw new TcError(`invalid conform action "${p.conformWord}"`, v);
      o.exceed = p.exceed;
      if (p.conform !== undefined) o.conform = p.conform;
    } else break;
    any = true;
  }
  if (!any || (!o.rate && !o.avrate && !o.mtu)) throw new TcError('police needs at least "rate RATE burst SIZE" (or avrate)', key);
  if (o.rate && !o.burst) throw new TcError('police: "burst" is required with "rate"', key);
  if (o.peakrate && !o.mtu) throw new TcError('police: "mtu" is required with "peakrate"', key);
  return new Police(o);
}

/** `action ...` after u32 options: gact verdicts and `police`. */
function parseAction(args: Args, out: FilterAction[]): void {
  let t = args.next();
  let w = t.text.toLowerCase();
  if (w === 'gact') {
    t = args.next();
    w = t.text.toLowerCase();
  }
  if (w === 'police') {
    out.push(new FilterAction(ACT_POLICE, 0, parsePolice(args, t)));
  } else if (w in ACTION_WORDS) {
    out.push(new FilterAction(ACT_GACT, ACTION_WORDS[w], null));
  } else {
    throw new TcError(`unsupported action "${t.text}" (drop, pass, ok, continue, reclassify, pipe, police)`, t);
  }
  // optional `index N`
  if (args.peekWord() === 'index') {
    const k = args.next();
    cInt(args.value(k), 'index', 0);
  }
}

function parseU32(args: Args, ctx: ParseContext, cmd: FilterCommand): U32Options {
  const o: U32Options = { sel: emptySel(), classid: undefined, link: undefined, ht: undefined, divisor: undefined, order: undefined, actions: [], empty: args.done(), tokens: {} };
  let sampleBkt: number | undefined;
  let sampleTok: Token | undefined;
  while (!args.done()) {
    const t = args.next();
    const w = t.text.toLowerCase();
    switch (w) {
      case 'match':
        parseSelector(args, o.sel);
        break;
      case 'offset':
        parseOffset(args, o.sel, t);
        break;
      case 'hashkey':
        parseHashkey(args, o.sel, t);
        break;
      case 'classid':
      case 'flowid': {
        const v = args.value(t);
        o.classid = handleOf(v, w);
        o.tokens.classid = v;
        o.sel.flags |= TC_U32_TERMINAL;
        if (tcMajor(o.classid) === 0 && o.classid !== 0) ctx.warn(`"${w} ${v.text}" has no major: taken as minor ${v.text.replace(/^:/, '')} of the parent's major (D4)`, v);
        break;
      }
      case 'divisor': {
        const v = args.value(t);
        const d = cInt(v, 'divisor', 0);
        if (d === 0 || d > 0x100 || (d & (d - 1)) !== 0) throw new TcError(`Illegal divisor ${v.text} (a power of two, 1..256)`, v);
        o.divisor = d;
        o.tokens.divisor = v;
        break;
      }
      case 'order': {
        const v = args.value(t);
        o.order = cInt(v, 'order', 0, 0xfff);
        o.tokens.order = v;
        break;
      }
      case 'link': {
        const v = args.value(t);
        const h = u32HandleOf(v, 'link');
        if (h & 0xfffff) throw new TcError('"link" must be a hash table (e.g. 2:)', v);
        o.link = h;
        o.tokens.link = v;
        break;
      }
      case 'ht': {
        const v = args.value(t);
        const h = u32HandleOf(v, 'ht');
        if (u32Node(h)) throw new TcError('Illegal "ht": it must name a table and bucket, not a node (e.g. 2:7b:)', v);
        o.ht = h;
        o.tokens.ht = v;
        break;
      }
      case 'sample': {
        const s = emptySel();
        parseSelector(args, s);
        let div = 256;
        if (args.peekWord() === 'divisor') {
          const k = args.next();
          const v = args.value(k);
          div = cInt(v, 'divisor', 1, 0x100);
          if (div & (div - 1)) throw new TcError(`Illegal divisor ${v.text} (a power of two, 1..256)`, v);
        }
        if (s.keys.length !== 1) throw new TcError('"sample" needs exactly one 32-bit word to hash', t);
        sampleBkt = sampleBucket(s, div);
        sampleTok = t;
        break;
      }
      case 'police':
        o.actions.push(new FilterAction(ACT_POLICE, 0, parsePolice(args, t)));
        o.sel.flags |= TC_U32_TERMINAL;
        break;
      case 'action':
      case 'actions':
        parseAction(args, o.actions);
        o.sel.flags |= TC_U32_TERMINAL;
        break;
      case 'skip_hw':
      case 'skip_sw':
        break;
      case 'indev':
        throw new TcError('"indev" is not supported (a tunqos link has one input)', t);
      default:
        throw new TcError(`unknown u32 option "${t.text}" (match, offset, hashkey, classid, flowid, divisor, order, link, ht, sample, police, action)`, t);
    }
  }
  if (sampleBkt !== undefined) {
    const base = o.ht ?? 0;
    o.ht = (u32Htid(base) | (sampleBkt << 12)) >>> 0;
    o.tokens.ht ??= sampleTok;
  }
  if (o.order !== undefined) {
    const h = cmd.handle ?? 0;
    if (u32Node(h) && u32Node(h) !== o.order) throw new TcError('"order" contradicts "handle"', o.tokens.order);
    cmd.handle = (h | o.order) >>> 0;
  }
  return o;
}

/** Parses the tokens after `filter <verb>`. */
export function parseFilterCommand(verb: string, args: Args, ctx: ParseContext): FilterCommand {
  const v = verb.toLowerCase();
  const normalized: FilterVerb | undefined =
    v === 'add' ? 'add' : v === 'replace' ? 'replace' : v === 'change' ? 'change' : v === 'del' || v === 'delete' ? 'del' : v === 'show' || v === 'list' || v === 'ls' ? 'show' : undefined;
  const anchor = args.peek() ?? args.last() ?? { text: verb, file: '<command line>', line: 1, col: 1 };
  if (!normalized) throw new TcError(`unknown filter command "${verb}" (add, replace, change, del, show)`, anchor);
  const cmd: FilterCommand = {
    verb: normalized,
    dev: undefined,
    parent: TC_H_ROOT,
    prio: undefined,
    protocol: 'all',
    protocolGiven: false,
    handle: undefined,
    kind: undefined,
    u32: undefined,
    anchor,
    tokens: {},
  };
  let handleTok: Token | undefined;
  while (!args.done()) {
    const w = args.peekWord();
    if (w === 'dev') {
      const k = args.next();
      cmd.dev = args.value(k).text;
    } else if (w === 'parent') {
      const k = args.next();
      const t = args.value(k);
      cmd.parent = t.text.toLowerCase() === 'root' ? TC_H_ROOT : handleOf(t, 'parent');
      cmd.tokens.parent = t;
    } else if (w === 'root') {
      cmd.tokens.parent = args.next();
      cmd.parent = TC_H_ROOT;
    } else if (w === 'ingress') {
      cmd.tokens.parent = args.next();
      cmd.parent = 0xffff0000;
    } else if (w === 'protocol') {
      const k = args.next();
      const t = args.value(k);
      const p = PROTOCOLS[t.text.toLowerCase()];
      if (p === undefined) throw new TcError(`protocol "${t.text}" is not supported (ip, ipv6, all): tunqos sees IP packets from a TUN device`, t);
      cmd.protocol = p === ETH_P_ALL ? 'all' : p;
      cmd.protocolGiven = true;
      cmd.tokens.protocol = t;
    } else if (w === 'prio' || w === 'pref' || w === 'priority' || w === 'preference') {
      const k = args.next();
      const t = args.value(k);
      cmd.prio = cInt(t, 'prio', 0, 0xffff);
      cmd.tokens.prio = t;
    } else if (w === 'handle') {
      const k = args.next();
      handleTok = args.value(k);
      cmd.tokens.handle = handleTok;
    } else if (w === 'chain') {
      const k = args.next();
      const t = args.value(k);
      if (cInt(t, 'chain', 0) !== 0) throw new TcError('only chain 0 is supported', t);
    } else if (w === 'estimator') {
      const k = args.next();
      args.value(k);
      args.value(k);
    } else if (w === 'u32') {
      args.next();
      cmd.kind = 'u32';
      break;
    } else if (w === 'match' || w === 'flowid' || w === 'classid') {
      ctx.warn('filter without a classifier kind: taken as "u32" (D4)', args.peek());
      cmd.kind = 'u32';
      break;
    } else if (normalized === 'show' || normalized === 'del') {
      throw new TcError(`unexpected "${args.peek()!.text}" in "filter ${verb}"`, args.peek());
    } else {
      const t = args.peek()!;
      throw new TcError(`filter kind "${t.text}" is not supported (tunqos classifies with u32)`, t);
    }
  }
  if (handleTok) cmd.handle = u32HandleOf(handleTok, 'handle');
  if (cmd.kind === 'u32' && normalized !== 'show') cmd.u32 = parseU32(args, ctx, cmd);
  else if (cmd.kind === 'u32' && !args.done()) throw new TcError(`unexpected "${args.peek()!.text}"`, args.peek());
  if (!cmd.protocolGiven && normalized !== 'del' && normalized !== 'show') ctx.warn('filter without "protocol": it applies to all protocols (D4)', anchor);
  if ((normalized === 'add' || normalized === 'replace' || normalized === 'change') && cmd.kind === undefined) {
    throw new TcError('filter needs a classifier ("u32 ...")', args.last() ?? anchor);
  }
  return cmd;
}
