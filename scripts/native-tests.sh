#!/usr/bin/env bash
# Runs the native test project (root, /dev/net/tun, namespaces, iperf3). Refuses clearly without root.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "native tests need root (namespaces, TUN devices); run: sudo npm test" >&2
  exit 1
fi
bash "$(dirname "$0")/ensure-system-deps.sh"
exec npx vitest run --project native "$@"
