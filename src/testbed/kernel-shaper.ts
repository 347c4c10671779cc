/**
 * The kernel as the reference shaper: a rendered tc script (src/testbed/script.ts) run with the
 * kernel's own `tc` inside the gateway namespace, on the gateway's egress veth `gs` (topology mode
 * 'kernel', or a 'tun' topology with its diversion switched off), and its counters read back.
 *
 * This kernel has HTB, TBF and u32 but no SFQ, RED, netem or act_police, so only those scripts can be
 * compared; the others are measured on tunqos alone, against what the configuration promises.
 */
import { lexTc } from '../tc/lexer';
import { parseQdiscText, type QdiscSample } from './tc-output';
import type { Topology } from './topology';

/** Runs every command of a (rendered) script with the kernel's tc in the gateway namespace. */
export function applyKernelScript(topo: Topology, text: string): void {
  for (const { tokens } of lexTc(text, '<script>')) topo.exec('gateway', ['tc', ...tokens.map((t) => t.text)]);
}

/** Removes the kernel's root and ingress qdiscs of a gateway device (errors ignored). */
export function clearKernelQdiscs(topo: Topology, dev: string): void {
  for (const argv of [['qdisc', 'del', 'dev', dev, 'root'], ['qdisc', 'del', 'dev', dev, 'ingress']]) {
    try {
      topo.exec('gateway', ['tc', ...argv]);
    } catch {
      /* nothing there */
    }
  }
}

/** Qdisc samples of a kernel device in the gateway. */
export function readKernelQdiscs(topo: Topology, dev: string): QdiscSample[] {
  return parseQdiscText(topo.exec('gateway', ['tc', '-s', 'qdisc', 'show', 'dev', dev]));
}
