/**
 * The dependency rule, enforced: every import of every .ts file under src/, bench/, native-tests/ and
 * test/ (static `import ... from`, `export ... from`, side-effect `import '...'`, dynamic `import('...')`,
 * type-only imports too: a type is a dependency on a concept) is an edge between two layers, and the
 * edge must be allowed by RULE below. A layer is a folder under src/ (packet, time, classify, ...);
 * bench/, native-tests/ and test/ are layers of their own.
 *
 * Imports are read from TypeScript's own syntax tree (ts.createSourceFile), so an import inside a
 * comment or a string is not one. Only relative specifiers are edges; packages (`node:fs`, pino) are
 * not part of this rule.
 *
 * When this test fails, it names every offending import: file, line, the edge and the rule it breaks.
 * Either the import is wrong (move the code to the layer it belongs to), or the rule is, and then the
 * change belongs in RULE with its reason, where the next reader will find it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');

/** The layers of src/, bottom first, as ARCHITECTURE.md lists them. */
const SRC_LAYERS = ['packet', 'time', 'classify', 'qdisc', 'link', 'forwarder', 'tc', 'control', 'runtime', 'testbed', 'demo', 'cli'] as const;
type SrcLayer = (typeof SRC_LAYERS)[number];
type Layer = SrcLayer | 'bench' | 'native-tests' | 'test';

const ANY_SRC: readonly Layer[] = SRC_LAYERS;

/**
 * THE RULE: what each layer may import besides itself, and why. Read it top to bottom: packet and time
 * are the floor, each layer above names what it stands on.
 */
export const RULE: Record<Layer, { may: readonly Layer[]; why: string }> = {
  packet: { may: [], why: 'the arena and the wire formats: everything reads packets, packets read nothing' },
  time: { may: [], why: 'Nanos, clocks, tc units and the WakeupTimer contract: shared types with no dependencies' },
  classify: { may: ['packet', 'time'], why: 'filters read packets; police charges a packet its transmission time (l2t, time/units)' },
  qdisc: { may: ['packet', 'classify', 'time'], why: 'a discipline queues packets, classifies them into its classes, and runs on passed-in time' },
  link: {
    may: ['packet', 'time'],
    why: 'links move packets of the arena; link/timerfd.ts implements the WakeupTimer contract of time/timer.ts',
  },
  forwarder: { may: ['link', 'packet', 'qdisc', 'time'], why: 'the loop that moves packets from a link through a tree to a link, on a timer' },
  tc: {
    may: ['qdisc', 'classify', 'time', 'packet'],
    why: 'the tc language builds qdiscs and filters; the trace and `tunqos classify` prepare packets (packet/)',
  },
  control: { may: ANY_SRC, why: 'the control plane (socket, metrics, stats) reads any layer' },
  runtime: { may: ANY_SRC, why: 'the composition root: it assembles links, forwarders, trees and the control plane' },
  testbed: { may: ANY_SRC, why: 'namespaces, iperf3 and tunqos as a process, for the demo, native tests and benchmarks' },
  demo: { may: ANY_SRC, why: 'the demo drives a whole gateway' },
  cli: { may: ANY_SRC, why: 'the command line: the only reader of argv, environment and signals; it starts everything' },
  bench: { may: [...ANY_SRC, 'bench'], why: 'benchmarks measure src/; they never depend on test/ (what they share with tests lives in src/)' },
  'native-tests': { may: ANY_SRC, why: 'native tests run src/ for real; they never depend on test/ (shared builders live in src/)' },
  test: { may: [...ANY_SRC, 'test', 'bench'], why: 'unit tests may test anything, benchmark helpers included' },
};

/**
 * Only link/ imports the native addon's loader: the addon (root, /dev/net/tun) is mechanism behind the
 * Link contract, and nothing else may reach past it. Exception: `import type` from it is allowed
 * anywhere, because a type loads nothing (NativeError, the errno-coded Error a link reports, is logged
 * by the runtime).
 */
const ADDON = 'src/link/native.ts';
const ADDON_USERS: readonly Layer[] = ['link'];

/** Concept names only: a module called utils, helpers or manager says nothing about what it holds. */
const VAGUE_NAME = /^(utils?|helpers?|managers?)$/i;

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  edge: string;
  rule: string;
}

/** The layer of a repository-relative path (posix separators), or undefined outside the checked trees. */
export function layerOf(path: string): Layer | { unknownSrcFolder: string } | undefined {
  const parts = path.split('/');
  if (parts[0] === 'src') {
    const folder = parts.length > 2 ? parts[1]! : '(src root)';
    return (SRC_LAYERS as readonly string[]).includes(folder) ? (folder as SrcLayer) : { unknownSrcFolder: folder };
  }
  if (parts[0] === 'bench' || parts[0] === 'native-tests' || parts[0] === 'test') return parts[0];
  return undefined;
}

/** The repository-relative file a relative specifier names: as written, or with .ts, or its index.ts. */
function resolveSpecifier(from: string, spec: string, exists: (path: string) => boolean): string {
  const base = posix.normalize(posix.join(posix.dirname(from), spec));
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) if (exists(candidate)) return candidate;
  return base.endsWith('.ts') || /\.[cm]?js$/.test(base) ? base : `${base}.ts`;
}

export interface Import {
  specifier: string;
  line: number;
  /** erased from the JavaScript: `import type`, `export type`, all names `type`, `typeof import()` */
  typeOnly: boolean;
}

/** Every import of a file: declarations, re-exports, dynamic `import()`, `require()`, `import('x')` types. */
export function importsOf(file: string, text: string): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (lit: ts.Node, typeOnly: boolean): void => {
    if (!ts.isStringLiteralLike(lit)) return;
    out.push({ specifier: lit.text, line: sf.getLineAndCharacterOfPosition(lit.getStart(sf)).line + 1, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const allTypes = c !== undefined && (c.isTypeOnly || (c.name === undefined && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, allTypes);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier, node.isTypeOnly || (named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add(node.arguments[0]!, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/**
 * Checks a set of files (repository-relative posix path → source text) against RULE, the addon rule
 * and the naming rule; returns every violation, in file and line order.
 */
export function checkImports(files: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  const exists = (p: string): boolean => files.has(p);
  for (const [file, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const from = layerOf(file);
    if (from === undefined) continue;
    const name = posix.basename(file).replace(/(\.test)?\.ts$/, '');
    const dirs = posix.dirname(file).split('/');
    if (VAGUE_NAME.test(name) || dirs.some((d) => VAGUE_NAME.test(d))) {
      out.push({ file, line: 1, specifier: '', edge: file, rule: 'no module named utils, helpers or manager: name the concept' });
    }
    if (typeof from === 'object') {
      out.push({ file, line: 1, specifier: '', edge: `src/${from.unknownSrcFolder}`, rule: `src/${from.unknownSrcFolder} is no layer of RULE: add it, with what it may import and why` });
      continue;
    }
    for (const { specifier: spec, line, typeOnly } of importsOf(file, text)) {
      if (!spec.startsWith('.')) continue;
      const target = resolveSpecifier(file, spec, exists);
      const to = layerOf(target);
      const at = { file, line, specifier: spec };
      if (target === ADDON && !ADDON_USERS.includes(from) && !typeOnly) {
        out.push({ ...at, edge: `${from} → ${ADDON}`, rule: `only ${ADDON_USERS.join(', ')} imports the native addon (${ADDON})` });
        continue;
      }
      if (to === undefined) {
        if (from !== 'bench' && from !== 'test' && from !== 'native-tests') {
          out.push({ ...at, edge: `${from} → ${target}`, rule: 'src/ imports only src/' });
        }
        continue;
      }
      if (typeof to === 'object') continue; // reported once, on the files of that folder
      if (to === from || RULE[from].may.includes(to)) continue;
      const may = RULE[from].may;
      out.push({
        ...at,
        edge: `${from} → ${to}`,
        rule: `${from} may import ${may.length === 0 ? 'nothing' : may.length === ANY_SRC.length ? 'any layer of src/' : may.join(', ')}${may.length === 0 ? '' : ' (and itself)'}: ${RULE[from].why}`,
      });
    }
  }
  return out;
}

export function formatViolations(vs: readonly Violation[]): string {
  return vs.map((v) => `${v.file}:${v.line}: ${v.specifier ? `import '${v.specifier}' is the edge ${v.edge}` : v.edge}; the rule: ${v.rule}`).join('\n');
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (rel === 'bench/out' || rel === 'test/fixtures') continue;
      out.push(...listTs(rel));
    } else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

let cached: Map<string, string> | undefined;
function repositoryFiles(): Map<string, string> {
  if (cached) return cached;
  const files = (cached = new Map<string, string>());
  for (const dir of ['src', 'bench', 'native-tests', 'test']) {
    for (const f of listTs(dir)) files.set(f, readFileSync(join(ROOT, ...f.split('/')), 'utf8'));
  }
  return files;
}

describe('the dependency rule (RULE in this file)', () => {
  it('holds for every import under src/, bench/, native-tests/ and test/', () => {
    const files = repositoryFiles();
    expect(files.size).toBeGreaterThan(100);
    const violations = checkImports(files);
    expect(violations, `\n${formatViolations(violations)}\n`).toEqual([]);
  });

  it('every folder of src/ is a layer of the rule', () => {
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(folders).toEqual([...SRC_LAYERS].sort());
  });
});

describe('the checker itself (it must be able to fail)', () => {
  const tree = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));

  it('reports a forbidden edge with file, line, edge and rule', () => {
    const vs = checkImports(
      tree({
        'src/packet/arena.ts': "// a comment: import x from '../qdisc/fifo'\nimport { Nanos } from '../time/clock';\n",
        'src/time/clock.ts': 'export type Nanos = number;\n',
        'src/qdisc/fifo.ts': "import { Arena } from '../packet/arena';\nexport * from '../cli/main';\n",
        'src/cli/main.ts': "const m = await import('../qdisc/fifo');\n",
      }),
    );
    expect(vs.map((v) => [v.file, v.line, v.edge])).toEqual([
      ['src/packet/arena.ts', 2, 'packet → time'],
      ['src/qdisc/fifo.ts', 2, 'qdisc → cli'],
    ]);
    expect(vs[0]!.rule).toMatch(/^packet may import nothing: /);
    expect(formatViolations(vs)).toContain("src/qdisc/fifo.ts:2: import '../cli/main' is the edge qdisc → cli; the rule: qdisc may import packet, classify, time (and itself)");
  });

  it('sees dynamic and type-only imports, and edges out of src/', () => {
    const vs = checkImports(
      tree({
        'src/classify/u32.ts': "import type { Qdisc } from '../qdisc/qdisc';\n",
        'src/qdisc/qdisc.ts': "export async function f() { return import('../tc/show'); }\n",
        'src/tc/show.ts': "import { x } from '../../test/support/packets';\n",
        'test/support/packets.ts': '',
        'bench/qdisc.ts': "import { x } from '../test/support/packets';\n",
        'native-tests/addon.test.ts': "import { loadNative } from '../src/link/native';\n",
        'src/link/native.ts': '',
        'src/link/tun.ts': "import { loadNative } from './native';\n",
        'src/runtime/gateway.ts': "import type { NativeError } from '../link/native';\nimport { type NativeError as E } from '../link/native';\n",
        'src/control/metrics.ts': "type T = typeof import('../link/native');\nexport { loadNative } from '../link/native';\n",
      }),
    );
    expect(vs.map((v) => `${v.file}:${v.line} ${v.edge}`)).toEqual([
      'bench/qdisc.ts:1 bench → test',
      'native-tests/addon.test.ts:1 native-tests → src/link/native.ts',
      'src/classify/u32.ts:1 classify → qdisc',
      'src/control/metrics.ts:2 control → src/link/native.ts',
      'src/qdisc/qdisc.ts:1 qdisc → tc',
      'src/tc/show.ts:1 tc → test',
    ]);
  });

  it('reports vague module names and folders the rule does not know', () => {
    const vs = checkImports(tree({ 'src/qdisc/helpers.ts': '', 'src/misc/thing.ts': '', 'test/utils/x.ts': '' }));
    expect(vs.map((v) => `${v.file} ${v.rule.split(':')[0]}`)).toEqual([
      'src/misc/thing.ts src/misc is no layer of RULE',
      'src/qdisc/helpers.ts no module named utils, helpers or manager',
      'test/utils/x.ts no module named utils, helpers or manager',
    ]);
  });

  it('passes a tree that keeps the rule', () => {
    const vs = checkImports(
      tree({
        'src/packet/arena.ts': '',
        'src/qdisc/fifo.ts': "import { Arena } from '../packet/arena';\nimport './ring';\n",
        'src/qdisc/ring.ts': '',
        'src/cli/main.ts': "import('../qdisc/fifo');\nimport { readFileSync } from 'node:fs';\n",
        'test/qdisc/fifo.test.ts': "import { Fifo } from '../../src/qdisc/fifo';\n",
      }),
    );
    expect(vs).toEqual([]);
  });
});
