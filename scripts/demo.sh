#!/usr/bin/env bash
# The main job: set up, build, start uiscsi-target on a free loopback port with a RAM disk, and
# run the tools against it as a short tour. Finishes in well under a minute after the first build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build uiscsi-target uiscsi-ls uiscsi-dd >/dev/null
B=build/tools
work=$(mktemp -d)
target_pid=""
cleanup() {
  [ -n "$target_pid" ] && kill "$target_pid" 2>/dev/null && wait "$target_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Starting uiscsi-target on a free loopback port with a 256 MiB RAM disk"
"$B/target/uiscsi-target" --listen 127.0.0.1:0 --ram 256M --log-level warning >"$work/target.out" &
target_pid=$!
for _ in $(seq 1 50); do grep -q '^portal ' "$work/target.out" 2>/dev/null && break; sleep 0.1; done
iqn=$(head -1 "$work/target.out")
portal=$(sed -n 's/^portal //p' "$work/target.out" | head -1)
echo "target $iqn at $portal"

say "uiscsi-ls iscsi://$portal  (discovery, login, REPORT LUNS, INQUIRY, READ CAPACITY)"
"$B/ls/uiscsi-ls" "iscsi://$portal"

say "Writing 32 MiB of random data to LUN 0 with uiscsi-dd"
head -c 32M /dev/urandom >"$work/data.bin"
"$B/dd/uiscsi-dd" if="$work/data.bin" of="iscsi://$portal/$iqn/0" bs=1M conv=fsync

say "Reading it back"
"$B/dd/uiscsi-dd" if="iscsi://$portal/$iqn/0" of="$work/back.bin" bs=1M count=32

say "Comparing checksums"
a=$(sha256sum <"$work/data.bin" | cut -d' ' -f1)
b=$(sha256sum <"$work/back.bin" | cut -d' ' -f1)
echo "written: $a"
echo "read:    $b"
[ "$a" = "$b" ] || { echo "MISMATCH"; exit 1; }
echo "identical"

say "Stopping the target"
kill "$target_pid"; wait "$target_pid" 2>/dev/null || true; target_pid=""
echo "done. More: doc/tools.md, doc/uiscsi-target.md, doc/guide.md"
