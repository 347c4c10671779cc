#!/usr/bin/env bash
# Installs what tunqos needs from Debian on first use: iperf3 (demo, native tests, benchmarks) and a C
# compiler for the benchmark's reference loop. npm packages and the addon come from `npm install`.
set -euo pipefail
missing=()
command -v iperf3 >/dev/null 2>&1 || missing+=(iperf3)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "tunqos: missing ${missing[*]}; run as root (or install them) first" >&2
  exit 1
fi
echo "tunqos: installing ${missing[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
