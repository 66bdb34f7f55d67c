#!/bin/bash
# Install what is missing, build, and run every test: unit (cmocka, via meson
# test) and integration (pytest, real dpnat between network namespaces).
# Exit status is non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/deps.sh
./tools/build.sh build debugoptimized
status=0
meson test -C build --suite unit --print-errorlogs || status=1
if [ "$(id -u)" -eq 0 ]; then
	DPNAT_BUILD="$PWD/build" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@" || status=1
else
	echo "test: integration tests need root (network namespaces); skipped" >&2
	status=1
fi
exit $status
