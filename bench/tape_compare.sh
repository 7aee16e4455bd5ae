#!/usr/bin/env bash
# bench/tape_compare.sh: sequential tape throughput through our stack and through libiscsi,
# against our target's tape LUN and tgtd's SSC tape LUN, beside iperf3 over loopback, in one
# run (bench/README.md, "Tape throughput", explains the method).
#
#   bench/tape_compare.sh --build build-tapebench              # about 4 minutes with defaults
#   bench/tape_compare.sh --build DIR --mib 256 --rounds 1     # a quick look
#
# It builds nothing: DIR must hold tools/target/uiscsi-target, bench/tape/tape_bench and
# bench/tape/libiscsi_tape_bench (ninja -C DIR uiscsi-target tape_bench libiscsi_tape_bench).
#
# What runs, ROUNDS times, in alternating order between rounds (medians reported):
#   uiscsi   -> uiscsi-target  tape_bench: write with write-behind 0 and WRITE_BEHIND, read with
#                              read-ahead 0 and READ_AHEAD
#   libiscsi -> uiscsi-target  libiscsi_tape_bench: WRITE(6) at depth 1, READ(6) at DEPTHS
#   libiscsi -> tgtd           the same
#   uiscsi   -> tgtd           tape_bench without write-behind (tgtd ignores task attributes
#                              and reorders pipelined WRITEs: peers.md, tests/interop/tgtd_tape)
#   iperf3 -c 127.0.0.1, one stream, IPERF_TIME seconds
# for each record size in RECORDS: MIB MiB of records written from BOP and a filemark, then
# read back to the filemark, every record checked. The first round also warms up (WARMUP_MIB).
#
# Both tapes are image files in WORKDIR (on disk by default, so neither target's RSS holds the
# cartridge): uiscsi-target --tape (MIB+256)M --tape-image, and a tgtimg image of the same size
# (bstype ssc). TAPE=ram gives our target an in-memory cartridge instead (its RSS then grows
# with what is written). tgtd is tuned like bench/compare.sh does it (262144-byte segments,
# MaxBurstLength 1 MiB, ImmediateData=Yes, InitialR2T=No).
#
# Settings (environment variables or the flags in brackets):
#   BUILD=build-tapebench [--build DIR]
#   MIB=1024 [--mib N]          MiB per pass (the tapes get N+256 MiB)
#   ROUNDS=3 [--rounds N]
#   RECORDS=64K,256K,1M [--records LIST]
#   READ_AHEAD=8  WRITE_BEHIND=8M  DEPTHS=1,4  WARMUP_MIB=64  IPERF_TIME=5
#   TAPE=image|ram              our target's cartridge
#   TGTD=1 [--no-tgtd]          the tgtd rows
#   GOAL=0.60                   tape read through our stack / iperf3 (issue goal)
#   WORKDIR=$TMPDIR or /tmp     where the tape images go (a temporary directory in it)
#   OUT=$BUILD/bench-results/tape-compare-DATE.md [--out FILE]   (raw rows next to it, .tsv)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-tapebench}
MIB=${MIB:-1024}
ROUNDS=${ROUNDS:-3}
RECORDS=${RECORDS:-64K,256K,1M}
READ_AHEAD=${READ_AHEAD:-8}
WRITE_BEHIND=${WRITE_BEHIND:-8M}
DEPTHS=${DEPTHS:-1,4}
WARMUP_MIB=${WARMUP_MIB:-64}
IPERF_TIME=${IPERF_TIME:-5}
TAPE=${TAPE:-image}
TGTD=${TGTD:-1}
GOAL=${GOAL:-0.60}
WORKDIR=${WORKDIR:-${TMPDIR:-/tmp}}
OUT=${OUT:-}

while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --mib) MIB=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --records) RECORDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-tgtd) TGTD=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "tape_compare.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$MIB" =~ ^[1-9][0-9]*$ && "$ROUNDS" =~ ^[1-9][0-9]*$ ]] ||
  { echo "tape_compare.sh: MIB and ROUNDS must be positive numbers" >&2; exit 2; }
case "$TAPE" in image|ram) ;; *) echo "tape_compare.sh: TAPE is image or ram" >&2; exit 2 ;; esac

TARGET=$BUILD/tools/target/uiscsi-target
OURS=$BUILD/bench/tape/tape_bench
LIBISCSI=$BUILD/bench/tape/libiscsi_tape_bench
TGTD_CTL=$ROOT/tests/interop/tgtd-ctl.sh
for b in "$TARGET" "$OURS" "$LIBISCSI"; do
  [ -x "$b" ] || { echo "tape_compare.sh: $b not built (ninja -C $BUILD uiscsi-target tape_bench libiscsi_tape_bench; libiscsi_tape_bench needs libiscsi-dev)" >&2; exit 2; }
done
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
tools=(iperf3 "$PY" ss)
[ "$TGTD" = 1 ] && tools+=(tgtd tgtadm tgtimg)
for t in "${tools[@]}"; do
  command -v "$t" >/dev/null || { echo "tape_compare.sh: $t missing (scripts/setup.sh)" >&2; exit 2; }
done

STAMP=$(date +%Y%m%d-%H%M%S)
[ -n "$OUT" ] || OUT=$BUILD/bench-results/tape-compare-$STAMP.md
mkdir -p "$(dirname "$OUT")"
RAW=${OUT%.md}.tsv
WORK=$(mktemp -d "$WORKDIR/uiscsi-tape-compare.XXXXXX")
LOG=$WORK/log
mkdir -p "$LOG"

UT_PID="" IPERF_PID="" TGTD_PORT=""
cleanup() {
  set +e
  [ -n "$TGTD_PORT" ] && "$TGTD_CTL" stop "$TGTD_PORT" "$WORK/tgtd" >/dev/null 2>&1
  [ -n "$UT_PID" ] && kill "$UT_PID" 2>/dev/null && wait "$UT_PID" 2>/dev/null
  [ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null && wait "$IPERF_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "tape_compare.sh: interrupted" >&2; exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
say() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---------------------------------------------------------------- targets
TAPE_MB=$(( MIB + 256 ))
ut_args=(--listen 127.0.0.1:0 --tape "${TAPE_MB}M" --log-level warning)
[ "$TAPE" = image ] && ut_args+=(--tape-image "$WORK/ut-tape.img")
say "starting uiscsi-target (${TAPE_MB} MiB tape, $TAPE)"
"$TARGET" "${ut_args[@]}" >"$LOG/uiscsi-target.out" 2>&1 &
UT_PID=$!
for _ in $(seq 1 100); do grep -q '^portal ' "$LOG/uiscsi-target.out" 2>/dev/null && break; sleep 0.05; done
UT_PORTAL=$(sed -n 's/^portal //p' "$LOG/uiscsi-target.out" | head -1)
UT_IQN=$(head -1 "$LOG/uiscsi-target.out")
[ -n "$UT_PORTAL" ] || { echo "tape_compare.sh: uiscsi-target did not start:" >&2; cat "$LOG/uiscsi-target.out" >&2; exit 1; }
UT_URL="iscsi://$UT_PORTAL/$UT_IQN/0"

TGTD_PID=""
if [ "$TGTD" = 1 ]; then
  say "starting tgtd (${TAPE_MB} MB tape)"
  for _ in 1 2 3 4 5; do  # tests/interop/tgtd-ctl.sh works around tgtd's quirks (peers.md)
    p=$(free_port)
    if "$TGTD_CTL" start "$p" "$WORK/tgtd" 2>>"$LOG/tgtd-start.err"; then TGTD_PORT=$p; break; fi
  done
  [ -n "$TGTD_PORT" ] || { echo "tape_compare.sh: tgtd did not come up:" >&2; cat "$LOG/tgtd-start.err" >&2; exit 1; }
  TGTD_PID=$(cat "$WORK/tgtd/tgtd.pid")
  ss -ltnp "sport = :$TGTD_PORT" | grep -q "pid=$TGTD_PID," ||
    { echo "tape_compare.sh: port $TGTD_PORT is not tgtd's (pid $TGTD_PID)" >&2; exit 1; }
  TGTD_IQN=iqn.2026-11.dev.uiscsi.bench:tgtd-tape
  "$TGTD_CTL" tape "$TGTD_PORT" "$WORK/tgtd" 1 "$TGTD_IQN" "$TAPE_MB"
  for kv in MaxRecvDataSegmentLength=262144 MaxXmitDataSegmentLength=262144 \
            FirstBurstLength=262144 MaxBurstLength=1048576 InitialR2T=No ImmediateData=Yes; do
    "$TGTD_CTL" param "$TGTD_PORT" 1 "${kv%%=*}" "${kv#*=}"
  done
  TGTD_URL="iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN/1"
fi
say "uiscsi-target on $UT_PORTAL (pid $UT_PID)${TGTD_PORT:+, tgtd on 127.0.0.1:$TGTD_PORT (pid $TGTD_PID)}"

# ---------------------------------------------------------------- runs
# $RAW: one row per pass, the programs' result lines (bench/tape/bench_common.hpp) with the
# round set by this script.
printf 'client\ttarget\top\trecord\tsetting\tround\tmib_s\trecords\tclient_rss_kib\tclient_peak_growth_kib\ttarget_rss_kib\ttarget_peak_kib\terrors\tclient_cpu\ttarget_cpu\tother_cpu\n' >"$RAW"
FAILED=0
collect() {  # ROUND NAME COMMAND...: runs one program, appends its result rows
  local round=$1 name=$2 rc=0
  shift 2
  say "  $name"
  "$@" >"$LOG/$name.$round.out" 2>"$LOG/$name.$round.err" || rc=$?
  if [ "$rc" != 0 ]; then
    FAILED=1
    say "  $name exited $rc: $(tail -2 "$LOG/$name.$round.err" | tr '\n' ' ')"
  fi
  awk -F'\t' -v OFS='\t' -v round="$round" '$1 == "result" {$7 = round; $1 = ""; sub(/^\t/, ""); print}' \
    "$LOG/$name.$round.out" >>"$RAW"
}
iperf_run() {  # ROUND
  local port mib
  port=$(free_port)
  iperf3 -s -1 -B 127.0.0.1 -p "$port" >"$LOG/iperf-server.log" 2>&1 &
  IPERF_PID=$!
  for _ in $(seq 1 100); do ss -ltn "sport = :$port" | grep -q LISTEN && break; sleep 0.05; done
  say "  iperf3"
  if timeout $(( IPERF_TIME + 30 )) iperf3 -c 127.0.0.1 -p "$port" -t "$IPERF_TIME" -J >"$LOG/iperf.$1.json" 2>&1; then
    mib=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))["end"]["sum_received"]; print("%.1f" % (d["bytes"] / d["seconds"] / 2**20))' "$LOG/iperf.$1.json")
    printf 'iperf3\tloopback\tstream\t-\t1\t%s\t%s\t0\t-1\t-1\t-1\t-1\t0\t-1\t-1\t-1\n' "$1" "$mib" >>"$RAW"
  else
    FAILED=1; say "  iperf3 failed"
  fi
  wait "$IPERF_PID" 2>/dev/null || true
  IPERF_PID=""
}

START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
SECONDS=0
common=(--records "$RECORDS" --mib "$MIB" --rounds 1)
for round in $(seq 1 "$ROUNDS"); do
  say "round $round/$ROUNDS"
  warm=(--warmup-mib 0)
  [ "$round" = 1 ] && warm=(--warmup-mib "$WARMUP_MIB")
  jobs=(iperf ours-ut libiscsi-ut)
  [ "$TGTD" = 1 ] && jobs+=(libiscsi-tgtd ours-tgtd)
  if (( round % 2 == 0 )); then  # alternate the order so drift favours no one
    for (( i=0, j=${#jobs[@]}-1; i<j; i++, j-- )); do t=${jobs[i]}; jobs[i]=${jobs[j]}; jobs[j]=$t; done
  fi
  for job in "${jobs[@]}"; do
    case "$job" in
      iperf) iperf_run "$round" ;;
      ours-ut) collect "$round" "$job" "$OURS" "$UT_URL" "${common[@]}" "${warm[@]}" \
                 --read-ahead "0,$READ_AHEAD" --write-behind "0,$WRITE_BEHIND" \
                 --target-pid "$UT_PID" --client uiscsi --target uiscsi-target ;;
      libiscsi-ut) collect "$round" "$job" "$LIBISCSI" "$UT_URL" "${common[@]}" "${warm[@]}" \
                     --read-depth "$DEPTHS" --write-depth 1 \
                     --target-pid "$UT_PID" --client libiscsi --target uiscsi-target ;;
      libiscsi-tgtd) collect "$round" "$job" "$LIBISCSI" "$TGTD_URL" "${common[@]}" "${warm[@]}" \
                       --read-depth "$DEPTHS" --write-depth 1 \
                       --target-pid "$TGTD_PID" --client libiscsi --target tgtd ;;
      ours-tgtd) collect "$round" "$job" "$OURS" "$TGTD_URL" "${common[@]}" "${warm[@]}" \
                   --read-ahead "0,$READ_AHEAD" --write-behind 0 \
                   --target-pid "$TGTD_PID" --client uiscsi --target tgtd ;;
    esac
  done
done
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$SECONDS

# ---------------------------------------------------------------- report
MODEL=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
{
  echo "# uiscsi tape throughput, $START_DATE"
  echo
  echo "- command: \`bench/tape_compare.sh $(printf '%q ' MIB="$MIB" ROUNDS="$ROUNDS" RECORDS="$RECORDS" READ_AHEAD="$READ_AHEAD" WRITE_BEHIND="$WRITE_BEHIND" DEPTHS="$DEPTHS" TAPE="$TAPE")\`"
  echo "- machine: $(nproc) CPUs, \`$MODEL\`, $(uname -sr), load average $START_LOAD at start, $END_LOAD at end; ${ELAPSED} s in all"
  echo "- tree: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with local changes)'), build $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null) in $(basename "$BUILD")"
  echo "- peers: tgt $(dpkg-query -W -f='${Version}' tgt 2>/dev/null), libiscsi $(dpkg-query -W -f='${Version}' libiscsi-dev 2>/dev/null), iperf3 $(dpkg-query -W -f='${Version}' iperf3 2>/dev/null)"
  echo "- tapes: uiscsi-target ${TAPE_MB} MiB ($TAPE$([ "$TAPE" = image ] && echo ", image file in $WORKDIR")), tgtd ${TAPE_MB} MB (tgtimg file in $WORKDIR); $MIB MiB per pass, median of $ROUNDS rounds"
  echo
  "$PY" "$ROOT/bench/tape/tape_report.py" "$RAW" --goal "$GOAL" --read-ahead "$READ_AHEAD"
} >"$OUT"
cat "$OUT"
say "results in $OUT (raw rows $RAW)"
[ "$FAILED" = 0 ] || { say "some runs failed (see above)"; exit 1; }
