import { describe, expect, it } from 'vitest';
import { HTB_MBUFFER, HtbClass, IdList, WaitQueue, accountCtokens, accountTokens } from '../../src/qdisc/htb-class';

const members = (l: IdList): number[] => Array.from(l.items.subarray(0, l.count));
/** the minor the pointer is on, or null past the end */
const turn = (l: IdList): number | null => (l.ptr < l.count ? l.items[l.ptr] : null);

function list(...minors: number[]): IdList {
  const l = new IdList(2);
  for (const m of minors) l.insert(m);
  return l;
}

describe('IdList', () => {
  it('keeps minors sorted whatever the insertion order, growing past its first capacity', () => {
    const l = list(30, 10, 50, 20, 40, 5);
    expect(members(l)).toEqual([5, 10, 20, 30, 40, 50]);
    expect(l.items.length).toBeGreaterThanOrEqual(6);
  });

  it('lowerBound is the first position with a minor >= the one asked (htb_id_find_next_upper)', () => {
    const l = list(10, 20, 30);
    expect([l.lowerBound(5), l.lowerBound(10), l.lowerBound(11), l.lowerBound(30), l.lowerBound(31)]).toEqual([0, 0, 1, 2, 3]);
    expect(new IdList(4).lowerBound(7)).toBe(0);
  });

  it('an insert keeps the turn on the same class, or past the end', () => {
    const l = list(10, 30);
    l.ptr = 1; // 30 has the turn
    l.insert(20); // before it
    expect(turn(l)).toBe(30);
    l.insert(40); // after it
    expect(turn(l)).toBe(30);
    l.ptr = l.count; // past the end
    l.insert(50);
    expect(l.ptr).toBe(l.count);
    l.insert(1);
    expect(l.ptr).toBe(l.count);
  });

  it('advance passes the turn in classid order and stops past the end', () => {
    const l = list(1, 2);
    // inserting into an empty list leaves the pointer past the end: htb_lookup_leaf rewinds it
    expect(l.ptr).toBe(l.count);
    l.ptr = 0;
    expect(turn(l)).toBe(1);
    l.advance();
    expect(turn(l)).toBe(2);
    l.advance();
    expect(turn(l)).toBeNull();
    l.advance();
    expect(l.ptr).toBe(l.count);
  });

  it('removeRow: removing the class whose turn it is hands the turn to the next one (rb_next)', () => {
    const l = list(10, 20, 30);
    l.ptr = 1;
    l.removeRow(20);
    expect(members(l)).toEqual([10, 30]);
    expect(turn(l)).toBe(30);
    l.removeRow(10); // before the pointer: the turn stays on 30
    expect(turn(l)).toBe(30);
    l.removeRow(30); // the last one: past the end
    expect(l.ptr).toBe(l.count);
    expect(l.count).toBe(0);
    l.removeRow(99); // absent: nothing happens
    expect(l.count).toBe(0);
  });

  it('removeFeed: removing the class with the turn forgets the pointer but remembers its minor', () => {
    const l = list(10, 20, 30);
    l.ptr = 1; // 20
    l.removeFeed(20);
    expect(members(l)).toEqual([10, 30]);
    expect(l.ptr).toBe(l.count); // Linux: ptr = NULL
    expect(l.pid).toBe(20); // last_ptr_id: the lookup resumes at lowerBound(20), i.e. at 30
    expect(l.items[l.lowerBound(l.pid)]).toBe(30);
  });

  it('removeFeed before or after the pointer keeps the turn where it was, and pid untouched', () => {
    const l = list(10, 20, 30, 40);
    l.ptr = 2; // 30
    l.removeFeed(10);
    expect(turn(l)).toBe(30);
    l.removeFeed(40);
    expect(turn(l)).toBe(30);
    expect(l.pid).toBe(0);
    l.removeFeed(77); // absent
    expect(turn(l)).toBe(30);
    expect(l.pid).toBe(0);
  });

  it('clear forgets members, pointer and pid; reserve keeps members', () => {
    const l = list(3, 1, 2);
    l.reserve(100);
    expect(l.items.length).toBeGreaterThanOrEqual(100);
    expect(members(l)).toEqual([1, 2, 3]);
    l.ptr = 1;
    l.pid = 7;
    l.clear();
    expect([l.count, l.ptr, l.pid]).toEqual([0, 0, 0]);
  });
});

function cls(minor: number, key: number): HtbClass {
  const c = new HtbClass(0x10000 | minor, 0x10000, null);
  c.pqKey = key;
  return c;
}

/** pops everything, returning the minors in pop order */
function drain(q: WaitQueue): number[] {
  const out: number[] = [];
  for (let c = q.first(); c !== null; c = q.first()) {
    out.push(c.minor);
    q.remove(c);
  }
  return out;
}

describe('WaitQueue', () => {
  it('pops in key order, and equal keys in insertion order (as the kernel rb-tree)', () => {
    const sentinel = new HtbClass(0, 0, null);
    const q = new WaitQueue(sentinel);
    q.reserve(8);
    const keys = [50, 10, 30, 10, 50, 20, 10, 40];
    keys.forEach((k, i) => q.push(cls(i + 1, k)));
    expect(q.size).toBe(8);
    // key 10: minors 2, 4, 7 in that order; key 50: 1 then 5
    expect(drain(q)).toEqual([2, 4, 7, 6, 3, 8, 1, 5]);
    expect(q.size).toBe(0);
    expect(q.first()).toBeNull();
  });

  it('removes a class from the middle, keeps the heap valid, and marks it as not queued', () => {
    const q = new WaitQueue(new HtbClass(0, 0, null));
    const cs = [70, 20, 60, 10, 50, 30, 40].map((k, i) => cls(i + 1, k));
    for (const c of cs) q.push(c);
    const mid = cs[2]; // key 60
    q.remove(mid);
    expect(mid.heapIdx).toBe(-1);
    q.remove(mid); // twice: a no-op
    expect(q.size).toBe(6);
    expect(drain(q).map((m) => cs[m - 1].pqKey)).toEqual([10, 20, 30, 40, 50, 70]);
  });

  it('a re-pushed class goes behind others with the same key', () => {
    const q = new WaitQueue(new HtbClass(0, 0, null));
    const a = cls(1, 5);
    const b = cls(2, 5);
    q.push(a);
    q.push(b);
    q.remove(a);
    q.push(a);
    expect(drain(q)).toEqual([2, 1]);
  });

  it('clear empties it and every class it held forgets its position', () => {
    const q = new WaitQueue(new HtbClass(0, 0, null));
    const cs = [3, 1, 2].map((k, i) => cls(i + 1, k));
    for (const c of cs) q.push(c);
    q.clear();
    expect(q.size).toBe(0);
    expect(cs.map((c) => c.heapIdx)).toEqual([-1, -1, -1]);
    q.push(cs[0]);
    expect(q.first()).toBe(cs[0]);
  });
});

describe('token accounting (htb_accnt_tokens / htb_accnt_ctokens)', () => {
  function bucketClass(): HtbClass {
    const c = new HtbClass(0x10001, 0x10000, null);
    c.rateNs = 1e9 / 1e6; // 1 MB/s: 1000 ns per byte
    c.ceilNs = 1e9 / 2e6;
    c.buffer = 100_000;
    c.cbuffer = 50_000;
    return c;
  }

  it('credits the time, caps the bucket at its depth, then charges the packet', () => {
    const c = bucketClass();
    c.tokens = 90_000;
    accountTokens(c, 10, 5_000); // 95 µs of credit, minus 10 µs
    expect(c.tokens).toBe(85_000);
    accountTokens(c, 10, 1e6); // far more credit than the bucket holds: full, then charged
    expect(c.tokens).toBe(100_000 - 10_000);
    c.ctokens = 0;
    accountCtokens(c, 100, 1e6); // the ceil bucket has its own depth and rate
    expect(c.ctokens).toBe(50_000 - 50_000);
    expect(c.tokens).toBe(90_000); // untouched by the ceil accounting
  });

  it('never lets the debt go below one mbuffer', () => {
    const c = bucketClass();
    c.tokens = -HTB_MBUFFER + 10;
    accountTokens(c, 1000, 0);
    expect(c.tokens).toBe(1 - HTB_MBUFFER);
    c.ctokens = -HTB_MBUFFER;
    accountCtokens(c, 1, 0);
    expect(c.ctokens).toBe(1 - HTB_MBUFFER);
  });
});
