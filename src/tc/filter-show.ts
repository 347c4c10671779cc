/**
 * `tc filter show` and `tc -j filter show`: the u32 filters of a FilterSet as iproute2 6.1 prints them
 * against Linux 6.18 (f_u32.c u32_print_opt; recorded in test/fixtures/kernel/filters/). The
 * police/action lines could not be checked against that kernel (act_police is not built) and follow
 * iproute2's print_police/print_gact.
 */
import { actionName } from '../classify/action';
import { protocolName } from '../classify/chain';
import { formatU32Handle, TC_U32_EAT, TC_U32_OFFSET, TC_U32_VAROFFSET, U32Knode, u32Hash, u32Node } from '../classify/u32';
import { formatHandle, tcMajor, tcMinor } from '../qdisc/qdisc';
import { formatRate, formatSize } from '../time/units';
import type { FilterSet } from './filter-set';

export interface FilterShowOptions {
  stats: boolean;
  details: boolean;
  /** only this prio (and the `pref` field is left out) */
  prio?: number;
  /** only this EtherType (and the `protocol` field is left out) */
  protocol?: number;
}

/** `tc filter show`: every parent when `parent` is undefined (each line names it), else one parent. */
export function showFilters(set: FilterSet, parent: number | undefined, opts: FilterShowOptions): string {
  const out: string[] = [];
  for (const p of parent === undefined ? set.parents() : [parent]) {
    for (const f of set.instances(p)) {
      if (opts.prio !== undefined && f.prio !== opts.prio) continue;
      if (opts.protocol !== undefined && f.protocol !== opts.protocol) continue;
      let head = 'filter ';
      if (parent === undefined) head += `parent ${formatHandle(p)} `;
      if (opts.protocol === undefined) head += `protocol ${protocolName(f.protocol)} `;
      if (opts.prio === undefined) head += `pref ${f.prio} `;
      head += 'u32 chain 0 ';
      out.push(head);
      for (const t of f.tables) {
        out.push(`${head}fh ${formatU32Handle(t.handle)} ht divisor ${t.divisor} `);
        for (const b of t.buckets) for (const n of b) out.push(head + formatKnode(n, opts.stats));
      }
    }
  }
  return out.map((l) => l + '\n').join('');
}

/** `tc -j filter show`: the same entries, one object per line of the text form. */
export function filtersJson(set: FilterSet, parent?: number): unknown[] {
  const out: unknown[] = [];
  for (const p of parent === undefined ? set.parents() : [parent]) {
    for (const f of set.instances(p)) {
      const base = { parent: formatHandle(p), protocol: protocolName(f.protocol), pref: f.prio, kind: 'u32', chain: 0 };
      out.push({ ...base });
      for (const t of f.tables) {
        out.push({ ...base, options: { fh: formatU32Handle(t.handle), ht_divisor: t.divisor } });
        for (const b of t.buckets) for (const n of b) out.push({ ...base, options: knodeJson(n) });
      }
    }
  }
  return out;
}

function knodeJson(n: U32Knode): Record<string, unknown> {
  const o: Record<string, unknown> = { fh: formatU32Handle(n.handle), order: u32Node(n.handle), key_ht: (n.handle >>> 20).toString(16), bkt: u32Hash(n.handle).toString(16) };
  if (n.rawClassid !== undefined) o.flowid = formatClassid(n.rawClassid);
  if (n.link) o.link = formatU32Handle(n.link);
  o.not_in_hw = true;
  o.match = n.sel.keys.map((k) => ({ value: hex8(k.val), mask: hex8(k.mask), offmask: k.offmask ? 'nexthdr+' : '', off: k.off }));
  if (n.actions.length) o.actions = n.actions.map((a) => (a.police ? { kind: 'police', rate: formatRate(a.police.rate), burst: formatSize(a.police.burst), overlimits: a.police.overlimits } : { kind: 'gact', control_action: actionName(a.verdict) }));
  return o;
}

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** sprint_tc_classid: `1:10`, `:20` for major 0 */
function formatClassid(c: number): string {
  const major = tcMajor(c);
  const minor = tcMinor(c);
  return `${major ? major.toString(16) : ''}:${minor.toString(16)}`;
}

function formatKnode(n: U32Knode, stats: boolean): string {
  let s = `fh ${formatU32Handle(n.handle)} order ${u32Node(n.handle)} key ht ${(n.handle >>> 20).toString(16)} bkt ${u32Hash(n.handle).toString(16)} `;
  // iproute2 6.1 prints '*' before flowid (it tests the selector before reading it)
  if (n.rawClassid !== undefined) s += `*flowid ${formatClassid(n.rawClassid)} `;
  if (n.link) s += `link ${formatU32Handle(n.link)} `;
  s += 'not_in_hw ';
  const sel = n.sel;
  for (const k of sel.keys) s += `\n  match ${hex8(k.val)}/${hex8(k.mask)} at ${k.offmask ? 'nexthdr+' : ''}${k.off}`;
  if (sel.flags & (TC_U32_VAROFFSET | TC_U32_OFFSET)) {
    s += '\n    offset ';
    if (sel.flags & TC_U32_VAROFFSET) s += `${(sel.offmask & 0xffff).toString(16).padStart(4, '0')}>>${sel.offshift} at ${sel.offoff} `;
    if (sel.off) s += `plus ${sel.off} `;
  }
  if (sel.flags & TC_U32_EAT) s += ' eat ';
  if (sel.hmask) s += `\n    hash mask ${hex8(sel.hmask)} at ${sel.hoff} `;
  let order = 1;
  for (const a of n.actions) {
    if (a.police) {
      const p = a.police;
      s += `\n\taction order ${order++}:  police 0x${(p.index || order - 1).toString(16)} rate ${formatRate(p.rate)} burst ${formatSize(p.burst)} mtu ${formatSize(p.mtu === 0xffffffff ? 0xffffffff : p.mtu)} `;
      if (p.peakrate) s += `peakrate ${formatRate(p.peakrate)} `;
      if (p.avrate) s += `avrate ${formatRate(p.avrate)} `;
      s += `action ${actionName(p.exceed)}`;
      s += p.conform !== 0 ? `/${actionName(p.conform)} ` : ' ';
      s += `overhead ${p.overhead}b `;
      s += '\n\tref 1 bind 1 ';
      if (stats) s += `\n\tSent ${p.bytes} bytes ${p.packets} pkt (dropped ${p.drops}, overlimits ${p.overlimits} requeues 0) \n\tbacklog 0b 0p requeues 0 `;
    } else {
      s += `\n\taction order ${order++}: gact action ${actionName(a.verdict)}\n\t random type none pass val 0\n\t index ${order - 1} ref 1 bind 1 `;
      if (stats) s += `\n\tSent ${a.bytes} bytes ${a.packets} pkt (dropped ${a.verdict === 2 ? a.packets : 0}, overlimits 0 requeues 0) \n\tbacklog 0b 0p requeues 0 `;
    }
  }
  return s;
}
