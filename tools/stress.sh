#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Run the integration tests again and again while every CPU is also kept busy
# by a spinning process, and stop at the first failure, naming the test. The
# suite must pass on a loaded machine: its waits wait for events, not for
# wall-clock time (docs/testing.md, "Stress mode").
#
# Usage: tools/stress.sh [--runs N] [--asan] [--load N] [PYTEST ARGS...]
#   --runs N   repetitions (default 20)
#   --asan     against the ASan+UBSan build (tools/asan.sh builds it; a
#              sanitizer report fails the run too)
#   --load N   spinning processes (default: one per CPU; 0 for none)
#   PYTEST ARGS  default tests/integration; e.g. tests/integration/test_napt.py -k table
# Root (network namespaces). Exit status 0 only when every run passed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=20
asan=false
load=$(nproc)
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift ;;
	--asan) asan=true ;;
	--load) load=$2; shift ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || set -- tests/integration
if [ "$(id -u)" -ne 0 ]; then
	echo "stress: the integration tests need root (network namespaces)" >&2
	exit 1
fi

if $asan; then
	# builds build-asan; the integration-only runs below reuse it
	./tools/asan.sh --no-unit >/dev/null
else
	./tools/build.sh build debugoptimized
fi

spinners=()
stop_load() {
	local p
	for p in "${spinners[@]}"; do
		kill "$p" 2>/dev/null || true
	done
}
trap stop_load EXIT
for ((i = 0; i < load; i++)); do
	taskset -c $((i % $(nproc))) bash -c 'while :; do :; done' &
	spinners+=($!)
done
echo "stress: $runs runs of $* ($($asan && echo ASan+UBSan || echo debugoptimized)), $load spinning CPU hogs"

log=$(mktemp /tmp/dpnat-stress.XXXXXX)
for ((r = 1; r <= runs; r++)); do
	start=$SECONDS
	set +e
	if $asan; then
		./tools/asan.sh --integration --no-unit -x -rfE "$@" >"$log" 2>&1
	else
		DPNAT_BUILD="$PWD/build" /usr/bin/python3 -m pytest -x -q -rfE -p no:cacheprovider "$@" >"$log" 2>&1
	fi
	rc=$?
	set -e
	if [ $rc -ne 0 ]; then
		echo "stress: run $r/$runs FAILED after $((SECONDS - start)) s; full output in $log" >&2
		grep -E '^(FAILED|ERROR) |^E  |sanitizer report|^---- ' "$log" | head -40 >&2 || tail -40 "$log" >&2
		exit 1
	fi
	echo "stress: run $r/$runs passed in $((SECONDS - start)) s ($(grep -Eo '[0-9]+ passed' "$log" | tail -1))"
done
rm -f "$log"
echo "stress: all $runs runs passed"
