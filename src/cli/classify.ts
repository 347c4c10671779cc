/**
 * `tunqos classify -c FILE | --script FILE [--dev NAME] [--ingress] (--hex HEX... | --pcap FILE)`:
 * where would each packet go? No root, no TUN: the configuration is loaded into a private model and
 * each packet (bytes from the IP header on, as hex, or the IP packets of a pcap file: raw IP or
 * Ethernet link types) is traced through the device's egress tree (or its ingress side with --ingress).
 * One line per packet: a summary, the filters it went through, then the class as tc writes it
 * (`1:10`), `default 1:30`, `direct` (HTB's unshaped direct queue) or `dropped`.
 * Engine: src/tc/trace.ts. Exit status 1 on a configuration or input error.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { readPcap } from '../packet/pcap';
import { type CommandIo, configSource, loadOrReport } from './config-arg';
import { tracePacket } from '../tc/trace';

export interface ClassifyOptions {
  config?: string;
  script?: string;
  dev?: string;
  ingress?: boolean;
  hex?: string[];
  pcap?: string;
}

export type ClassifyIo = CommandIo;

export function hexToBytes(hex: string): Uint8Array {
  const s = hex.replace(/^0x/i, '').replace(/[\s:.-]/g, '');
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(s)) throw new Error(`invalid hex packet "${hex.slice(0, 40)}"`);
  const b = new Uint8Array(s.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return b;
}

export function runClassify(o: ClassifyOptions, io: ClassifyIo): number {
  const src = configSource('classify', o, io);
  if (!src) return 2;
  if (!o.hex?.length === !o.pcap) {
    io.err('tunqos classify: give packets with --hex HEX... or --pcap FILE\n');
    return 2;
  }
  const loaded = loadOrReport(src, io);
  if (!loaded) return 1;
  const name = o.dev ?? [...loaded.devices.keys()][0];
  const model = name !== undefined ? loaded.devices.get(name) : undefined;
  if (!model) {
    io.err(`tunqos classify: no device ${name ?? ''} in the configuration (devices: ${[...loaded.devices.keys()].join(', ') || 'none'})\n`);
    return 1;
  }
  let packets: { label: string; bytes: Uint8Array }[];
  try {
    if (o.pcap) {
      const p = readPcap(new Uint8Array(readFileSync(o.pcap)));
      packets = p.packets.map((x) => ({ label: `#${x.frame}`, bytes: x.ip }));
      if (p.skipped > 0) io.err(`${o.pcap}: ${p.skipped} frame(s) without an IP packet skipped\n`);
    } else packets = o.hex!.map((h, i) => ({ label: `#${i + 1}`, bytes: hexToBytes(h) }));
  } catch (e) {
    io.err(`tunqos classify: ${(e as Error).message}\n`);
    return 1;
  }
  const side = o.ingress ? model.ingress : model.egress;
  let now = 1e9;
  for (const p of packets) {
    const t = tracePacket(model, side, p.bytes, now);
    now += 1e6;
    const via = t.filters.length ? ` [${t.filters.join('; ')}]` : '';
    io.out(`${p.label} ${t.summary}${via} -> ${t.verdict}\n`);
  }
  return 0;
}

export function registerClassify(program: Command): void {
  program
    .command('classify')
    .summary('show which class each packet (hex or pcap) would go to under a config')
    .description('Trace packets through a configuration without root: filters met and the class chosen.')
    .option('-c, --config <file>', 'a file of tc commands')
    .option('--script <file>', 'a bash script of tc commands (tc calls recorded)')
    .option('--dev <name>', 'the device (default: the first one the configuration names)')
    .option('--ingress', 'trace through the ingress side (downloads) instead of egress')
    .option('--hex <hex...>', 'packets as hex, from the IP header on')
    .option('--pcap <file>', 'a pcap file (raw IP or Ethernet)')
    .action((o: ClassifyOptions) => {
      process.exitCode = runClassify(o, { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) });
    });
}
