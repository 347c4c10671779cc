/**
 * The tc layer's API for the rest of tunqos: load a configuration, run live tc commands, reach the
 * trees the forwarders drive.
 *
 *   const { system, devices, warnings } = loadConfig({ file: 'configs/demo.tc' }, { arena, random: Math.random });
 *   //   or loadConfig({ script: 'configs/s32.sh' }, ...): a bash script whose `tc` calls are recorded
 *   const dev = devices.get('tq0')!;      // DeviceModel
 *   new Forwarder({ tree: dev.egress, ... })   // a QdiscTree, { root: Qdisc }: root is read on every batch
 *   new Forwarder({ tree: dev.ingress, ... })  // the download direction (its own TUN)
 *   system.execute(['-s', 'class', 'show', 'dev', 'tq0'])   // → { code, stdout, stderr } like a tc process
 *   system.execute(['class', 'change', 'dev', 'tq0', 'classid', '1:10', 'htb', 'rate', '5mbit'])
 *
 * `execute` answers a TcReply, what a tc process reports and what the control socket carries
 * (src/control/socket.ts): exit code 0 with what tc prints, or 1 with `Error: ...` on stderr (warnings
 * go to stderr with code 0). Batches reach `executeBatch` through src/control/batch.ts.
 * Every change is atomic (src/tc/apply/apply.ts); a failing command changes nothing.
 * Live commands must name devices that exist (`Cannot find device "X"`, as tc says); a config file
 * creates the devices it names. `system.addDevice(name)` creates one up front (`tunqos run --dev`).
 * Errors while loading throw TcError with `FILE:LINE:COL: message`.
 */
import { readFileSync } from 'node:fs';
import { Arena } from '../packet/arena';
import { createQdiscEnv } from '../qdisc/env';
import { type QdiscEnv, TC_H_INGRESS, TC_H_ROOT } from '../qdisc/qdisc';
import { type ApplyResult, type ApplyTarget, applyCommands } from './apply/apply';
import { type TcCommand, parseCommand } from './command';
import { DeviceModel } from './device';
import { parseFilterCommand } from './filter-command';
import { filtersJson, showFilters } from './filter-show';
import './kinds/index';
import './kinds/ingress';
import { type LexedCommand, lexTc } from './lexer';
import { type ScriptRecord, recordScript } from './script';
import { showClasses, showQdiscs } from './show';
import { Args, TcError, tokensFromArgv } from './tokens';

export { DeviceModel } from './device';

/**
 * What a tc command printed and its exit status, as a `tc` process would report them. On success
 * with warnings, `stderr` holds the warnings and `code` is 0.
 */
export interface TcReply {
  code: number;
  stdout: string;
  stderr: string;
}

/** what tc prints on stderr after a successful change: its warnings, then notes, a line each */
function warningText(r: ApplyResult): string {
  return [...r.warnings, ...r.notes].map((l) => `${l}\n`).join('');
}

function reply(code: number, stdout: string, stderr: string): TcReply {
  return { code, stdout, stderr };
}

export interface SystemOptions {
  /** the packet arena the devices' qdiscs use (default: a small one, enough for check/classify) */
  arena?: Arena;
  /** uniform in [0, 1) for every device's qdiscs (RED, SFQ keys): seeded in tests, no default */
  random: () => number;
  /** QdiscEnv overrides per device (mtu, txQueueLen, timerSlack) */
  env?: (dev: string) => Partial<Omit<QdiscEnv, 'arena' | 'warn' | 'random'>>;
  /** where kinds' warnings go outside of apply (default: ignored) */
  warn?: (message: string) => void;
}

/** All devices of one tunqos process and the tc commands that configure them. */
export class TcSystem implements ApplyTarget {
  readonly devices = new Map<string, DeviceModel>();
  readonly arena: Arena;
  private autoHandle = 0x8000;
  private warnSink: ((message: string) => void) | null = null;

  constructor(private readonly opts: SystemOptions) {
    this.arena = opts.arena ?? new Arena(1024);
  }

  addDevice(name: string): DeviceModel {
    const existing = this.devices.get(name);
    if (existing) return existing;
    const env = createQdiscEnv(this.arena, this.opts.random, {
      ...(this.opts.env?.(name) ?? {}),
      warn: (m: string) => (this.warnSink ?? this.opts.warn ?? (() => {}))(m),
    });
    const d = new DeviceModel(name, env);
    this.devices.set(name, d);
    return d;
  }

  device(name: string, create: boolean): DeviceModel | undefined {
    return this.devices.get(name) ?? (create ? this.addDevice(name) : undefined);
  }

  allocHandle(): number {
    this.autoHandle = this.autoHandle >= 0xfffe ? 0x8001 : this.autoHandle + 1;
    return (this.autoHandle << 16) >>> 0;
  }

  setWarnSink(sink: ((message: string) => void) | null): void {
    this.warnSink = sink;
  }

  /** applies already-parsed commands atomically (throws TcError, changing nothing, on any error) */
  apply(commands: readonly TcCommand[], createDevices = false, lenientDelete = false): ApplyResult {
    return applyCommands(this, commands, { createDevices, lenientDelete });
  }

  /** applies the commands of a config text atomically */
  applyText(text: string, file: string, createDevices = true): ApplyResult {
    const cmds = lexTc(text, file).map((c) => parseCommand(c.tokens, c.anchor));
    return this.apply(cmds, createDevices);
  }

  /**
   * One tc command, as `tc` would run it (argv without the leading `tc`): show commands print,
   * the others change the model atomically. Never throws. A batch from `tunqos tc -b` arrives in the
   * control socket's wire format, which control/batch.ts (executeRequest) decodes before calling
   * executeBatch: this method takes plain tc words only.
   */
  execute(argv: readonly string[]): TcReply {
    try {
      const tokens = tokensFromArgv(argv[0] === 'tc' ? argv.slice(1) : argv, 'tc');
      if (tokens.length === 0) return reply(1, '', 'Usage: tc [-s] [-d] [-j] qdisc|class|filter add|change|replace|del|show ...\n');
      const cmd = parseCommand(tokens, tokens[0]);
      if (cmd.verb === 'show') return reply(0, this.show(cmd), '');
      const r = this.apply([cmd], false);
      return reply(0, '', warningText(r));
    } catch (e) {
      const msg = e instanceof TcError ? e.reason : e instanceof Error ? e.message : String(e);
      return reply(1, '', `Error: ${msg}\n`);
    }
  }

  /**
   * A batch of located commands (`tunqos tc -b FILE`, `tunqos tc --script FILE`): applied atomically,
   * all or nothing, like a config file; an error names the file, line and column of the bad token.
   * Show commands in a batch print, after the changes are applied.
   */
  executeBatch(batch: readonly LexedCommand[]): TcReply {
    try {
      const cmds = batch.map((c) => parseCommand(c.tokens, c.anchor));
      const r = this.apply(cmds.filter((c) => c.verb !== 'show'), false);
      const shown = cmds.filter((c) => c.verb === 'show').map((c) => this.show(c));
      return reply(0, shown.join(''), warningText(r));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return reply(1, '', `Error: ${msg}\n`);
    }
  }

  /** renders a show command (throws TcError for an unknown device) */
  show(cmd: TcCommand): string {
    const devs = cmd.dev ? [this.devices.get(cmd.dev.text)] : [...this.devices.values()];
    if (cmd.dev && !devs[0]) throw new TcError(`Cannot find device "${cmd.dev.text}"`, cmd.dev);
    let out = '';
    const json: unknown[] = [];
    for (const d of devs as DeviceModel[]) {
      if (cmd.object === 'qdisc') {
        const sel =
          cmd.parent !== undefined ? { parent: cmd.parent, handle: cmd.handle } : cmd.handle !== undefined ? { handle: cmd.handle } : {};
        const s = showQdiscs(d, cmd.flags, sel);
        if (cmd.flags.json) json.push(...(JSON.parse(s) as unknown[]));
        else out += s;
      } else if (cmd.object === 'class') {
        const s = showClasses(d, cmd.flags, { parent: cmd.parent, classid: cmd.classid });
        if (cmd.flags.json) json.push(...(JSON.parse(s) as unknown[]));
        else out += s;
      } else {
        const f = parseFilterCommand('show', new Args(cmd.args, cmd.verbToken), { env: d.env, warn: () => {} });
        // no parent: every parent, each line naming its own (as tc filter show dev X prints)
        let parent: number | undefined = f.parent === TC_H_ROOT && !f.tokens.parent ? undefined : f.parent;
        if (parent === TC_H_ROOT) parent = d.egress.root.handle;
        if (parent === TC_H_INGRESS) parent = 0xffff0000;
        if (cmd.flags.json) json.push(...filtersJson(d.filters, parent));
        else out += showFilters(d.filters, parent, { stats: cmd.flags.stats, details: cmd.flags.details });
      }
    }
    return cmd.flags.json ? `${JSON.stringify(json)}\n` : out;
  }
}

export interface ConfigSource {
  /** a file of tc commands (`-c FILE`) */
  file?: string;
  /** its text, when already read (file names it in errors) */
  text?: string;
  /** a bash script whose `tc` calls are recorded (`--script FILE`) */
  script?: string;
  /** a script already recorded (so that validating and then applying runs the script once) */
  recorded?: ScriptRecord;
}

export interface LoadedConfig {
  system: TcSystem;
  devices: Map<string, DeviceModel>;
  /** `FILE:LINE:COL: warning: ...` lines, then notes */
  warnings: string[];
}

/**
 * Loads a configuration into a new TcSystem (or `opts.system`). Throws TcError (`FILE:LINE:COL:
 * message`) when anything is wrong; nothing is applied then.
 */
export function loadConfig(src: ConfigSource, opts: ({ system: TcSystem } | SystemOptions) & { devices?: string[] }): LoadedConfig {
  const system = 'system' in opts ? opts.system : new TcSystem(opts);
  for (const d of opts.devices ?? []) system.addDevice(d);
  let commands: TcCommand[];
  const extra: string[] = [];
  if (src.script || src.recorded) {
    const rec = src.recorded ?? recordScript(src.script!);
    extra.push(...rec.warnings);
    commands = [];
    for (const c of rec.calls) {
      const cmd = parseCommand(c.tokens, c.anchor);
      if (cmd.verb === 'show') continue; // a script's show commands print nothing at load time
      commands.push(cmd);
    }
  } else {
    const file = src.file ?? '<config>';
    const text = src.text ?? readFileSync(file, 'utf8');
    commands = lexTc(text, file)
      .map((c) => parseCommand(c.tokens, c.anchor))
      .filter((c) => c.verb !== 'show'); // `tc -s qdisc ls` in a config prints nothing at load time
  }
  const r = system.apply(commands, true, src.script !== undefined || src.recorded !== undefined);
  return { system, devices: system.devices, warnings: [...extra, ...r.warnings, ...r.notes] };
}
