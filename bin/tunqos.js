#!/usr/bin/env node
// Entry point: runs the JavaScript that scripts/build.mjs bundled from src/ into dist/ (on npm install).
// If a source changed since that build, it rebuilds first (esbuild, ~0.2 s, silent), so an edit in src/
// is never run stale; the check itself is a stat per source file (~1-2 ms). When dist/ cannot be
// rebuilt (not writable, esbuild missing) it runs src/ through tsx instead, slowly, and says so on
// stderr; a compile error is printed as `file:line:col: message` and exits 1. Development tools
// (vitest, `npx tsx bench/...`) run the TypeScript directly and do not come through here.
// Stack traces point into dist/; NODE_OPTIONS=--enable-source-maps maps them back to src/.
import { pathToFileURL } from 'node:url';
import { ENTRY, build, formatBuildError, isFresh } from '../scripts/build.mjs';

let entry = pathToFileURL(ENTRY).href;
if (!isFresh()) {
  try {
    await build();
  } catch (e) {
    const compileError = Array.isArray(e?.errors) && e.errors.length > 0;
    let register;
    if (!compileError) register = await import('tsx/esm/api').then((m) => m.register, () => undefined);
    if (!register) {
      const hint = e?.code === 'ERR_MODULE_NOT_FOUND' ? ' (esbuild is missing: run npm install)' : '';
      process.stderr.write(`tunqos: the sources changed since dist/ was built, and rebuilding failed${hint}:\n${formatBuildError(e)}\n`);
      process.exit(1);
    }
    process.stderr.write(`tunqos: dist/ is older than src/ and cannot be rebuilt (${e?.message ?? e}): running src/ through tsx\n`);
    register();
    entry = new URL('../src/cli/main.ts', import.meta.url).href;
  }
}
await import(entry);
