#!/bin/bash
# Configure (once) and build dpnat. Usage: tools/build.sh [BUILDDIR] [debug|release|debugoptimized]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
type=${2:-debugoptimized}
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" --buildtype="$type" >/dev/null
fi
# Quiet when it builds; the compiler's messages when it does not.
if ! out=$(ninja -C "$dir" 2>&1); then
	printf '%s\n' "$out" | grep -v '^\[' >&2
	echo "build: $dir ($type) FAILED" >&2
	exit 1
fi
echo "build: $dir ($type) ok"
