/**
 * tc options of TBF (tc-tbf(8), tc/q_tbf.c): `rate`, `burst|buffer|maxburst`, `limit|latency`,
 * `mpu`, `peakrate`, `mtu|minburst`, `overhead`, `linklayer`, with iproute2's checks and the
 * derivation limit = rate·latency + burst (min with peakrate·latency + mtu).
 * Printed as `tc qdisc show` prints it on iproute2 6.1 / Linux 6.x: the burst and latency go through
 * the kernel's psched ticks (64 ns) and tc's 15.625 ticks/µs, so `burst 1540` at 220kbit reads back
 * as `1539b` — see test/fixtures/kernel/qdisc/*.txt, recorded from the real kernel.
 */
import type { Qdisc } from '../../qdisc/qdisc';
import { Tbf, type TbfOptions } from '../../qdisc/tbf';
import { LINKLAYER_ATM, LINKLAYER_ETHERNET, kernelL2t, tcCalcXmitsize, tcTick2Time, u32 } from '../../time/psched';
import { formatRate, formatSize, formatTime } from '../../time/units';
import { type QdiscKind, createAndChange, registerKind } from '../kinds';
import type { Token } from '../tokens';
import { intOf, rateOf, sizeOf, timeOf } from '../values';

export interface TbfDisplay {
  burst: number;
  mtu: number;
  /** µs; negative when the limit is below what the buckets hold */
  latency: number;
}

/**
 * What tc derives for display from what the kernel dumps (tbf_dump → tbf_print_opt): the kernel's
 * buckets in ns by its own mult/shift (kernelL2t), shifted to ticks (PSCHED_NS2TICKS), and tc's
 * tc_calc_xmitsize back to bytes.
 */
export function tbfDisplay(o: TbfOptions): TbfDisplay {
  const bufTicks = Number(kernelL2t(o.burst, o.rate, o.overhead, o.mpu, o.linklayer) >> 6n);
  const burst = tcCalcXmitsize(Math.floor(o.rate), bufTicks);
  let latency = (1e6 * o.limit) / Math.floor(o.rate) - tcTick2Time(bufTicks);
  let mtu = 0;
  if (o.peakrate > 0) {
    const mtuTicks = Number(kernelL2t(o.mtu, o.peakrate, o.overhead, o.mpu, o.linklayer) >> 6n);
    mtu = tcCalcXmitsize(Math.floor(o.peakrate), mtuTicks);
    const lat2 = (1e6 * o.limit) / Math.floor(o.peakrate) - tcTick2Time(mtuTicks);
    if (lat2 > latency) latency = lat2;
  }
  return { burst, mtu, latency };
}

export const tbfKind: QdiscKind<TbfOptions> = {
  kind: 'tbf',
  classful: true,
  parseQdisc(args, ctx) {
    let rate = 0;
    let burst = 0;
    let limit = 0;
    let latencyUs = 0;
    let mtu = 0;
    let mpu = 0;
    let peak = 0;
    let overhead = 0;
    let linklayer = LINKLAYER_ETHERNET;
    const seen = new Map<string, Token>();
    const once = (group: string, key: Token, what: string): void => {
      if (seen.has(group)) throw args.error(`tbf: duplicate "${what}" specification`, key);
      seen.set(group, key);
    };
    let anchor: Token | undefined = args.peek();
    while (!args.done()) {
      const key = args.next();
      const k = key.text.toLowerCase();
      if (k === 'limit') {
        if (seen.has('latency')) throw args.error('tbf: specifying both "latency" and "limit" is not allowed', key);
        once('limit', key, 'limit');
        limit = sizeOf(args.value(key), 'limit');
      } else if (k === 'latency' || k === 'lat') {
        if (seen.has('limit')) throw args.error('tbf: specifying both "limit" and "latency" is not allowed', key);
        once('latency', key, 'latency');
        latencyUs = Math.trunc(timeOf(args.value(key), 'latency') / 1000);
      } else if (k === 'burst' || k === 'buffer' || k === 'maxburst') {
        once('burst', key, 'buffer/burst/maxburst');
        const v = args.value(key);
        burst = sizeOf({ ...v, text: v.text.split('/')[0] }, k); // `BYTES/CELL`: the cell is obsolete
      } else if (k === 'mtu' || k === 'minburst') {
        once('mtu', key, 'mtu/minburst');
        const v = args.value(key);
        mtu = sizeOf({ ...v, text: v.text.split('/')[0] }, k);
      } else if (k === 'mpu') {
        once('mpu', key, 'mpu');
        mpu = sizeOf(args.value(key), 'mpu');
      } else if (k === 'rate') {
        once('rate', key, 'rate');
        rate = Math.floor(rateOf(args.value(key), 'rate'));
      } else if (k === 'peakrate') {
        once('peakrate', key, 'peakrate');
        peak = Math.floor(rateOf(args.value(key), 'peakrate'));
      } else if (k === 'overhead') {
        once('overhead', key, 'overhead');
        overhead = intOf(args.value(key), 'overhead', 0, 0xffff);
      } else if (k === 'linklayer') {
        const v = args.value(key);
        const t = v.text.toLowerCase();
        if (t === 'ethernet') linklayer = LINKLAYER_ETHERNET;
        else if (t === 'atm' || t === 'adsl') linklayer = LINKLAYER_ATM;
        else throw args.error(`tbf: illegal value for "linklayer": "${v.text}" (ethernet, atm or adsl)`, v);
      } else {
        throw args.error(`tbf: unknown parameter "${key.text}" (tbf takes: rate burst limit|latency [peakrate mtu] [mpu] [overhead] [linklayer])`, key);
      }
      anchor = key;
    }
    const at = anchor ?? args.last();
    const missing: string[] = [];
    if (rate === 0) missing.push('tbf: the "rate" parameter is mandatory.');
    if (!burst) missing.push('tbf: the "burst" parameter is mandatory.');
    if (peak && !mtu) missing.push('tbf: when "peakrate" is specified, "mtu" must also be specified.');
    if (!limit && !latencyUs) missing.push('tbf: either "limit" or "latency" is required.');
    if (missing.length) throw args.error(missing.join(' '), at);
    if (peak && peak <= rate) throw args.error(`sch_tbf: peakrate ${peak * 8}bit is lower than or equals to rate ${rate * 8}bit`, seen.get('peakrate'));
    if (!limit) {
      let lim = (rate * latencyUs) / 1e6 + burst;
      if (peak) {
        const lim2 = (peak * latencyUs) / 1e6 + mtu;
        if (lim2 < lim) lim = lim2;
      }
      limit = u32(lim);
    }
    const maxSize = peak ? Math.min(burst, mtu) : burst;
    if (maxSize < ctx.env.mtu) ctx.warn(`burst ${maxSize} is lower than device mtu (${ctx.env.mtu})`, seen.get('burst'));
    return { rate, burst, limit, peakrate: peak, mtu: peak ? mtu : 0, mpu, overhead, linklayer };
  },
  ...createAndChange(Tbf),
  formatQdisc(q: Qdisc, details: boolean) {
    const o = (q as Tbf).opts;
    const d = tbfDisplay(o);
    const parts = [`rate ${formatRate(o.rate)}`];
    parts.push(details ? `burst ${formatSize(d.burst)}/1 mpu ${formatSize(o.mpu)}` : `burst ${formatSize(d.burst)}`);
    if (o.peakrate) {
      parts.push(`peakrate ${formatRate(o.peakrate)}`);
      parts.push(details ? `mtu ${formatSize(d.mtu)}/1 mpu ${formatSize(o.mpu)}` : `minburst ${formatSize(d.mtu)}`);
    }
    if (d.latency >= 0) parts.push(`lat ${formatTime(d.latency * 1e3)}`);
    else parts.push(`limit ${formatSize(o.limit)}`);
    if (o.overhead) parts.push(`overhead ${o.overhead}`);
    if (o.linklayer === LINKLAYER_ATM) parts.push('linklayer atm');
    else if (details) parts.push('linklayer ethernet');
    return parts.join(' ');
  },
  qdiscJson(q: Qdisc) {
    const o = (q as Tbf).opts;
    return { rate: o.rate, burst: o.burst, limit: o.limit, ...(o.peakrate ? { peakrate: o.peakrate, mtu: o.mtu } : {}), mpu: o.mpu, overhead: o.overhead };
  },
  // One class, MAJOR:1, for grafting; it has no options of its own.
  parseClass(args) {
    if (!args.done()) throw args.error('tbf classes have no options (graft a qdisc onto MAJOR:1 instead)', args.peek());
    return {};
  },
  formatClass() {
    return '';
  },
};
registerKind(tbfKind);
