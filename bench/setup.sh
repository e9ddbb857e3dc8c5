#!/bin/sh
# Installs the benchmark's tools: wrk (Debian's package) when it is missing.
set -e
if command -v wrk >/dev/null 2>&1; then exit 0; fi
echo "bench: installing wrk (apt-get)" >&2
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
$SUDO apt-get install -y -q wrk >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q wrk >/dev/null; }
command -v wrk >/dev/null
