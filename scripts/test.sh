#!/usr/bin/env bash
# The whole test suite (`npm test`): system packages on first use, typecheck, unit tests (no root),
# native tests (root: namespaces, TUN, iperf3). Both projects run even if the first fails, then one
# closing line sums them up: "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-deps.sh || exit 1
npx tsc -p tsconfig.json --noEmit || { echo "typecheck failed"; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$out/unit.json"
unit=$?
if [ "$(id -u)" = 0 ]; then
  npx vitest run --project native --reporter=default --reporter=json --outputFile.json="$out/native.json"
  native=$?
else
  echo "native tests need root (namespaces, TUN devices): run as root to include them" >&2
  native=1
fi
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) { failed++; continue; } // a project that did not even report counts as failed
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests;
    // a file that fails to load has no failed test but is a failed suite: count it as one failure
    failed += r.numFailedTests > 0 ? r.numFailedTests : (r.numFailedTestSuites ?? 0);
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
' "$out/unit.json" "$out/native.json"
[ $unit -eq 0 ] && [ $native -eq 0 ]
