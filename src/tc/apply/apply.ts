/**
 * Applying tc commands atomically: all of them, or none.
 *
 * How: every command is first played against a SHADOW of each device it names: a structural copy of
 * the tree (handles, kinds, classes, which qdisc hangs where) plus a clone of the device's FilterSet.
 * Playing a command on the shadow checks everything Linux checks (exclusivity of `add`, majors unique
 * per device, classes sharing their qdisc's major, leaf-only grafts, kinds that match, ...), parses the
 * kind's options against the state the earlier commands produced, and creates the NEW qdiscs (fresh
 * objects that nothing live points at yet). Any TcError aborts here, before anything live changed.
 * Only then is the list of recorded operations replayed on the live model, in command order: grafts
 * of the fresh qdiscs, kinds' change/addClass/changeClass/deleteClass, deletions. Qdiscs that leave the
 * tree are purged (their queued packets freed and counted as Purge drops) once everything succeeded.
 * Should a kind still throw during the replay (a bug: parsing is meant to validate completely), the
 * operations already done are undone in reverse order, as far as they can be, and the error reported.
 *
 * The files: shadow.ts (the shadow, attachments, the Op union), play-qdisc.ts, play-class.ts and
 * play-filter.ts (one command kind each, on the shadow), commit.ts (the replay, undo and purge).
 *
 * Semantics follow Linux's tc_modify_qdisc/tc_ctl_tclass (net/sched/sch_api.c):
 *  - `qdisc add` on an occupied parent: "Exclusivity flag on, cannot modify"; a handle already used
 *    on the device: "Exclusivity flag on, cannot override".
 *  - `qdisc replace`: creates, or changes the qdisc in place when it has the same handle/kind, or
 *    replaces it (the old tree is purged).
 *  - `qdisc change` and `class change` keep queued packets (the kinds' change/changeClass).
 *  - `qdisc del` purges and counts what the qdisc held; filters attached to it and its classes go too.
 *  - `class del` refuses a class with children, with filters attached to it, or that a filter's
 *    classid/flowid still names (Linux: "HTB class in use").
 */
import type { TcCommand } from '../command';
import type { DeviceModel } from '../device';
import type { ParseContext } from '../kinds';
import { TcError, type Token, locate } from '../tokens';
import { commit } from './commit';
import { playClass } from './play-class';
import { playFilter } from './play-filter';
import { playQdisc } from './play-qdisc';
import { Shadow } from './shadow';

/** What applyCommands works on: the devices, and how to name new ones and new qdiscs. */
export interface ApplyTarget {
  /** the device named `name`; `create` (config files) makes it when missing, else undefined */
  device(name: string, create: boolean): DeviceModel | undefined;
  /** the next automatic qdisc handle (8001:, 8002:, ... as the kernel hands them out) */
  allocHandle(): number;
  /** redirects the devices' env.warn (kinds' warnings while creating) to this sink during apply */
  setWarnSink(sink: ((message: string) => void) | null): void;
}

export interface ApplyOptions {
  /** create devices that do not exist yet (config files); live commands must name existing devices */
  createDevices: boolean;
  /**
   * scripts: a `del` of something absent is a warning, not an error (scripts start with
   * `tc qdisc del dev X root 2>/dev/null` and carry on when it fails, as bash does)
   */
  lenientDelete?: boolean;
}

export interface ApplyResult {
  /** `FILE:LINE:COL: warning: message` lines */
  warnings: string[];
  /** informational lines (e.g. what a delete purged) */
  notes: string[];
}

/**
 * Applies `commands` (show commands are not allowed here) to `target`, atomically. Throws TcError
 * (`FILE:LINE:COL: message`) and changes nothing when any command is wrong.
 */
export function applyCommands(target: ApplyTarget, commands: readonly TcCommand[], options: ApplyOptions): ApplyResult {
  const warnings: string[] = [];
  const notes: string[] = [];
  const shadows = new Map<DeviceModel, Shadow>();
  let current: Token | undefined;
  const warn = (message: string, at?: Token): void => {
    const t = at ?? current;
    warnings.push(t ? `${locate(t)}: warning: ${message}` : `warning: ${message}`);
  };
  const ctx = { warn };
  const ctxFor = (model: DeviceModel): ParseContext => ({ env: model.env, warn });

  target.setWarnSink((m) => ctx.warn(m));
  try {
    // 1. validate everything on shadows, creating the fresh qdiscs
    for (const cmd of commands) {
      current = cmd.anchor;
      if (cmd.verb === 'show') throw new TcError('show commands cannot be part of a configuration change', cmd.anchor);
      for (const w of cmd.warnings) ctx.warn(w.message, w.at);
      if (!cmd.dev) throw new TcError('"dev" is required (e.g. dev tq0)', cmd.anchor);
      const model = target.device(cmd.dev.text, options.createDevices);
      if (!model) throw new TcError(`Cannot find device "${cmd.dev.text}"`, cmd.dev);
      let sh = shadows.get(model);
      if (!sh) {
        sh = new Shadow(model);
        shadows.set(model, sh);
      }
      const pctx = ctxFor(model);
      sh.current = cmd.anchor;
      try {
        if (cmd.object === 'qdisc') playQdisc(sh, cmd, pctx, target);
        else if (cmd.object === 'class') playClass(sh, cmd, pctx);
        else playFilter(sh, cmd, pctx);
      } catch (e) {
        if (!(e instanceof TcError && cmd.verb === 'del' && options.lenientDelete)) throw e;
        ctx.warn(`ignored (as a shell script would): ${e.reason}`, cmd.anchor);
      }
    }
    current = undefined;
    // 2. replay on the live models
    for (const sh of shadows.values()) commit(sh, notes, (t) => (current = t));
  } finally {
    target.setWarnSink(null);
  }
  return { warnings, notes };
}
