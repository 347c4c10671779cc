/**
 * `tunqos check -c FILE | --script FILE`: validate a configuration without root and without a TUN.
 *
 * Loads the configuration into a private model (exactly what `tunqos run` would apply), then prints,
 * per device and side, the tree (qdiscs, classes with their rates, leaf qdiscs) and the filters as
 * `tc filter show` prints them (u32 tables included), followed by warnings:
 *  - from the kinds and the filter parser (quantum clamped, ARCHITECTURE.md D3/D4 leniencies, ...);
 *  - HTB without a usable default class (default 0, missing or not a leaf): unclassified traffic
 *    goes to the unshaped direct queue (ARCHITECTURE.md D2);
 *  (a ceil below the rate, and children whose rates add up above their parent's rate, are warned
 *  about by the HTB kind itself, at the line of the class.)
 * Exit status 1 with `FILE:LINE:COL: message` when the configuration is wrong, 0 otherwise.
 */
import type { Command } from 'commander';
import { type Qdisc, type QdiscClass, isClassful, formatHandle } from '../qdisc/qdisc';
import type { DeviceModel } from '../tc/device';
import { showFilters } from '../tc/filter-show';
import { IngressQdisc } from '../qdisc/ingress';
import { type CommandIo, configSource, loadOrReport } from './config-arg';

export type CheckIo = CommandIo;

/** the structural warnings `check` adds to the kinds' and filters' own */
export function analyse(model: DeviceModel): string[] {
  const w: string[] = [];
  for (const { q } of model.allQdiscs()) {
    if (!isClassful(q) || q.handle === 0) continue;
    const classes = q.classes();
    const def = model.kindOf(q).defaultClass?.(q) ?? null;
    if (def !== null) {
      const id = (q.handle | def) >>> 0;
      const cls = def === 0 ? undefined : q.getClass(id);
      const isInner = cls && classes.some((c) => c.parentid === cls.classid);
      if (def === 0) w.push(`${model.name}: htb ${formatHandle(q.handle)} has no default class: unclassified traffic bypasses shaping (direct queue)`);
      else if (!cls) w.push(`${model.name}: htb ${formatHandle(q.handle)} default ${def.toString(16)} names no class (${formatHandle(id)}): unclassified traffic bypasses shaping (direct queue)`);
      else if (isInner) w.push(`${model.name}: htb ${formatHandle(q.handle)} default ${formatHandle(id)} is an inner class: unclassified traffic bypasses shaping (direct queue)`);
    }
  }
  return w;
}

/** the tree of one device, indented */
export function renderTree(model: DeviceModel): string {
  const lines: string[] = [];
  const qline = (q: Qdisc, depth: number): void => {
    const k = model.kindOf(q);
    const handle = q.handle === 0 ? '(default)' : formatHandle(q.handle);
    const opts = k.formatQdisc(q, true).trim();
    lines.push(`${'  '.repeat(depth)}qdisc ${k.kind} ${handle}${opts ? ` ${opts}` : ''}`);
    if (q instanceof IngressQdisc) {
      if (!q.childIsDefault) qline(q.child, depth + 1);
      else lines.push(`${'  '.repeat(depth + 1)}(pass-through, unshaped)`);
      return;
    }
    if (!isClassful(q)) return;
    const classes = model.classesOf(q);
    const cline = (c: QdiscClass, d: number): void => {
      const text = k.formatClass ? k.formatClass(q, c, true).trim() : '';
      lines.push(`${'  '.repeat(d)}class ${formatHandle(c.classid)}${text ? ` ${text}` : ''}`);
      for (const child of classes.filter((x) => x.parentid === c.classid)) cline(child, d + 1);
      if (c.leaf && c.leaf.handle !== 0) qline(c.leaf, d + 1);
    };
    for (const c of classes.filter((x) => x.parentid === q.handle || !classes.some((p) => p.classid === x.parentid))) cline(c, depth + 1);
  };
  lines.push(`dev ${model.name} egress:`);
  qline(model.egress.root, 1);
  if (model.ingressQdisc) {
    lines.push(`dev ${model.name} ingress:`);
    qline(model.ingress.root, 1);
  }
  const parents = model.filters.parents();
  if (parents.length > 0) {
    lines.push(`dev ${model.name} filters:`);
    const text = showFilters(model.filters, undefined, { stats: false, details: false });
    for (const l of text.split('\n')) if (l !== '') lines.push(`  ${l}`);
  }
  return `${lines.join('\n')}\n`;
}

export function runCheck(opts: { config?: string; script?: string }, io: CheckIo): number {
  const src = configSource('check', opts, io);
  if (!src) return 2;
  const loaded = loadOrReport(src, io);
  if (!loaded) return 1;
  for (const d of loaded.devices.values()) io.out(renderTree(d));
  const warnings = [...loaded.warnings];
  for (const d of loaded.devices.values()) warnings.push(...analyse(d).map((m) => `warning: ${m}`));
  for (const w of warnings) io.err(`${w}\n`);
  io.out(`${opts.config ?? opts.script}: OK (${loaded.devices.size} device${loaded.devices.size === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'})\n`);
  return 0;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .summary('validate a tc config or script; print the tree, the filters and warnings')
    .description('Validate a configuration (no root needed): print each device\'s qdisc/class tree and compiled filters, then warnings.')
    .option('-c, --config <file>', 'a file of tc commands')
    .option('--script <file>', 'a bash script: run with tc (and ip, iptables, ...) recorded, never executed')
    .action((o: { config?: string; script?: string }) => {
      process.exitCode = runCheck(o, { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) });
    });
}
