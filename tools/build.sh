#!/bin/bash
# Configure (once) and build dpnat. Usage: tools/build.sh [BUILDDIR] [debug|release|debugoptimized]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
type=${2:-debugoptimized}
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" --buildtype="$type" >/dev/null
fi
ninja -C "$dir" >/dev/null
echo "build: $dir ($type) ok"
