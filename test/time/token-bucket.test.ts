import { describe, expect, it } from 'vitest';
import { LINKLAYER_ATM, LINKLAYER_ETHERNET, pschedL2t, pschedNsPerByte } from '../../src/time/psched';
import { TokenBucket } from '../../src/time/token-bucket';

/** a bucket of `burst` bytes at `rate` B/s, optionally with a peak bucket of `mtu` bytes at `peak` B/s */
function bucket(rate: number, burst: number, peak = 0, mtu = 0, overhead = 0, mpu = 0, linklayer = LINKLAYER_ETHERNET): TokenBucket {
  const b = new TokenBucket();
  const ns = pschedNsPerByte(rate);
  const pns = peak > 0 ? pschedNsPerByte(peak) : 0;
  b.configure(pschedL2t(burst, ns, overhead, mpu, linklayer), peak > 0 ? pschedL2t(mtu, pns, overhead, mpu, linklayer) : 0, ns, pns, overhead, mpu, linklayer);
  return b;
}

describe('TokenBucket', () => {
  it('lets the burst through at once, then one packet per transmission time', () => {
    // 1 Mbit = 125000 B/s: 8 µs per byte, 8 ms per 1000-byte packet; burst 10000 B = 80 ms of credit.
    const b = bucket(125_000, 10_000);
    expect(b.depth).toBe(80e6);
    for (let i = 0; i < 10; i++) {
      expect(b.charge(1000, 0)).toBe(0);
      b.commit(0);
    }
    expect(b.tokens).toBe(0);
    expect(b.charge(1000, 0)).toBe(8e6); // the 11th waits 8 ms
    expect(b.charge(1000, 3e6)).toBe(5e6);
    expect(b.charge(1000, 8e6)).toBe(0);
  });

  it('charge looks without touching the bucket; commit keeps what charge computed', () => {
    const b = bucket(125_000, 10_000);
    expect(b.charge(1000, 0)).toBe(0);
    expect(b.charge(1000, 0)).toBe(0);
    expect(b.tokens).toBe(80e6);
    expect(b.nextTokens).toBe(72e6);
    b.commit(5);
    expect(b.tokens).toBe(72e6);
    expect(b.tC).toBe(5);
  });

  it('credit never exceeds the depth, however long the bucket was idle', () => {
    const b = bucket(125_000, 10_000);
    b.charge(10_000, 0);
    b.commit(0);
    expect(b.tokens).toBe(0);
    expect(b.charge(1000, 1e12)).toBe(0);
    expect(b.nextTokens).toBe(72e6);
  });

  it('with a peak rate the emptier bucket decides the wait', () => {
    // peak 1e6 B/s (1 µs per byte), mtu 1500: the peak bucket holds 1.5 ms.
    //   1st 1000 B at 0: ptoks = 1.5e6 − 1e6 = 0.5e6, toks = 80e6 − 8e6 → sent
    //   2nd 1000 B at 0: ptoks = 0.5e6 − 1e6 = −0.5e6, toks = 64e6    → waits 0.5 ms
    const b = bucket(125_000, 10_000, 1_000_000, 1500);
    expect(b.charge(1000, 0)).toBe(0);
    b.commit(0);
    expect(b.ptokens).toBe(0.5e6);
    expect(b.charge(1000, 0)).toBe(0.5e6);
    expect(b.charge(1000, 0.5e6)).toBe(0);
  });

  it('charges the adjusted length: overhead, mpu and atm cells', () => {
    // 1000 B/s = 1 ms per byte; 97 B + 3 overhead = 100 B → 3 cells = 159 B = 159 ms
    const b = bucket(1000, 1000, 0, 0, 3, 0, LINKLAYER_ATM);
    expect(b.charge(97, 0)).toBe(0);
    expect(b.nextTokens).toBe(b.depth - 159e6);
    const m = bucket(1000, 1000, 0, 0, 0, 64);
    m.charge(10, 0);
    expect(m.nextTokens).toBe(m.depth - 64e6);
  });

  it('fill refills both buckets and leaves the checkpoint', () => {
    const b = bucket(125_000, 10_000, 1_000_000, 1500);
    b.charge(1500, 7);
    b.commit(7);
    b.fill();
    expect(b.tokens).toBe(b.depth);
    expect(b.ptokens).toBe(b.pdepth);
    expect(b.tC).toBe(7);
  });
});
