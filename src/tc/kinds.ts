/**
 * The registry of qdisc kinds: how the tc layer creates, changes and prints each discipline without
 * knowing its parameters. Each discipline contributes one QdiscKind (src/tc/kinds/<kind>.ts) that
 * parses its own options (it knows the defaults and derivations tc makes), creates and changes live
 * instances, and renders what `tc -s -d qdisc|class show` prints for it.
 *
 * Parsing must validate completely: once every command of a config parsed, applying it must not fail
 * (that is how applying stays atomic). `create`/`change` may still throw on a bug; the tc layer then
 * restores the previous tree.
 */
import type { ClassfulQdisc, Qdisc, QdiscClass, QdiscEnv } from '../qdisc/qdisc';
import type { Args, Token } from './tokens';

export interface ParseContext {
  readonly env: QdiscEnv;
  /** a warning located at a token (printed by `check`, logged by `run`) */
  warn(message: string, at?: Token): void;
}

export interface QdiscKind<Opts = any, ClassOpts = any> {
  readonly kind: string;
  readonly classful: boolean;
  /** options after `tc qdisc add ... KIND`; consumes all of `args` or throws TcError at the bad token */
  parseQdisc(args: Args, ctx: ParseContext): Opts;
  create(handle: number, opts: Opts, env: QdiscEnv): Qdisc;
  /** `tc qdisc change`: new options on a live instance, keeping queued packets (may drop to a new limit) */
  change(q: Qdisc, opts: Opts): void;
  /** what `tc qdisc show` prints after `qdisc KIND HANDLE root|parent X `, e.g. `r2q 10 default 0x30 ...` */
  formatQdisc(q: Qdisc, details: boolean): string;
  /** extra lines of `tc -s qdisc show` after backlog (each without trailing newline), e.g. SFQ/RED xstats */
  formatQdiscXstats?(q: Qdisc): string[];
  /** JSON options for `tc -j qdisc show` */
  qdiscJson?(q: Qdisc): Record<string, unknown>;
  /** the minor unclassified traffic goes to (HTB's `default`; 0 = none, the direct queue); `check` warns on it */
  defaultClass?(q: Qdisc): number;

  // Classful kinds only.
  /** options after `tc class add ... KIND`; `existing` is set for `change` (unspecified keep their value) */
  parseClass?(args: Args, ctx: ParseContext, q: Qdisc, existing?: ClassOpts): ClassOpts;
  addClass?(q: ClassfulQdisc, classid: number, parentid: number, opts: ClassOpts): QdiscClass;
  changeClass?(q: ClassfulQdisc, classid: number, opts: ClassOpts): void;
  /** removes a class (and purges its leaf); tc refuses while it has children or filters point at it */
  deleteClass?(q: ClassfulQdisc, classid: number): void;
  /** what `tc class show` prints after `class KIND CLASSID root|parent X `, e.g. `prio 0 rate 10Mbit ceil ...` */
  formatClass?(q: ClassfulQdisc, cls: QdiscClass, details: boolean): string;
  formatClassXstats?(q: ClassfulQdisc, cls: QdiscClass): string[];
  /** the options of an existing class (for `change`, which keeps what it does not name) */
  classOptions?(q: ClassfulQdisc, cls: QdiscClass): ClassOpts;
}

/** A discipline built as `new Q(handle, env, opts)` that `change(opts)` retunes live (red, sfq, tbf, ...). */
export interface TunableQdisc<Opts> extends Qdisc {
  change(opts: Opts): void;
}

/** `create` and `change` of a kind whose discipline is a TunableQdisc: `...createAndChange(Red)` */
export function createAndChange<Opts>(
  ctor: new (handle: number, env: QdiscEnv, opts: Opts) => TunableQdisc<Opts>,
): Pick<QdiscKind<Opts>, 'create' | 'change'> {
  return {
    create: (handle, opts, env) => new ctor(handle, env, opts),
    change: (q, opts) => (q as TunableQdisc<Opts>).change(opts),
  };
}

const registry = new Map<string, QdiscKind>();

export function registerKind(k: QdiscKind): void {
  registry.set(k.kind, k);
}

export function findKind(name: string): QdiscKind | undefined {
  return registry.get(name.toLowerCase());
}

export function kindNames(): string[] {
  return [...registry.keys()].sort();
}
