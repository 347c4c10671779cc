/**
 * Building a QdiscEnv: the defaults a TUN device has (MTU 1500, txqueuelen 1000 as tunqos sets it,
 * a scheduler that may wake up to 1 ms late), overridable for tests and simulations.
 */
import type { Arena } from '../packet/arena';
import { NS_PER_MS } from '../time/clock';
import type { QdiscEnv } from './qdisc';

export const DEFAULT_MTU = 1500;
export const DEFAULT_TXQUEUELEN = 1000;
export const DEFAULT_TIMER_SLACK = NS_PER_MS;

/**
 * `random` has no default on purpose: a test passes `seededRandom(n)` and is reproducible, the running
 * shaper passes its own source explicitly, and nothing falls back to Math.random unseen.
 */
export function createQdiscEnv(arena: Arena, random: () => number, overrides: Partial<Omit<QdiscEnv, 'arena' | 'random'>> = {}): QdiscEnv {
  return {
    arena,
    mtu: overrides.mtu ?? DEFAULT_MTU,
    txQueueLen: overrides.txQueueLen ?? DEFAULT_TXQUEUELEN,
    timerSlack: overrides.timerSlack ?? DEFAULT_TIMER_SLACK,
    warn: overrides.warn ?? (() => {}),
    random,
  };
}

/** A small seeded PRNG (mulberry32): reproducible randomness for tests and simulations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
