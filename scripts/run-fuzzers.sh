#!/usr/bin/env bash
# Runs every libFuzzer binary in BUILD/fuzz for SECONDS each, starting from its seed corpus in
# fuzz/corpus/<name>. New inputs go to a scratch copy, so the checked-in corpus stays as it is.
# Usage: scripts/run-fuzzers.sh BUILD_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
seconds=${2:-20}
found=0
for bin in "$build"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  found=1
  name=$(basename "$bin")
  work=$(mktemp -d)
  if [ -d "fuzz/corpus/${name#fuzz_}" ]; then cp -r "fuzz/corpus/${name#fuzz_}/." "$work/"; fi
  echo "fuzz: $name for ${seconds}s"
  mkdir -p "$build/fuzz-artifacts"
  if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$name-" \
      "$work" > "$build/fuzz-artifacts/$name.log" 2>&1; then
    tail -50 "$build/fuzz-artifacts/$name.log"
    echo "fuzz: $name found a failure (artifacts in $build/fuzz-artifacts)" >&2
    rm -rf "$work"
    exit 1
  fi
  grep -E 'stat::number_of_executed_units|cov:' "$build/fuzz-artifacts/$name.log" | tail -2 | sed 's/^/  /'
  rm -rf "$work"
done
[ "$found" = 1 ] || echo "fuzz: no fuzzers built in $build"
