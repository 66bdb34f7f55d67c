#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# dpnat benchmark: install what it needs, build release into build-bench/,
# then run tools/bench.py (pcap replay through dpnat and dpdk-testpmd, Open
# vSwitch's DPDK conntrack NAT, the Linux kernel reference). Usage: tools/bench.sh [--quick] [bench.py options]
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
# Open vSwitch with DPDK (the DPDK NAT users run today) for the `ovs` comparison.
# bench.py runs its own private ovsdb-server and ovs-vswitchd; the package's
# service, if the init system starts one, is neither used nor touched.
if [ ! -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ]; then
	echo "bench: installing openvswitch-switch-dpdk for the Open vSwitch comparison"
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y -qq openvswitch-switch-dpdk >/dev/null ||
		{ $SUDO apt-get update -qq && $SUDO apt-get install -y -qq openvswitch-switch-dpdk >/dev/null; } ||
		echo "bench: openvswitch-switch-dpdk could not be installed; the ovs comparison is skipped"
fi
command -v perf >/dev/null 2>&1 || echo "bench: perf not installed (apt-get install linux-perf); no profile"
if [ ! -f build-bench/build.ninja ]; then
	meson setup build-bench --buildtype=release >/dev/null
fi
ninja -C build-bench >/dev/null
echo "bench: build-bench (release) ok"
exec /usr/bin/python3 tools/bench.py "$@"
