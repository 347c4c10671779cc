#!/usr/bin/env bash
# The whole test suite (`npm test`): system packages on first use, typecheck, the build of dist/ (tests
# spawn bin/tunqos.js, which runs it), unit tests (no root), native tests (root: namespaces, TUN,
# iperf3). Each step is the npm script of the same name (package.json), so there is one definition of
# each. Both projects run even if the first fails, then one closing line sums them up
# (scripts/sum-vitest.mjs): "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-deps.sh || exit 1
npm run --silent typecheck || { echo "typecheck failed"; exit 1; }
npm run --silent build || { echo "build failed"; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npm run --silent test:unit -- --reporter=default --reporter=json --outputFile.json="$out/unit.json"
unit=$?
if [ "$(id -u)" = 0 ]; then
  npm run --silent test:native -- --reporter=default --reporter=json --outputFile.json="$out/native.json"
  native=$?
else
  echo "native tests need root (namespaces, TUN devices): run as root to include them" >&2
  native=1
fi
node scripts/sum-vitest.mjs "$out/unit.json" "$out/native.json"
[ $unit -eq 0 ] && [ $native -eq 0 ]
