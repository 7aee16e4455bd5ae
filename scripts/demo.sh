#!/usr/bin/env bash
# The main job: set up, build, start uiscsi-target on a free loopback port with a RAM disk, a
# tape drive and a media changer, and run the tools against it as a short tour: discovery, a
# disk round trip, a cartridge loaded by the changer, a file written to tape and read back with
# its checksum compared, the drive's status. Finishes in well under a minute after the first
# build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build uiscsi-target uiscsi-ls uiscsi-dd uiscsi-tape-dd uiscsi-mt uiscsi-changer >/dev/null
B=build/tools
work=$(mktemp -d)
target_pid=""
cleanup() {
  [ -n "$target_pid" ] && kill "$target_pid" 2>/dev/null && wait "$target_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Starting uiscsi-target on a free loopback port: a 256 MiB RAM disk (LUN 0), a tape drive
   (LUN 1) and a media changer with 4 cartridges of 256 MiB (LUN 2)"
"$B/target/uiscsi-target" --listen 127.0.0.1:0 --ram 256M --tape 256M --changer 4 \
  --log-level warning >"$work/target.out" &
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

compare() {
  local a b
  a=$(sha256sum <"$1" | cut -d' ' -f1)
  b=$(sha256sum <"$2" | cut -d' ' -f1)
  echo "written: $a"
  echo "read:    $b"
  [ "$a" = "$b" ] || { echo "MISMATCH"; exit 1; }
  echo "identical"
}

say "Comparing checksums"
compare "$work/data.bin" "$work/back.bin"

changer="iscsi://$portal/$iqn/2"
tape="iscsi://$portal/$iqn/1"
say "uiscsi-changer -f $changer status  (the library: slots with barcodes, one empty drive)"
"$B/changer/uiscsi-changer" -f "$changer" status

say "uiscsi-changer load 1  (slot 1 into drive 0)"
"$B/changer/uiscsi-changer" -f "$changer" load 1

say "Writing 16 MiB to the tape in 256 KiB records with uiscsi-tape-dd (a filemark ends the file)"
head -c 16M /dev/urandom >"$work/tape.bin"
"$B/tape-dd/uiscsi-tape-dd" if="$work/tape.bin" of="$tape" bs=256K

say "Reading the tape file back"
"$B/tape-dd/uiscsi-tape-dd" if="$tape" of="$work/tape-back.bin" bs=256K

say "Comparing checksums"
compare "$work/tape.bin" "$work/tape-back.bin"

say "uiscsi-mt -f $tape fsf 1; status  (past the filemark: file 1, block 65)"
"$B/mt/uiscsi-mt" -f "$tape" fsf 1
"$B/mt/uiscsi-mt" -f "$tape" status

say "uiscsi-changer unload  (back into slot 1)"
"$B/changer/uiscsi-changer" -f "$changer" unload

say "Stopping the target"
kill "$target_pid"; wait "$target_pid" 2>/dev/null || true; target_pid=""
echo "done. More: doc/tools.md, doc/tape-tools.md, doc/uiscsi-changer.md, doc/uiscsi-target.md, doc/guide.md"
