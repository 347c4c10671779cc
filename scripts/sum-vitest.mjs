// The closing line of `npm test` (scripts/test.sh): sums the JSON reports of the vitest projects given
// as arguments and prints exactly one line, `tests: N passed, N failed`.
//
//   node scripts/sum-vitest.mjs unit.json native.json
//
// A report that is missing (the project did not run, or crashed before reporting) counts as one
// failure; so does a file that failed to load (a failed suite with no failed test in it).
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    failed++;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests > 0 ? r.numFailedTests : (r.numFailedTestSuites ?? 0);
}
console.log(`tests: ${passed} passed, ${failed} failed`);
