#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the libFuzzer harnesses (tests/fuzz) with clang-14, AddressSanitizer
# and UndefinedBehaviorSanitizer, and run each one from a copy of its seed
# corpus. Exit status is non-zero when any harness finds a crash, a leak, a
# timeout or undefined behaviour; its reproducer and log are kept in
# build-fuzz/fuzz-out/.
#
# Usage: tools/fuzz.sh [--time SECONDS | --runs N | --long] [-j JOBS] [--procs P] [--keep] [HARNESS...]
#   --time S   run each harness S seconds (default 20)
#   --runs N   run each harness N executions
#   --long     10,000,000 executions each (--runs 10000000)
#   -j JOBS    harnesses run side by side (default 1)
#   --procs P  each harness as P processes on one shared corpus (each takes
#              new inputs the others found), N/P executions each; the
#              executions reported are their sum
#   --keep     start from, and keep, the corpus of the last --keep run
#              (build-fuzz/fuzz-out/<harness>-corpus), for long campaigns
#   HARNESS    fuzz_conf fuzz_cli fuzz_pkt_nat fuzz_pptp_stream [fuzz_worker] (default: all)
# Reproduce a finding: build-fuzz/tests/fuzz/<harness> build-fuzz/fuzz-out/<harness>-crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

secs=20
runs=
jobs=1
procs=1
keep=false
sel=()
while [ $# -gt 0 ]; do
	case "$1" in
	--time) secs=$2; shift ;;
	--runs) runs=$2; shift ;;
	--long) runs=10000000 ;;
	-j) jobs=$2; shift ;;
	--procs) procs=$2; shift ;;
	--keep) keep=true ;;
	-h|--help) sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	fuzz_*) sel+=("$1") ;;
	*) echo "fuzz: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
all=(fuzz_conf fuzz_cli fuzz_pkt_nat fuzz_pptp_stream)
[ -f tests/fuzz/fuzz_worker.c ] && all+=(fuzz_worker)
[ ${#sel[@]} -gt 0 ] || sel=("${all[@]}")

dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang-14 meson setup "$dir" -Dfuzz=true -Dtests=false -Db_lundef=false \
		-Db_sanitize=address,undefined \
		-Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' >/dev/null
fi
# Quiet when it builds; the compiler's messages when it does not.
if ! blog=$(ninja -C "$dir" $(printf 'tests/fuzz/%s ' "${sel[@]}") 2>&1); then
	printf '%s\n' "$blog" | grep -v '^\[' >&2 || true
	echo "fuzz: building $dir failed" >&2
	exit 1
fi
out="$dir/fuzz-out"
mkdir -p "$out"

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# Largest input each harness is given (bytes).
max_len() {
	case "$1" in
	fuzz_cli) echo 4200 ;;        # one line over CLI_LINE_MAX (4096)
	fuzz_pkt_nat) echo 2037 ;;    # 37 header bytes + a 2000-byte frame
	*) echo 4096 ;;
	esac
}

# What libFuzzer left for harness $1: reproducers of a crash, leak, timeout or OOM.
artifacts() {
	ls "$out/$1"-crash-* "$out/$1"-leak-* "$out/$1"-timeout-* "$out/$1"-oom-* 2>/dev/null || true
}

# One harness: corpus copied to a scratch directory, result line on stdout.
run_one() {
	local h=$1 work rc=0 limit log="$out/$h.log" n rate
	work=$(mktemp -d "${TMPDIR:-/tmp}/dpnat-$h.XXXXXX")
	mkdir "$work/corpus"
	if $keep && [ -d "$out/$h-corpus" ]; then
		cp -r "$out/$h-corpus/." "$work/corpus/"
	fi
	mkdir "$work/seeds"
	[ -d "tests/fuzz/corpus/$h" ] && cp -r "tests/fuzz/corpus/$h/." "$work/seeds/"
	if [ -n "$runs" ]; then limit=-runs=$(((runs + procs - 1) / procs)); else limit=-max_total_time=$secs; fi
	artifacts "$h" | xargs -r rm -f
	rm -f "$log".*
	local p pids=()
	for ((p = 0; p < procs; p++)); do
		"$dir/tests/fuzz/$h" "$limit" -max_len="$(max_len "$h")" -timeout=25 -rss_limit_mb=4096 \
			-error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$out/$h-" \
			-print_final_stats=1 "$work/corpus" "$work/seeds" >"$log.$p" 2>&1 &
		pids+=($!)
	done
	# The first to fail stops the others: one finding is enough.
	local left=("${pids[@]}") done_pid st
	while [ ${#left[@]} -gt 0 ]; do
		st=0
		wait -n -p done_pid "${left[@]}" || st=$?
		left=($(printf '%s\n' "${left[@]}" | grep -vx "$done_pid" || true))
		if [ "$st" -ne 0 ]; then
			rc=$st
			[ ${#left[@]} -gt 0 ] && kill "${left[@]}" 2>/dev/null
			wait "${left[@]}" 2>/dev/null || true
			break
		fi
	done
	n=0
	rate=0
	for ((p = 0; p < procs; p++)); do
		n=$((n + $(sed -n 's/^stat::number_of_executed_units: *//p' "$log.$p" | tail -1 | grep . || echo 0)))
		rate=$((rate + $(sed -n 's/^stat::average_exec_per_sec: *//p' "$log.$p" | tail -1 | grep . || echo 0)))
	done
	if [ "$procs" -eq 1 ]; then mv "$log.0" "$log"; else cat "$log".* >"$log"; fi
	if $keep; then
		rm -rf "$out/$h-corpus"
		mv "$work/corpus" "$out/$h-corpus"
	fi
	rm -rf "$work"
	if [ "$rc" -eq 0 ]; then
		printf 'fuzz: %-17s ok      %12s execs %8s/s\n' "$h" "${n:-?}" "${rate:-?}"
	elif [ "$rc" -eq 72 ] && [ -z "$(artifacts "$h")" ]; then
		# libFuzzer's exit status for SIGINT/SIGTERM: stopped by hand, nothing found
		printf 'fuzz: %-17s stopped %12s execs %8s/s (interrupted, nothing found)\n' \
			"$h" "${n:-?}" "${rate:-?}"
		return 1
	else
		printf 'fuzz: %-17s FAILED  %12s execs (exit %d), log %s\n' "$h" "${n:-?}" "$rc" "$log"
		artifacts "$h" | sed 's/^/fuzz:     reproducer /'
		grep -m1 -E '^(fuzz_[a-z_]+: |SUMMARY: )' "$log" | sed 's/^/fuzz:     /' || true
		return 1
	fi
}

status=0
for h in "${sel[@]}"; do
	rm -f "$out/$h.rc"
	if [ ! -x "$dir/tests/fuzz/$h" ]; then
		echo "fuzz: $h was not built" >&2
		status=1
		continue
	fi
	(rc=0; run_one "$h" || rc=$?; echo "$rc" >"$out/$h.rc") &
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
done
wait
for h in "${sel[@]}"; do
	[ "$(cat "$out/$h.rc" 2>/dev/null || echo 1)" = 0 ] || status=1
done
exit $status
