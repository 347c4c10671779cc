import { describe, expect, it } from 'vitest';
import { PacketRing } from '../../src/qdisc/ring';

/** the ring's content, oldest first, through at() */
const contents = (r: PacketRing): number[] => Array.from({ length: r.length }, (_, i) => r.at(i));

describe('PacketRing', () => {
  it('is a FIFO that refuses a push when full and answers -1 when empty', () => {
    const r = new PacketRing(3);
    expect([r.shift(), r.peek(), r.pop()]).toEqual([-1, -1, -1]);
    expect([r.push(10), r.push(11), r.push(12), r.push(13)]).toEqual([true, true, true, false]);
    expect(r.length).toBe(3);
    expect(r.peek()).toBe(10);
    expect([r.shift(), r.shift(), r.shift(), r.shift()]).toEqual([10, 11, 12, -1]);
    expect(r.length).toBe(0);
  });

  it('keeps order across the wrap-around, for shift, pop and at', () => {
    const r = new PacketRing(4);
    for (let i = 0; i < 4; i++) r.push(i);
    r.shift();
    r.shift(); // head is now at position 2
    r.push(4);
    r.push(5); // these two wrap to positions 0 and 1
    expect(contents(r)).toEqual([2, 3, 4, 5]);
    expect([r.at(-1), r.at(4)]).toEqual([-1, -1]);
    expect(r.pop()).toBe(5); // the newest, from the wrapped part
    expect(r.pop()).toBe(4);
    expect(r.pop()).toBe(3); // and back across the wrap
    expect(contents(r)).toEqual([2]);
    expect(r.push(6)).toBe(true);
    expect(contents(r)).toEqual([2, 6]);
  });

  it('long runs through the ring never lose or reorder an id', () => {
    const r = new PacketRing(5);
    const model: number[] = [];
    let next = 0;
    // a fixed pattern of pushes and shifts that visits every head position many times
    for (let step = 0; step < 1000; step++) {
      if (step % 3 !== 2 && model.length < 5) {
        expect(r.push(next)).toBe(true);
        model.push(next++);
      } else {
        expect(r.shift()).toBe(model.length ? model.shift() : -1);
      }
      expect(r.length).toBe(model.length);
      expect(r.peek()).toBe(model.length ? model[0] : -1);
    }
    expect(contents(r)).toEqual(model);
  });

  it('grow keeps the order of a wrapped ring, and never shrinks', () => {
    const r = new PacketRing(3);
    r.push(1);
    r.push(2);
    r.push(3);
    r.shift();
    r.push(4); // wrapped: [2, 3, 4], head at 1
    r.grow(6);
    expect(r.capacity).toBe(6);
    expect(contents(r)).toEqual([2, 3, 4]);
    expect([r.push(5), r.push(6), r.push(7), r.push(8)]).toEqual([true, true, true, false]);
    expect(contents(r)).toEqual([2, 3, 4, 5, 6, 7]);
    r.grow(2);
    expect(r.capacity).toBe(6);
    expect(contents(r)).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('has room for at least one id even when asked for none', () => {
    const r = new PacketRing(0);
    expect(r.capacity).toBe(1);
    expect([r.push(9), r.push(10)]).toEqual([true, false]);
  });
});
