// Builds the TypeScript of src/ into dist/ (esbuild, about 0.2 s), so that `bin/tunqos.js` starts
// from JavaScript instead of transpiling ~90 files on every start. Run by `npm install` (the `prepare`
// script), by `npm run build`, by the test set-up, and by bin/tunqos.js itself when a source changed
// since the last build (see isFresh below): nobody runs stale code, nobody has to remember a step.
//
// What it writes:
//   dist/cli/main.js        the entry (src/cli/main.ts) with everything it imports statically
//   dist/chunks/*.js        one chunk per subcommand (main.ts imports them lazily) and the code they share
//   dist/build.json         { startedAt, inputs }: the files the bundle was made from, for isFresh
// Packages in node_modules stay external (pino, prom-client, commander... load from node_modules).
//
// Depth rule: every output file sits exactly two levels below the repository root, as every source
// file does (src/<layer>/<file>.ts). Code that finds the repository from its own location
// (`join(dirname(fileURLToPath(import.meta.url)), '..', '..')`: the addon in build/Release,
// configs/demo.tc, package.json, bin/tunqos.js, bench/tunloop.c) then works from src/ under tsx and
// from dist/ alike. The build checks the rule and fails if a change of options breaks it.
//
// Concurrency: several `tunqos` processes may find dist/ stale at once (a test file spawning two
// gateways after an edit). Each builds in memory and installs every file by write-to-temp + rename, the
// entry and build.json last, so a reader sees either the old or the new complete file, never half of
// one; the same sources give the same bytes, so concurrent builders agree.
import { readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
export const ENTRY = join(DIST, 'cli', 'main.js');
const STAMP = join(DIST, 'build.json');
/** Files that shape the output without being imported by it. */
const CONFIG_INPUTS = ['scripts/build.mjs', 'tsconfig.json', 'package.json'];

/**
 * True when dist/ was built after the last change of every file it was built from. Cheap (one JSON
 * read and a stat per input, ~1 ms) because bin/tunqos.js calls it on every start. A new file cannot
 * change the bundle until an input imports it, and that import changes the input's mtime.
 */
export function isFresh() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return false;
  }
  try {
    for (const f of stamp.inputs) if (statSync(join(ROOT, f)).mtimeMs > stamp.startedAt) return false;
  } catch {
    return false; // an input was removed or renamed
  }
  return true;
}

/** Builds dist/; throws (with esbuild's messages) when the sources do not compile. */
export async function build() {
  const { build: esbuild } = await import('esbuild');
  // Sources saved after this instant make the result stale (an edit during the build is not lost).
  const startedAt = Date.now();
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: ['src/cli/main.ts'],
    outbase: 'src',
    outdir: 'dist',
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const files = result.outputFiles.map((f) => ({ path: relative(ROOT, f.path), contents: f.contents }));
  for (const f of files) {
    if (f.path.split(sep).length !== 3) {
      throw new Error(`build: ${f.path} is not two levels below the repository root (see the depth rule in scripts/build.mjs)`);
    }
  }
  const inputs = [...new Set([...Object.keys(result.metafile.inputs), ...CONFIG_INPUTS])].sort();
  const entry = relative(ROOT, ENTRY);
  // the entry last but one, the stamp last: a reader never finds an entry whose chunks are missing
  files.sort((a, b) => Number(a.path === entry) - Number(b.path === entry));
  files.push({ path: relative(ROOT, STAMP), contents: Buffer.from(`${JSON.stringify({ startedAt, inputs }, null, 1)}\n`) });
  for (const f of files) install(join(ROOT, f.path), f.contents);
  removeLeftovers(new Set(files.map((f) => join(ROOT, f.path))));
  return { files: files.map((f) => f.path), ms: Date.now() - startedAt };
}

function install(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, contents);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** A temp file of a builder that is still running (its pid is in the name). */
function isLiveTemp(name) {
  const m = /\.tmp-(\d+)$/.exec(name);
  if (!m) return false;
  try {
    process.kill(Number(m[1]), 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Chunks of earlier builds (their names carry a content hash) and temp files of dead builders. */
function removeLeftovers(keep) {
  for (const dir of ['cli', 'chunks']) {
    let names;
    try {
      names = readdirSync(join(DIST, dir));
    } catch {
      continue;
    }
    for (const n of names) {
      const p = join(DIST, dir, n);
      if (!keep.has(p) && !isLiveTemp(n)) rmSync(p, { force: true });
    }
  }
}

// `node scripts/build.mjs`: build and say so in one line; esbuild's messages and exit 1 on an error.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const r = await build();
    console.log(`dist/: ${r.files.length} files in ${r.ms} ms`);
  } catch (e) {
    console.error(formatBuildError(e));
    process.exitCode = 1;
  }
}

/** esbuild's errors as `file:line:col: message` lines (what an editor can jump to). */
export function formatBuildError(e) {
  if (!Array.isArray(e?.errors) || e.errors.length === 0) return `build: ${e?.message ?? e}`;
  return e.errors
    .map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ${m.text}` : m.text))
    .join('\n');
}
