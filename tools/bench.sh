#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# dpnat benchmark: install what it needs, build release into build-bench/,
# then run tools/bench.py (pcap replay through dpnat and dpdk-testpmd, the
# Linux kernel reference). Usage: tools/bench.sh [--quick] [bench.py options]
# See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/deps.sh
# dpdk-testpmd (the ceiling) ships in dpdk-dev, which deps.sh does not install.
if ! command -v dpdk-testpmd >/dev/null 2>&1; then
	echo "bench: installing dpdk-dev for dpdk-testpmd"
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y -qq dpdk-dev >/dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq dpdk-dev >/dev/null; }
fi
command -v perf >/dev/null 2>&1 || echo "bench: perf not installed (apt-get install linux-perf); no profile"
if [ ! -f build-bench/build.ninja ]; then
	meson setup build-bench --buildtype=release >/dev/null
fi
ninja -C build-bench >/dev/null
echo "bench: build-bench (release) ok"
exec /usr/bin/python3 tools/bench.py "$@"
