// vitest globalSetup (vitest.config.ts): tests spawn `node bin/tunqos.js` (test/cli/tc.test.ts, the
// native tests through src/testbed/tunqos-process.ts), which runs dist/. Build it once here, before any
// test file starts, instead of letting the first spawned processes rebuild it side by side (they
// could: scripts/build.mjs installs atomically, but a compile error belongs at the top of the run).
import { build, formatBuildError, isFresh } from './build.mjs';

export default async function setup() {
  if (isFresh()) return;
  try {
    await build();
  } catch (e) {
    throw new Error(`building dist/ for the tests failed:\n${formatBuildError(e)}`);
  }
}
