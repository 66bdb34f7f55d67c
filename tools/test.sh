#!/bin/bash
# Install what is missing, build, and run every test:
#   1. unit tests (cmocka, meson test) on the normal build,
#   2. integration tests (pytest, the real dpnat between network namespaces),
#   3. a short run of each libFuzzer harness (tools/fuzz.sh, clang-14 + ASan/UBSan),
#   4. unit and integration tests again on an ASan+UBSan build (tools/asan.sh).
# Exit status is non-zero when any of them fails. DPNAT_TEST_QUICK=1 skips 3 and 4.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/deps.sh
./tools/build.sh build debugoptimized
status=0
step() { echo; echo "== test: $*"; }
step "unit tests"
meson test -C build --suite unit --print-errorlogs || status=1
if [ "$(id -u)" -ne 0 ]; then
	echo "test: integration tests need root (network namespaces)" >&2
	exit 1
fi
step "integration tests"
DPNAT_BUILD="$PWD/build" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@" || status=1
if [ "${DPNAT_TEST_QUICK:-0}" != "1" ]; then
	step "fuzz harnesses, short run"
	./tools/fuzz.sh --time 10 || status=1
	step "ASan+UBSan build: unit and integration tests"
	./tools/asan.sh --integration "$@" || status=1
fi
[ $status -eq 0 ] && echo "test: all passed" || echo "test: FAILED" >&2
exit $status
