/**
 * Where does a packet go? The engine of `tunqos classify`: one packet through one device side.
 *
 * Two views are combined:
 *  - the filters it meets: starting at the root qdisc, each qdisc's (and, HTB-style, each inner
 *    class's) filter chain is traced with classifyTrace (src/classify/chain.ts); a result naming an
 *    inner class with filters of its own continues there; a leaf class's classful qdisc continues too;
 *  - where it really lands: the packet is enqueued into the live tree and the leaf whose queue grew
 *    is the answer. That makes HTB defaults, the direct queue, PRIO priomaps, police drops and queue
 *    limits come out exactly as the forwarder would do them, without re-implementing any of them.
 *    The tree is purged afterwards (reset), so every packet starts from an empty tree; use this on a
 *    model that forwards nothing (check/classify), never on a live gateway.
 * The answer is the class as tc writes it (`1:10`), `default 1:30` (no filter decided at the root and
 * the kind's default took it), `direct` (queued at the root itself: HTB's unshaped direct queue), the
 * qdisc for a classless root (`root pfifo 1:`), or `dropped`.
 */
import { CLS_NOMATCH, CLS_SHOT, type Classifier } from '../classify/classifier';
import type { Arena } from '../packet/arena';
import { summarize } from '../packet/format';
import { preparePacket, PREP_OK, PREP_REASON_NAMES } from '../packet/prepare';
import { type Qdisc, type QdiscClass, XMIT_DROP, isClassful, formatHandle, type QdiscTree } from '../qdisc/qdisc';
import type { DeviceModel } from './device';
import { IngressQdisc } from '../qdisc/ingress';

export interface PacketTrace {
  summary: string;
  /** filters met, in order, e.g. `1: prio 1 ip 800::800 → 1:10` */
  filters: string[];
  /** `1:10`, `default 1:30`, `direct`, `dropped`, ... */
  verdict: string;
  /** the classid it landed in (0 when none) */
  classid: number;
}

type Traceable = Classifier & { classifyTrace?(pkt: number, now: number): { result: number; steps: unknown[] } };

function stepText(at: number, s: unknown): string {
  if (typeof s === 'string') return `${formatHandle(at)} ${s}`;
  const o = s as { prio?: number; protocol?: string; verdict?: string; handle?: string; classid?: number; nodesTried?: number };
  const head = `${formatHandle(at)} prio ${o.prio} ${o.protocol ?? ''}`.trimEnd();
  if (o.classid !== undefined && o.handle) return `${head} ${o.handle} ${o.verdict} → ${formatHandle(o.classid)}`;
  if (o.handle) return `${head} ${o.handle} ${o.verdict}`;
  return `${head} ${o.verdict}${o.nodesTried !== undefined ? ` (${o.nodesTried} tried)` : ''}`;
}

function runFilters(filters: Classifier | null, at: number, pkt: number, now: number, out: string[]): number {
  if (!filters) return CLS_NOMATCH;
  const t = filters as Traceable;
  if (typeof t.classifyTrace === 'function') {
    const r = t.classifyTrace(pkt, now);
    for (const s of r.steps) out.push(stepText(at, s));
    return r.result;
  }
  return filters.classify(pkt, now);
}

interface Leaf {
  cls: QdiscClass;
  owner: Qdisc;
  depth: number;
}

function leaves(q: Qdisc, depth: number, out: Leaf[]): void {
  if (q instanceof IngressQdisc) {
    leaves(q.child, depth + 1, out);
    return;
  }
  if (!isClassful(q)) return;
  for (const cls of q.classes()) {
    if (cls.leaf) {
      // TBF's single inner class (tbf X:1) is plumbing, not a class anyone classifies into
      if (q.kind !== 'tbf') out.push({ cls, owner: q, depth });
      leaves(cls.leaf, depth + 1, out);
    }
  }
}

/** Traces one packet (`bytes` from the IP header on) through `side` of `model`. */
export function tracePacket(model: DeviceModel, side: QdiscTree, bytes: Uint8Array, now: number): PacketTrace {
  const arena: Arena = model.arena;
  const summary = summarize(bytes);
  const pkt = arena.allocFrom(bytes);
  if (pkt < 0) return { summary, filters: [], verdict: 'dropped (larger than an arena slot)', classid: 0 };
  const prep = preparePacket(arena, pkt);
  if (prep !== PREP_OK) {
    arena.free(pkt);
    return { summary, filters: [], verdict: `dropped (${PREP_REASON_NAMES[prep]})`, classid: 0 };
  }
  // 1. the filters, descending HTB-style, on a copy of the device's filters so that policers in the
  //    trace do not spend the tokens the real enqueue below needs
  const set = model.filters.clone();
  const chain = (parent: number, live: Classifier | null): Classifier | null => (live && parent !== 0 ? set.chainFor(parent) : live);
  const filters: string[] = [];
  const root = side.root;
  let q: Qdisc = root;
  let decided = false;
  let shot = false;
  if (q instanceof IngressQdisc) {
    const r = runFilters(chain(q.handle, q.filters), q.handle, pkt, now, filters);
    if (r === CLS_SHOT) shot = true;
    q = q.child;
  }
  for (let guard = 0; !shot && guard < 32; guard++) {
    let r = runFilters(chain(q.handle, q.filters), q.handle, pkt, now, filters);
    if (r === CLS_SHOT) {
      shot = true;
      break;
    }
    if (r === CLS_NOMATCH || !isClassful(q)) break;
    if (q === root || guard === 0) decided = true;
    // inner classes with filters of their own continue the descent
    let cls = q.getClass(r);
    while (cls && !cls.leaf && cls.filters) {
      const r2 = runFilters(chain(cls.classid, cls.filters), cls.classid, pkt, now, filters);
      if (r2 === CLS_SHOT) {
        shot = true;
        break;
      }
      if (r2 === CLS_NOMATCH) break;
      r = r2;
      cls = q.getClass(r);
    }
    if (!cls || !cls.leaf || !isClassful(cls.leaf) || shot) break;
    q = cls.leaf;
  }
  // 2. where it lands
  const ls: Leaf[] = [];
  leaves(root, 0, ls);
  const before = ls.map((l) => l.cls.leaf!.stats.qlen);
  const rootBefore = root.stats.qlen;
  const verdict = root.enqueue(pkt, now);
  let landed: Leaf | null = null;
  ls.forEach((l, i) => {
    if (l.cls.leaf!.stats.qlen > before[i] && (!landed || l.depth >= landed.depth)) landed = l;
  });
  const rootGrew = root.stats.qlen > rootBefore;
  root.reset();
  let text: string;
  let classid = 0;
  const hit = landed as Leaf | null;
  if (hit) {
    classid = hit.cls.classid;
    text = decided ? formatHandle(classid) : `default ${formatHandle(classid)}`;
  } else if (rootGrew) {
    text = isClassful(root) || root instanceof IngressQdisc ? 'direct' : `root ${root.kind} ${formatHandle(root.handle)}`;
  } else text = verdict === XMIT_DROP ? "dropped" : "dropped (nowhere)";
  if (shot && !hit && !rootGrew) text = 'dropped (police)';
  return { summary, filters, verdict: text, classid };
}
