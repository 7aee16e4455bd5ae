#!/usr/bin/env bash
# Sets up the machine and runs every test: formatting, the g++ build with all test kinds, the
# clang build with ASan+UBSan (which also proves clang 14 builds everything), and each fuzzer for
# a bounded time. Usage: scripts/test.sh  [FUZZ_SECONDS=20 JOBS=2 in the environment]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
JOBS=${JOBS:-$(nproc)}
export CTEST_OUTPUT_ON_FAILURE=1

step() { printf '\n==== %s (%ss)\n' "$*" "$SECONDS"; }

step "setup"
scripts/setup.sh

step "format check"
scripts/check-format.sh

step "g++ build"
# Optimised without debug info: -g costs a third of the compile time and CI never debugs.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" >/dev/null
ninja -C build -j "$JOBS"

step "tests (g++)"
ctest --test-dir build -j "$JOBS" --timeout 600

step "clang build with ASan+UBSan and fuzzers"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only -DCMAKE_C_FLAGS_DEBUG=-gline-tables-only \
  -DUISCSI_SANITIZE=address,undefined -DUISCSI_BUILD_FUZZERS=ON -DUISCSI_BUILD_BENCH=OFF \
  "-DUISCSI_TEST_KINDS=unit;sim;conformance;cli" >/dev/null
ninja -C build-asan -j "$JOBS"

step "tests (ASan+UBSan)"
# Interop, kernel (qemu) and package tests ran in the g++ pass and are not built here; the pure
# and in-process tests and the tools run under the sanitizers.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -j "$JOBS" --timeout 900

step "fuzzers (${FUZZ_SECONDS}s each)"
scripts/run-fuzzers.sh build-asan "$FUZZ_SECONDS"

step "all tests passed"
