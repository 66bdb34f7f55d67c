#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# dpnat benchmark: install what it needs, build release into build-bench/,
# then run tools/bench.py (pcap replay through dpnat and dpdk-testpmd, Open
# vSwitch's DPDK conntrack NAT, the Linux kernel reference). Usage: tools/bench.sh [--quick] [bench.py options]
# See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# Help first: it installs and builds nothing.
for a in "$@"; do
	case "$a" in
	-h|--help)
		echo "usage: tools/bench.sh [--quick] [bench.py options]"
		echo "Installs what the benchmark needs (apt), builds build-bench/ (release), then runs tools/bench.py."
		echo
		exec /usr/bin/python3 tools/bench.py --help
		;;
	esac
done
./tools/deps.sh
# apt_need PATH PACKAGE: install PACKAGE when PATH is missing (update first if needed).
apt_need() {
	[ -x "$1" ] && return 0
	echo "bench: installing $2"
	local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null ||
		{ $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null; }
}
# dpdk-testpmd (the ceiling) ships in dpdk-dev, which deps.sh does not install.
apt_need "$(command -v dpdk-testpmd || echo /usr/bin/dpdk-testpmd)" dpdk-dev
# Open vSwitch with DPDK (the DPDK NAT users run today) for the `ovs` comparison.
# bench.py runs its own private ovsdb-server and ovs-vswitchd; the package's
# service, if the init system starts one, is neither used nor touched.
apt_need /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk openvswitch-switch-dpdk ||
	echo "bench: openvswitch-switch-dpdk could not be installed; the ovs comparison is skipped"
command -v perf >/dev/null 2>&1 || echo "bench: perf not installed (apt-get install linux-perf); no profile"
if [ ! -f build-bench/build.ninja ]; then
	meson setup build-bench --buildtype=release >/dev/null
fi
ninja -C build-bench >/dev/null
echo "bench: build-bench (release) ok"
exec /usr/bin/python3 tools/bench.py "$@"
