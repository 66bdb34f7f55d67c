#!/bin/bash
# Install, build, and run dpnat on its embedded default: the KB's PPTP lab in
# network namespaces (two clients behind dpnat, one PPTP server), then show the
# ScreenOS views and hand over a dpnat-cli prompt. Everything is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/deps.sh
./tools/build.sh build debugoptimized
exec /usr/bin/python3 tools/demo.py "$@"
