/**
 * tc commands: the words of one command → what it asks for, checked for syntax.
 *
 * The grammar is iproute2's (tc/tc.c, tc_qdisc.c, tc_class.c, tc_filter.c):
 *   [-s] [-d] [-j] qdisc  add|change|replace|del|show|ls|list  [dev D] [root|ingress|parent P] [handle H] [KIND [OPTIONS]]
 *   [-s] [-d] [-j] class  add|change|replace|del|show|ls|list  [dev D] [root|parent P] [classid C] [KIND [OPTIONS]]
 *   [-s] [-d] [-j] filter add|change|replace|del|show|ls|list  ... (the filter language, src/tc/filter-command.ts)
 * Objects and verbs may be abbreviated as tc allows (`q`, `cl`, `f`, `a`, `del`, `ls`).
 *
 * This step only reads the common prefix. The KIND's own options are parsed later, against the state
 * the earlier commands of the same batch produce (a class's options depend on its qdisc), by
 * src/tc/apply/; that still happens before anything live changes, so applying stays atomic.
 * Not supported (rejected with a clear message): `clsact`, `stab`, `ingress_block`/`egress_block`,
 * `link`/`get` verbs. `estimator` is accepted and ignored with a warning.
 */
import { TC_H_INGRESS, TC_H_ROOT } from '../qdisc/qdisc';
import { handleOf } from './values';
import { Args, TcError, type Token, matches } from './tokens';

export type Verb = 'add' | 'change' | 'replace' | 'del' | 'show';

export interface ShowFlags {
  stats: boolean;
  details: boolean;
  json: boolean;
}

interface CommandBase {
  readonly verb: Verb;
  readonly flags: ShowFlags;
  /** the command's first word (errors about the command as a whole point here) */
  readonly anchor: Token;
  readonly dev: Token | undefined;
  /** setup warnings about the prefix (e.g. estimator ignored), with their tokens */
  readonly warnings: { message: string; at: Token }[];
}

export interface QdiscCommand extends CommandBase {
  readonly object: 'qdisc';
  /** TC_H_ROOT, TC_H_INGRESS, a classid, or undefined (none given) */
  readonly parent: number | undefined;
  readonly parentToken: Token | undefined;
  /** major:0, or undefined (none given) */
  readonly handle: number | undefined;
  readonly handleToken: Token | undefined;
  readonly kind: Token | undefined;
  /** the tokens after KIND */
  readonly options: Token[];
}

export interface ClassCommand extends CommandBase {
  readonly object: 'class';
  /** TC_H_ROOT, a qdisc handle or a classid, or undefined */
  readonly parent: number | undefined;
  readonly parentToken: Token | undefined;
  readonly classid: number | undefined;
  readonly classidToken: Token | undefined;
  readonly kind: Token | undefined;
  readonly options: Token[];
}

export interface FilterCommandWords extends CommandBase {
  readonly object: 'filter';
  /** the tokens after `filter VERB` (handed to the filter parser, which knows `dev` too) */
  readonly args: Token[];
  /** the word `filter`'s verb token (anchor for the filter parser) */
  readonly verbToken: Token;
}

export type TcCommand = QdiscCommand | ClassCommand | FilterCommandWords;

function verbOf(t: Token): Verb {
  const w = t.text.toLowerCase();
  if (matches(w, 'add')) return 'add';
  if (matches(w, 'change')) return 'change';
  if (matches(w, 'replace')) return 'replace';
  if (matches(w, 'delete', 3) || w === 'del') return 'del';
  if (matches(w, 'show') || matches(w, 'list') || w === 'ls' || w === 'lst') return 'show';
  if (w === 'link' || w === 'get') throw new TcError(`"${t.text}" is not supported by tunqos (use add, change, replace, del or show)`, t);
  throw new TcError(`unknown command "${t.text}" (expected add, change, replace, del or show)`, t);
}

/** Reads one command's words (without the leading `tc`). */
export function parseCommand(tokens: readonly Token[], anchor: Token): TcCommand {
  const args = new Args(tokens, anchor);
  const flags: ShowFlags = { stats: false, details: false, json: false };
  // global options
  while (!args.done() && args.peek()!.text.startsWith('-')) {
    const t = args.next();
    const w = t.text.replace(/^--?/, '').toLowerCase();
    if (w === 's' || matches(w, 'statistics', 2)) flags.stats = true;
    else if (w === 'd' || matches(w, 'details', 2)) flags.details = true;
    else if (w === 'j' || matches(w, 'json', 2)) flags.json = true;
    else if (w === 'p' || matches(w, 'pretty', 2)) {
      /* pretty JSON / pretty u32: accepted, no effect */
    } else throw new TcError(`unknown option "${t.text}" (tunqos accepts -s, -d, -j)`, t);
  }
  const objTok = args.peek();
  if (!objTok) throw new TcError('missing object (expected qdisc, class or filter)', anchor);
  args.next();
  const obj = objTok.text.toLowerCase();
  const verbTok = args.peek();
  const verb: Verb = verbTok ? verbOf(args.next()) : 'show';
  const start = objTok;
  if (matches(obj, 'qdisc')) return parseQdisc(args, verb, flags, start);
  if (matches(obj, 'class', 2)) return parseClass(args, verb, flags, start);
  if (matches(obj, 'filter') || matches(obj, 'chain', 2)) {
    if (matches(obj, 'chain', 2)) throw new TcError('tc chains are not supported by tunqos (use filter)', objTok);
    return { object: 'filter', verb, flags, anchor: start, dev: findDev(args.tokens), warnings: [], args: args.rest(), verbToken: verbTok ?? objTok };
  }
  if (obj === 'action' || obj === 'actions' || obj === 'monitor' || obj === 'exec') {
    throw new TcError(`"tc ${objTok.text}" is not supported by tunqos`, objTok);
  }
  throw new TcError(`unknown object "${objTok.text}" (expected qdisc, class or filter)`, objTok);
}

function findDev(tokens: readonly Token[]): Token | undefined {
  for (let i = 0; i + 1 < tokens.length; i++) if (tokens[i].text.toLowerCase() === 'dev') return tokens[i + 1];
  return undefined;
}

/**
 * What qdisc and class commands share before their KIND: `dev D`, `root`, `parent P` (one of the two)
 * and `estimator`, which is read and ignored with a warning.
 */
class CommandPrefix {
  dev: Token | undefined;
  parent: number | undefined;
  /** the word that set the parent (the value of `parent`, or `root`/`ingress` itself) */
  parentToken: Token | undefined;
  readonly warnings: { message: string; at: Token }[] = [];
  /** the error when a second `root`/`parent` comes: [message, token to blame] */
  private readonly twice: (keyword: Token, value: Token, first: Token) => [string, Token];
  /**
   * true when that error names the second parent's value (qdisc), so the value is read first; false
   * when it names only the keyword (class): then a second `parent` fails before its value is read, as
   * tc's own class parser does, whatever follows it.
   */
  private readonly twiceNamesValue: boolean;

  constructor(twice: (keyword: Token, value: Token, first: Token) => [string, Token], twiceNamesValue: boolean) {
    this.twice = twice;
    this.twiceNamesValue = twiceNamesValue;
  }

  setParent(p: number, keyword: Token, value: Token): void {
    if (this.parentToken) {
      const [message, at] = this.twice(keyword, value, this.parentToken);
      throw new TcError(message, at);
    }
    this.parent = p;
    this.parentToken = value;
  }

  /**
   * Reads the words before KIND: the shared ones here, the object's own through `own`, which returns
   * false when `t` is none of its words either. Returns that word, the KIND (undefined at the end).
   */
  readUntilKind(args: Args, own: (t: Token, w: string) => boolean): Token | undefined {
    while (!args.done()) {
      const t = args.next();
      const w = t.text.toLowerCase();
      if (!this.read(t, w, args) && !own(t, w)) return t;
    }
    return undefined;
  }

  /** reads `t` (and its value) when it is one of the shared words; false when it is not */
  private read(t: Token, w: string, args: Args): boolean {
    if (w === 'dev') {
      if (this.dev) throw new TcError('duplicate "dev"', t);
      this.dev = args.value(t);
    } else if (w === 'root') {
      this.setParent(TC_H_ROOT, t, t);
    } else if (w === 'parent') {
      if (!this.twiceNamesValue && this.parentToken) this.setParent(0, t, t); // throws "given twice"
      const v = args.value(t);
      this.setParent(handleOf(v, 'parent'), t, v);
    } else if (w === 'estimator' || w === 'est') {
      const a = args.value(t);
      args.value(a);
      this.warnings.push({ message: 'estimator ignored: tunqos keeps its own rate estimator for every qdisc and class', at: t });
    } else return false;
    return true;
  }
}

function parseQdisc(args: Args, verb: Verb, flags: ShowFlags, anchor: Token): QdiscCommand {
  const pre = new CommandPrefix((_k, v, first) => [`"${v.text}" given twice (parent already set by "${first.text}")`, v], true);
  let handle: number | undefined;
  let handleToken: Token | undefined;
  const kind = pre.readUntilKind(args, (t, w) => {
    if (w === 'handle') {
      if (handleToken) throw new TcError('duplicate "handle"', t);
      const v = args.value(t);
      handle = handleOf(v, 'handle');
      handleToken = v;
      if ((handle & 0xffff) !== 0) throw new TcError(`a qdisc handle has minor 0 (write "${v.text.split(':')[0]}:")`, v);
      return true;
    }
    if (w === 'ingress') {
      // `ingress` is both the parent and the KIND (a show goes on reading: `qdisc show dev X ingress`)
      pre.setParent(TC_H_INGRESS, t, t);
      if (handle === undefined) {
        handle = 0xffff0000;
        handleToken = t;
      } else if (handle !== 0xffff0000) throw new TcError('the ingress qdisc\'s handle is ffff:', handleToken ?? t);
      return verb === 'show';
    }
    if (w === 'clsact') {
      throw new TcError('clsact is not supported by tunqos: use "tc qdisc add dev X handle ffff: ingress" for the download direction', t);
    }
    if (w === 'stab' || w === 'ingress_block' || w === 'egress_block') throw new TcError(`"${t.text}" is not supported by tunqos`, t);
    if (w === 'help') throw new TcError('usage: tc qdisc add|change|replace|del|show dev DEV [root|parent X:Y|ingress] [handle X:] KIND [OPTIONS]', t);
    return verb === 'show' && w === 'invisible'; // tunqos has no invisible qdiscs
  });
  const { dev, parent, parentToken, warnings } = pre;
  const options = args.rest();
  if (verb === 'show') {
    if (options.length > 0) throw new TcError(`unexpected "${options[0].text}" in qdisc show`, options[0]);
    return { object: 'qdisc', verb, flags, anchor, dev, parent, parentToken, handle, handleToken, kind: undefined, options, warnings };
  }
  if (!dev) throw new TcError('"dev" is required (e.g. dev tq0)', anchor);
  if ((verb === 'add' || verb === 'replace') && !kind) throw new TcError('missing qdisc kind (e.g. htb, sfq, pfifo)', args.last() ?? anchor);
  if ((verb === 'add' || verb === 'replace') && parent === undefined) {
    throw new TcError('a qdisc needs "root", "parent X:Y" or "ingress"', kind ?? anchor);
  }
  if (parent === undefined && handle === undefined) {
    throw new TcError('say which qdisc: "root", "parent X:Y", "ingress" or "handle X:"', kind ?? anchor);
  }
  return { object: 'qdisc', verb, flags, anchor, dev, parent, parentToken, handle, handleToken, kind, options, warnings };
}

function parseClass(args: Args, verb: Verb, flags: ShowFlags, anchor: Token): ClassCommand {
  const pre = new CommandPrefix((k) => ['parent given twice', k], false);
  let classid: number | undefined;
  let classidToken: Token | undefined;
  const kind = pre.readUntilKind(args, (t, w) => {
    if (w !== 'classid' && w !== 'handle') return false;
    if (classidToken) throw new TcError('duplicate "classid"', t);
    const v = args.value(t);
    classid = handleOf(v, 'classid');
    classidToken = v;
    return true;
  });
  const { dev, parent, parentToken, warnings } = pre;
  const options = args.rest();
  if (verb === 'show') {
    if (kind) throw new TcError(`unexpected "${kind.text}" in class show`, kind);
    return { object: 'class', verb, flags, anchor, dev, parent, parentToken, classid, classidToken, kind: undefined, options, warnings };
  }
  if (!dev) throw new TcError('"dev" is required (e.g. dev tq0)', anchor);
  if (classid === undefined) throw new TcError('"classid X:Y" is required', kind ?? anchor);
  if ((verb === 'add' || verb === 'replace') && parent === undefined) throw new TcError('a class needs "parent X:Y" (or "root")', classidToken ?? anchor);
  if (verb !== 'del' && !kind) throw new TcError('missing class kind (the kind of its qdisc, e.g. htb)', args.last() ?? anchor);
  return { object: 'class', verb, flags, anchor, dev, parent, parentToken, classid, classidToken, kind, options, warnings };
}
