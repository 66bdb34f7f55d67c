#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build dpnat and its tests with clang-14, AddressSanitizer (leak detection
# on) and UndefinedBehaviorSanitizer (halting on the first report), and run
# the unit tests; with --integration also the namespace integration tests
# (root), against the sanitized dpnat and dpnat-cli.
# Exit status is non-zero on any test failure or sanitizer report.
#
# Usage: tools/asan.sh [--integration] [--no-unit] [PYTEST ARGS...]
# (--no-unit: integration tests only, as tools/stress.sh --asan runs them;
# PYTEST ARGS naming tests/... replace the default tests/integration)
#
# DPDK notes (see docs/reliability.md, "Sanitizers"): the EAL runs with
# --no-huge --no-shconf (what the tests pass already); nothing else is needed
# on DPDK 22.11. DPDK's own memory (rte_malloc, mempools, rings, hashes) is
# not instrumented by the distribution's librte_*, so overflows inside it are
# invisible to ASan here: the fuzz harnesses put packet data in malloc'd
# buffers for that reason.
set -euo pipefail
cd "$(dirname "$0")/.."

integration=false
unit=true
while [ $# -gt 0 ]; do
	case "$1" in
	--integration) integration=true ;;
	--no-unit) unit=false ;;
	*) break ;;
	esac
	shift
done

dir=build-asan
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang-14 meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false \
		-Dtests=true >/dev/null
fi
# Quiet when it builds; the compiler's messages when it does not.
if ! blog=$(ninja -C "$dir" 2>&1); then
	printf '%s\n' "$blog" | grep -v '^\[' >&2 || true
	echo "asan: building $dir failed" >&2
	exit 1
fi
echo "asan: $dir built (clang-14, -fsanitize=address,undefined)"

reports="$dir/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
# libedit's el_set(EL_ADDFN) copies the function's name and help with wcsdup
# and never frees them (dpnat-cli's interactive mode: 4 objects, 368 bytes);
# dpnat itself calls no wcsdup.
echo "leak:wcsdup" >"$dir/lsan.supp"
# Reports also go to files, so a sanitizer message in a daemon's log is not missed.
export ASAN_OPTIONS="detect_leaks=1:log_path=$PWD/$reports/asan"
export LSAN_OPTIONS="suppressions=$PWD/$dir/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$PWD/$reports/ubsan"

status=0
if $unit; then
	meson test -C "$dir" --no-rebuild --suite unit --print-errorlogs --timeout-multiplier 3 || status=1
fi

if $integration; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "asan: integration tests need root (network namespaces)" >&2
		status=1
	else
		tests=(tests/integration)
		for a in "$@"; do
			case "$a" in tests/*) tests=() ;; esac
		done
		DPNAT_BUILD="$PWD/$dir" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
			"${tests[@]}" "$@" || status=1
	fi
fi

if compgen -G "$reports/*" >/dev/null; then
	echo "asan: sanitizer reports:" >&2
	for f in "$reports"/*; do
		echo "---- $f" >&2
		head -40 "$f" >&2
	done
	status=1
else
	echo "asan: no sanitizer report"
fi
exit $status
