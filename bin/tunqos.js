#!/usr/bin/env node
// Entry point: runs the JavaScript that scripts/build.mjs bundled from src/ into dist/ (on npm install).
// If a source changed since that build, it rebuilds first (esbuild, ~0.2 s, silent), so an edit in src/
// is never run stale; the check itself is a stat per source file (~1 ms). Development tools (vitest,
// `npx tsx bench/...`) run the TypeScript directly and do not come through here.
import { pathToFileURL } from 'node:url';
import { ENTRY, build, formatBuildError, isFresh } from '../scripts/build.mjs';

if (!isFresh()) {
  try {
    await build();
  } catch (e) {
    const hint = e?.code === 'ERR_MODULE_NOT_FOUND' ? ' (esbuild is missing: run npm install)' : '';
    process.stderr.write(`tunqos: the sources changed since dist/ was built, and rebuilding failed${hint}:\n${formatBuildError(e)}\n`);
    process.exit(1);
  }
}
await import(pathToFileURL(ENTRY).href);
