#!/usr/bin/env bash
# The main job: set up, build, and show what the tools do.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
shown=0
for tool in build/tools/*/uiscsi-*; do
  [ -x "$tool" ] || continue
  shown=1
  echo "==== $(basename "$tool") --help"
  "$tool" --help
done
[ "$shown" = 1 ] || echo "demo: the protocol core is built; no tools yet (see issues)"
