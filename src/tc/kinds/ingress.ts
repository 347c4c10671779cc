/**
 * `tc qdisc add dev X handle ffff: ingress`: the tc face of the ingress qdisc (src/qdisc/ingress.ts).
 * It takes no options; `tc qdisc show` prints `qdisc ingress ffff: parent ffff:fff1 ----------------`.
 */
import { IngressQdisc } from '../../qdisc/ingress';
import { type QdiscKind, registerKind } from '../kinds';

export const ingressKind: QdiscKind<Record<string, never>> = {
  kind: 'ingress',
  classful: false,
  parseQdisc(args) {
    if (!args.done()) throw args.error(`the ingress qdisc takes no options ("${args.peek()!.text}")`);
    return {};
  },
  create(handle, _opts, env) {
    return new IngressQdisc(handle, env);
  },
  change() {
    /* nothing to change */
  },
  formatQdisc() {
    return '---------------- ';
  },
  qdiscJson() {
    return {};
  },
};

registerKind(ingressKind);
