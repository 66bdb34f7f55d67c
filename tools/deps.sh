#!/bin/bash
# Install what dpnat needs to build, run and test (Debian 12). Idempotent:
# only missing packages are installed, and apt is not touched when none are.
set -euo pipefail
PKGS=(dpdk dpdk-dev libdpdk-dev meson ninja-build pkg-config gcc clang-14 libclang-rt-14-dev
      libcmocka-dev libnuma-dev libpcap-dev libedit-dev python3-scapy python3-pytest
      iproute2 iputils-ping ethtool tshark nftables pptpd pptp-linux netcat-openbsd
      prometheus debhelper lintian bash-completion rsyslog nfdump coturn keepalived)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	# tshark asks whether non-root users may capture; the default answer is fine.
	$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
