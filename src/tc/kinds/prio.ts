/**
 * tc options of PRIO (tc-prio(8), tc/q_prio.c): `bands N` (2..16), `priomap P0 .. P15` (entries not
 * given keep the default 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1), with iproute2's and the kernel's checks.
 * Printed as `tc qdisc show` does: `bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1`.
 * PRIO classes (MAJOR:1 .. MAJOR:bands) exist with the qdisc and take no options; `tc class show`
 * prints nothing kind-specific for them (the leaf is printed by the tc layer).
 */
import { Prio, type PrioOptions, TCQ_MIN_PRIO_BANDS, TCQ_PRIO_BANDS, defaultPrioOptions } from '../../qdisc/prio';
import type { Qdisc } from '../../qdisc/qdisc';
import { type QdiscKind, registerKind } from '../kinds';
import type { Token } from '../tokens';
import { intOf } from '../values';

export const priomapText = (bands: number, map: ArrayLike<number>): string => `bands ${bands} priomap ${Array.from(map).join(' ')}`;

export const prioKind: QdiscKind<PrioOptions> = {
  kind: 'prio',
  classful: true,
  parseQdisc(args) {
    const opts = defaultPrioOptions();
    let pmapMode = false;
    let idx = 0;
    let bandsTok: Token | undefined;
    const elements: Token[] = [];
    while (!args.done()) {
      const t = args.next();
      const k = t.text.toLowerCase();
      if (k === 'bands' && !pmapMode) {
        bandsTok = args.value(t);
        opts.bands = intOf(bandsTok, 'bands');
      } else if (k === 'priomap') {
        if (pmapMode) throw args.error('Error: duplicate priomap', t);
        pmapMode = true;
      } else if (k === 'multiqueue') {
        throw args.error('prio: "multiqueue" is not supported (a TUN device has one queue)', t);
      } else if (!pmapMode) {
        throw args.error(`What is "${t.text}"? (prio takes: bands NUMBER priomap P1 P2 ...)`, t);
      } else {
        const band = intOf(t, 'priomap element');
        if (band >= opts.bands) throw args.error('"priomap" element is out of bands', t);
        if (idx > 15) throw args.error('"priomap" index > TC_PRIO_MAX=15', t);
        opts.priomap[idx++] = band;
        elements.push(t);
      }
    }
    if (opts.bands < TCQ_MIN_PRIO_BANDS || opts.bands > TCQ_PRIO_BANDS) {
      throw args.error(`prio: bands ${opts.bands} is out of range (${TCQ_MIN_PRIO_BANDS}..${TCQ_PRIO_BANDS})`, bandsTok);
    }
    // The kernel checks all 16 entries, the defaults included.
    for (let i = 0; i < 16; i++) {
      if (opts.priomap[i] >= opts.bands) {
        throw args.error(`prio: priomap entry ${i} (${opts.priomap[i]}) is out of bands; give a priomap for ${opts.bands} bands`, bandsTok);
      }
    }
    return opts;
  },
  create(handle, opts, env) {
    return new Prio(handle, env, opts);
  },
  change(q: Qdisc, opts) {
    (q as Prio).tune(opts);
  },
  formatQdisc(q: Qdisc) {
    const p = q as Prio;
    return priomapText(p.bands, p.priomap);
  },
  qdiscJson(q: Qdisc) {
    const p = q as Prio;
    return { bands: p.bands, priomap: Array.from(p.priomap) };
  },
  parseClass(args) {
    if (!args.done()) throw args.error('prio classes have no options', args.peek());
    return {};
  },
  addClass() {
    throw new Error('prio classes are created by the qdisc (bands); they cannot be added');
  },
  formatClass() {
    return '';
  },
};

registerKind(prioKind);
