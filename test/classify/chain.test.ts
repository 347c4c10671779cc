/**
 * The filter chain on its own: hand-made u32 instances (no tc parsing), so that what is pinned here
 * is __tcf_classify's loop (prio order, protocol match, verdicts, the reclassify limit) and where
 * u32's nexthdr+ keys start (from preparePacket's columns, once per packet).
 */
import { describe, expect, it } from 'vitest';
import { ACT_GACT, FilterAction, TC_ACT_OK, TC_ACT_RECLASSIFY, TC_ACT_SHOT, TC_ACT_UNSPEC } from '../../src/classify/action';
import { ETH_P_ALL, ETH_P_IP, ETH_P_IPV6, FilterChain, MAX_RECLASSIFY_LOOP } from '../../src/classify/chain';
import { CLS_NOMATCH, CLS_SHOT } from '../../src/classify/classifier';
import { emptySel, TC_U32_TERMINAL, U32Common, U32Knode, U32Program, U32Table, type U32Key } from '../../src/classify/u32';
import { Arena } from '../../src/packet/arena';
import { allocPacket } from '../../src/packet/synth';

const ROOT = 0x80000000; // 800:

/** one u32 instance: a root table of one bucket holding knodes (keys → classid, actions) */
function instance(nodes: { keys: U32Key[]; classid: number; verdict?: number }[]): { program: U32Program; root: number } {
  const common = new U32Common();
  const t = new U32Table(ROOT, 1, 1, true);
  common.add(t);
  nodes.forEach((n, i) => {
    const sel = emptySel();
    sel.keys = n.keys;
    sel.flags = TC_U32_TERMINAL;
    const k = new U32Knode((ROOT | (0x800 + i)) >>> 0, sel);
    k.classid = n.classid;
    if (n.verdict !== undefined) k.actions = [new FilterAction(ACT_GACT, n.verdict, null)];
    t.insert(0, k);
  });
  const program = new U32Program(common);
  return { program, root: program.indexOf(ROOT) };
}

const any: U32Key = { val: 0, mask: 0, off: 0, offmask: 0 };
/** the destination port, 2 bytes into the transport header (nexthdr+0, low half) */
const dport = (p: number): U32Key => ({ val: p, mask: 0xffff, off: 0, offmask: -1 });

function chain(arena: Arena, entries: { prio: number; protocol: number; nodes: Parameters<typeof instance>[0] }[]): FilterChain {
  return new FilterChain(
    arena,
    entries.map((e) => ({ prio: e.prio, protocol: e.protocol, ...instance(e.nodes) })),
  );
}

describe('FilterChain', () => {
  it('tries instances by prio, not by the order given; the first that decides wins', () => {
    const a = new Arena(8);
    const c = chain(a, [
      { prio: 5, protocol: ETH_P_ALL, nodes: [{ keys: [any], classid: 0x10005 }] },
      { prio: 1, protocol: ETH_P_ALL, nodes: [{ keys: [dport(80)], classid: 0x10001 }] },
    ]);
    expect(c.classify(allocPacket(a, { dport: 80 }), 0)).toBe(0x10001);
    expect(c.classify(allocPacket(a, { dport: 81 }), 0)).toBe(0x10005);
  });

  it('matches the protocol: ip sees IPv4 only, ipv6 IPv6 only, all both', () => {
    const a = new Arena(8);
    const c = chain(a, [
      { prio: 1, protocol: ETH_P_IP, nodes: [{ keys: [any], classid: 0x10004 }] },
      { prio: 2, protocol: ETH_P_IPV6, nodes: [{ keys: [any], classid: 0x10006 }] },
    ]);
    expect(c.classify(allocPacket(a, {}), 0)).toBe(0x10004);
    expect(c.classify(allocPacket(a, { version: 6 }), 0)).toBe(0x10006);
    const all = chain(a, [{ prio: 1, protocol: ETH_P_ALL, nodes: [{ keys: [any], classid: 0x10001 }] }]);
    expect([all.classify(allocPacket(a, {}), 0), all.classify(allocPacket(a, { version: 6 }), 0)]).toEqual([0x10001, 0x10001]);
  });

  it('a shot verdict drops at once: later instances are not consulted', () => {
    const a = new Arena(4);
    const c = chain(a, [
      { prio: 1, protocol: ETH_P_ALL, nodes: [{ keys: [dport(9)], classid: 0x10001, verdict: TC_ACT_SHOT }] },
      { prio: 2, protocol: ETH_P_ALL, nodes: [{ keys: [any], classid: 0x10002 }] },
    ]);
    const id = allocPacket(a, { dport: 9 });
    expect(c.classify(id, 0)).toBe(CLS_SHOT);
    expect(c.classifyTrace(id, 0).steps.map((s) => s.verdict)).toEqual(['drop']);
  });

  it('continue passes to the next instance; nothing decided is CLS_NOMATCH', () => {
    const a = new Arena(4);
    const c = chain(a, [
      { prio: 1, protocol: ETH_P_ALL, nodes: [{ keys: [any], classid: 0x10001, verdict: TC_ACT_UNSPEC }] },
      { prio: 2, protocol: ETH_P_ALL, nodes: [{ keys: [dport(22)], classid: 0x10002, verdict: TC_ACT_OK }] },
    ]);
    expect(c.classify(allocPacket(a, { dport: 22 }), 0)).toBe(0x10002);
    expect(c.classify(allocPacket(a, { dport: 23 }), 0)).toBe(CLS_NOMATCH);
  });

  it(`reclassify restarts from the first instance and gives up after ${MAX_RECLASSIFY_LOOP} rounds with a drop`, () => {
    const a = new Arena(4);
    const c = chain(a, [
      { prio: 1, protocol: ETH_P_ALL, nodes: [{ keys: [dport(80)], classid: 0x10002 }] },
      { prio: 2, protocol: ETH_P_ALL, nodes: [{ keys: [any], classid: 0x10001, verdict: TC_ACT_RECLASSIFY }] },
    ]);
    const id = allocPacket(a, { dport: 81 });
    expect(c.classify(id, 0)).toBe(CLS_SHOT);
    expect(c.reclassifyLoops).toBe(1);
    const t = c.classifyTrace(id, 0);
    expect(t.result).toBe(CLS_SHOT);
    expect(t.steps.length).toBe(2 * MAX_RECLASSIFY_LOOP);
    expect(t.steps[1]).toMatchObject({ prio: 2, protocol: 'all', verdict: 'reclassify', handle: '800::800', classid: 0x10001 });
    expect(c.reclassifyLoops).toBe(1); // the trace explains the loop, it does not count it
    // a packet the first instance decides never loops
    expect(c.classify(allocPacket(a, { dport: 80 }), 0)).toBe(0x10002);
  });

  it('nexthdr+ keys start at the transport header preparePacket found, and never match a non-first fragment', () => {
    const a = new Arena(8);
    const c = chain(a, [{ prio: 1, protocol: ETH_P_ALL, nodes: [{ keys: [dport(443)], classid: 0x10001 }] }]);
    expect(c.classify(allocPacket(a, { dport: 443, options: 12 }), 0)).toBe(0x10001);
    expect(c.classify(allocPacket(a, { dport: 443, mf: true }), 0)).toBe(0x10001); // first fragment
    expect(c.classify(allocPacket(a, { dport: 443, fragOffset: 8 }), 0)).toBe(CLS_NOMATCH);
    expect(c.classify(allocPacket(a, { version: 6, dport: 443 }), 0)).toBe(0x10001);
  });

  it('the trace reports each instance tried with its verdict and the knodes compared', () => {
    const a = new Arena(4);
    const c = chain(a, [
      { prio: 1, protocol: ETH_P_IP, nodes: [{ keys: [dport(1)], classid: 0x10001 }, { keys: [dport(2)], classid: 0x10002 }] },
      { prio: 2, protocol: ETH_P_IP, nodes: [{ keys: [any], classid: 0x10003 }] },
    ]);
    const t = c.classifyTrace(allocPacket(a, { dport: 3 }), 0);
    expect(t.result).toBe(0x10003);
    expect(t.steps).toEqual([
      { prio: 1, protocol: 'ip', nodesTried: 2, verdict: 'no match' },
      { prio: 2, protocol: 'ip', nodesTried: 1, verdict: 'pass', handle: '800::800', classid: 0x10003 },
    ]);
  });
});

