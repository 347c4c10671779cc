/**
 * A filter chain: every filter attached to one qdisc or class, tried in order until one decides.
 *
 * Order (net/sched/cls_api.c, __tcf_classify): by `prio` (pref) ascending; each prio is one
 * classifier instance (here always u32) with its protocol (`ip` = IPv4, `ipv6`, `all`); within an
 * instance, u32 defines the order (node ids). The first instance whose verdict is not "continue"
 * decides:
 *   ok / pass / pipe   → the classid of the matching knode
 *   drop (shot)        → CLS_SHOT (the qdisc frees the packet and counts a police drop)
 *   reclassify         → classification restarts from the first filter; after 16 restarts the
 *                        kernel gives up and drops ("reclassify loop") → CLS_SHOT
 *   continue           → the next knode / the next instance is tried
 * Nothing decided → CLS_NOMATCH (the qdisc's default).
 *
 * `classifyTrace` runs the same loop with a trace sink that records what was tried, for `tunqos
 * classify` (it allocates; the forwarder never calls it). On the fast path the sink is null and costs
 * one test per instance tried.
 *
 * Where u32's `nexthdr+` keys start is worked out here once per packet, from what preparePacket
 * recorded (arena.l4off, arena.frag), not re-read from the IP header by every instance.
 */
import { FLAG_IPV4, FLAG_IPV6, FRAG_LATER, type Arena } from '../packet/arena';
import { IPV6 } from '../packet/fields';
import type { Nanos } from '../time/clock';
import { CLS_NOMATCH, CLS_SHOT, type Classifier } from './classifier';
import { actionName, TC_ACT_RECLASSIFY, TC_ACT_SHOT, TC_ACT_UNSPEC } from './action';
import { formatU32Handle, type U32Program } from './u32';

export const ETH_P_ALL = 0x0003;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const MAX_RECLASSIFY_LOOP = 16;

export interface ChainEntry {
  prio: number;
  protocol: number; // ETH_P_*
  program: U32Program;
  /** table index of this instance's root table in `program` */
  root: number;
}

export interface TraceStep {
  prio: number;
  protocol: string;
  /** knodes whose keys were compared */
  nodesTried: number;
  /** verdict of this instance: 'no match' or the action name */
  verdict: string;
  /** deciding knode handle, e.g. 800::801 */
  handle?: string;
  classid?: number;
}

export interface TraceResult {
  result: number;
  steps: TraceStep[];
}

export function protocolName(p: number): string {
  return p === ETH_P_IP ? 'ip' : p === ETH_P_IPV6 ? 'ipv6' : p === ETH_P_ALL ? 'all' : `0x${p.toString(16).padStart(4, '0')}`;
}

export class FilterChain implements Classifier {
  private readonly arena: Arena;
  private readonly entries: ChainEntry[];
  private readonly protos: Int32Array;
  private readonly roots: Int32Array;
  private readonly programs: U32Program[];
  /** reclassify loops that ended in a drop */
  reclassifyLoops = 0;

  constructor(arena: Arena, entries: ChainEntry[]) {
    this.arena = arena;
    this.entries = entries.slice().sort((a, b) => a.prio - b.prio);
    this.protos = Int32Array.from(this.entries.map((e) => e.protocol));
    this.roots = Int32Array.from(this.entries.map((e) => e.root));
    this.programs = this.entries.map((e) => e.program);
  }

  get length(): number {
    return this.entries.length;
  }

  private static protoMatches(proto: number, flags: number): boolean {
    return proto === ETH_P_ALL || (proto === ETH_P_IP ? (flags & FLAG_IPV4) !== 0 : proto === ETH_P_IPV6 && (flags & FLAG_IPV6) !== 0);
  }

  classify(pkt: number, now: Nanos): number {
    return this.run(pkt, now, null);
  }

  /** The same lookup, recording each instance tried (allocates: diagnostics only). */
  classifyTrace(pkt: number, now: Nanos): TraceResult {
    const steps: TraceStep[] = [];
    return { result: this.run(pkt, now, steps), steps };
  }

  /** __tcf_classify: the instances in prio order until one decides; `trace` (or null) records each one tried */
  private run(pkt: number, now: Nanos, trace: TraceStep[] | null): number {
    const a = this.arena;
    const base = pkt * a.slotSize;
    let len = a.len[pkt];
    if (len > a.slotSize) len = a.slotSize;
    const flags = a.flags[pkt];
    // D3: nexthdr+ starts at the transport header: l4off for IPv4 (none in a non-first fragment),
    // the end of the fixed header for IPv6 (u32 does not walk extension headers)
    const l4off = a.l4off[pkt];
    const nexthdr = (flags & FLAG_IPV6) !== 0 ? IPV6.HEADER_LEN : l4off < 0 ? 0 : l4off;
    const transport = (flags & FLAG_IPV4) === 0 || a.frag[pkt] !== FRAG_LATER;
    const count = this.protos.length;
    let loops = 0;
    restart: for (;;) {
      for (let i = 0; i < count; i++) {
        if (!FilterChain.protoMatches(this.protos[i], flags)) continue;
        const prog = this.programs[i];
        const r = prog.classify(this.roots[i], a.bytes, base, len, nexthdr, transport, now);
        if (trace !== null) trace.push(this.step(i, r));
        if (r === TC_ACT_UNSPEC) continue;
        if (r === TC_ACT_SHOT) return CLS_SHOT;
        if (r === TC_ACT_RECLASSIFY) {
          if (++loops >= MAX_RECLASSIFY_LOOP) {
            if (trace === null) this.reclassifyLoops++; // a trace (tunqos classify) explains, it does not count
            return CLS_SHOT;
          }
          continue restart;
        }
        return prog.resClassid;
      }
      return CLS_NOMATCH;
    }
  }

  /** what instance `i` did with verdict `r`, for a trace */
  private step(i: number, r: number): TraceStep {
    const e = this.entries[i];
    const prog = e.program;
    const step: TraceStep = { prio: e.prio, protocol: protocolName(e.protocol), nodesTried: prog.visited, verdict: r === TC_ACT_UNSPEC ? 'no match' : actionName(r) };
    if (r !== TC_ACT_UNSPEC && prog.resNode >= 0) {
      step.handle = formatU32Handle(prog.nodes[prog.resNode].handle);
      step.classid = prog.resClassid;
    }
    return step;
  }
}
