#!/usr/bin/env bash
# bench/compare.sh: our initiator and our target against the real peers, on the same machine in
# the same run, with ratio tables (bench/README.md explains the method and records results).
#
#   bench/compare.sh                       # about 9-10 minutes with the defaults
#   bench/compare.sh --time 1 --reps 1     # a quick look (about 2 minutes)
#
# What runs (every point REPS times, interleaved, medians reported):
#   a. initiator: uiscsi-bench vs libiscsi's iscsi-perf, both against the same tgtd LUN:
#      sequential read at BS_LIST x QD_LIST, random read at RAND_BS x QD_LIST; writes (when
#      WRITES=1): uiscsi-bench vs qemu-img bench (which drives libiscsi) at WRITE_BS x WRITE_QD.
#   b. target: iscsi-perf (and qemu-img bench for writes) against tgtd vs against uiscsi-target.
#   c. iperf3 over 127.0.0.1, one and two streams, as a ceiling.
#   With FULL=1 also uiscsi-bench against uiscsi-target (our whole stack).
#
# Both targets serve a RAM LUN of LUN_MB MiB with 512-byte blocks: tgtd a file on tmpfs
# (/dev/shm, bstype rdwr), uiscsi-target --ram. Both LUNs are filled with the same non-zero
# pattern first (PREFILL=1), so reads copy real memory rather than the shared zero page.
# tgtd is tuned to the parameters our target offers by default (peers.md: tgtd's defaults are
# 8 KiB segments and InitialR2T=Yes): MaxRecvDataSegmentLength=262144,
# MaxXmitDataSegmentLength=262144, FirstBurstLength=262144, MaxBurstLength=1048576,
# InitialR2T=No, ImmediateData=Yes. Everything else stays at tgtd's defaults.
#
# Settings (environment variables or the flags in brackets):
#   BUILD=build-bench [--build DIR]  where uiscsi-bench, uiscsi-target and uiscsi-dd are built
#   TIME=2 [--time S]      measured whole seconds per run (iscsi-perf -t takes integers)
#   WARMUP=0.25            uiscsi-bench warm-up per run (iscsi-perf has none)
#   REPS=3 [--reps N]      runs per point; the tables give the median
#   LUN_MB=1024 [--lun-mb N]
#   BS_LIST="4K 64K 256K 1M"  QD_LIST="1 4 16 32"  RAND_BS="4K"
#   WRITES=1 [--no-writes] WRITE_BS="4K 256K 1M"  WRITE_QD="16"
#   FULL=0 [--full]        also uiscsi-bench -> uiscsi-target
#   IPERF_TIME=2
#   PREFILL=1 [--no-prefill]
#   QUIET_MAX=30 QUIET_BUDGET=60: before each run wait until the machine is below QUIET_MAX %
#                          of one CPU busy, spending at most QUIET_BUDGET seconds on waiting in all
#   OUT=$BUILD/bench-results/compare-DATE.md [--out FILE]   (raw data next to it, .tsv)
#
# Each run also records the CPU time of the client and of the target process (from /proc), and
# the CPU used by everything else on the machine during the run ("other"), so a run disturbed
# by unrelated load can be spotted. Processes we start are stopped on any exit (trap).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
TIME=${TIME:-2}
WARMUP=${WARMUP:-0.25}
REPS=${REPS:-3}
LUN_MB=${LUN_MB:-1024}
BS_LIST=${BS_LIST:-"4K 64K 256K 1M"}
QD_LIST=${QD_LIST:-"1 4 16 32"}
RAND_BS=${RAND_BS:-"4K"}
WRITES=${WRITES:-1}
WRITE_BS=${WRITE_BS:-"4K 256K 1M"}
WRITE_QD=${WRITE_QD:-"16"}
FULL=${FULL:-0}
IPERF_TIME=${IPERF_TIME:-2}
PREFILL=${PREFILL:-1}
QUIET_MAX=${QUIET_MAX:-30}
QUIET_BUDGET=${QUIET_BUDGET:-60}
OUT=${OUT:-}

while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --time) TIME=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --lun-mb) LUN_MB=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-writes) WRITES=0; shift ;;
    --full) FULL=1; shift ;;
    --no-prefill) PREFILL=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

[[ "$TIME" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: TIME must be whole seconds (iscsi-perf -t)" >&2; exit 2; }
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: REPS must be a positive number" >&2; exit 2; }

BENCH=$BUILD/tools/bench/uiscsi-bench
TARGET=$BUILD/tools/target/uiscsi-target
DD=$BUILD/tools/dd/uiscsi-dd
for b in "$BENCH" "$TARGET"; do
  [ -x "$b" ] || { echo "compare.sh: $b not built (cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo && ninja -C build-bench)" >&2; exit 2; }
done
# The system python (a pyenv shim on PATH can take a second to start).
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
for t in tgtd tgtadm iscsi-perf iperf3 "$PY" ss; do
  command -v "$t" >/dev/null || { echo "compare.sh: $t missing (scripts/setup.sh)" >&2; exit 2; }
done
if [ "$WRITES" = 1 ] && ! command -v qemu-img >/dev/null; then
  echo "compare.sh: qemu-img missing (scripts/setup.sh installs qemu-utils qemu-block-extra); skipping libiscsi writes" >&2
  WRITES=0
fi

STAMP=$(date +%Y%m%d-%H%M%S)
[ -n "$OUT" ] || OUT=$BUILD/bench-results/compare-$STAMP.md
mkdir -p "$(dirname "$OUT")"
RAW=${OUT%.md}.tsv
WORK=$(mktemp -d /dev/shm/uiscsi-compare.XXXXXX)  # tmpfs: tgtd's LUN lives here
LOG=$WORK/log
mkdir -p "$LOG"

TGTD_PID="" UT_PID="" IPERF_PID="" TGTD_CTL=""
cleanup() {
  set +e
  if [ -n "$TGTD_PID" ] && kill -0 "$TGTD_PID" 2>/dev/null; then
    local A="tgtadm -C $TGTD_CTL --lld iscsi"
    $A --op update --mode sys --name State -v offline >/dev/null 2>&1
    $A --op delete --force --mode target --tid 1 >/dev/null 2>&1
    $A --op delete --mode system >/dev/null 2>&1
    for _ in $(seq 1 60); do kill -0 "$TGTD_PID" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$TGTD_PID" 2>/dev/null
  fi
  [ -n "$UT_PID" ] && kill "$UT_PID" 2>/dev/null && wait "$UT_PID" 2>/dev/null
  [ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null && wait "$IPERF_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "compare.sh: interrupted" >&2; exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
bytes_of() {  # 4K -> 4096
  case "$1" in
    *[kK]) echo $(( ${1%?} << 10 )) ;;
    *[mM]) echo $(( ${1%?} << 20 )) ;;
    *[gG]) echo $(( ${1%?} << 30 )) ;;
    *) echo $(( $1 )) ;;
  esac
}
# CPU ticks (user+system) of a process, or 0.
proc_ticks() {
  local s
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
  s=$(sed 's/.*) //' "/proc/$1/stat")
  awk '{print $12 + $13}' <<<"$s"
}
# Busy ticks of the whole machine (all CPUs).
machine_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
now() { date +%s.%N; }
say() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---------------------------------------------------------------- targets
PATTERN=$WORK/pattern.img
if [ "$PREFILL" = 1 ]; then
  say "writing a ${LUN_MB} MiB pattern image"
  "$PY" - "$PATTERN" "$LUN_MB" <<'EOF'
import os, sys, random
rnd = random.Random(7)
chunk = bytes(rnd.getrandbits(8) for _ in range(1 << 16)) * 16  # 1 MiB, non-zero
with open(sys.argv[1], "wb") as f:
    for i in range(int(sys.argv[2])):
        f.write(chunk[i % 4096:] + chunk[:i % 4096])
EOF
fi

say "starting uiscsi-target (--ram ${LUN_MB}M)"
"$TARGET" --listen 127.0.0.1:0 --ram "${LUN_MB}M" --log-level warning >"$LOG/uiscsi-target.out" 2>&1 &
UT_PID=$!
for _ in $(seq 1 100); do grep -q '^portal ' "$LOG/uiscsi-target.out" 2>/dev/null && break; sleep 0.05; done
UT_PORTAL=$(sed -n 's/^portal //p' "$LOG/uiscsi-target.out" | head -1)
UT_IQN=$(head -1 "$LOG/uiscsi-target.out")
[ -n "$UT_PORTAL" ] || { echo "compare.sh: uiscsi-target did not start:" >&2; cat "$LOG/uiscsi-target.out" >&2; exit 1; }
UT_URL="iscsi://$UT_PORTAL/$UT_IQN/0"

if [ "$PREFILL" = 1 ]; then
  if [ -x "$DD" ] && timeout 120 "$DD" if="$PATTERN" of="$UT_URL" bs=1M status=none 2>"$LOG/prefill.err"; then
    say "uiscsi-target LUN filled with the pattern"
  else
    say "warning: could not fill the uiscsi-target LUN ($(tail -1 "$LOG/prefill.err" 2>/dev/null)); it reads as zeros"
  fi
  mv "$PATTERN" "$WORK/tgtd-lun.img"
else
  truncate -s "${LUN_MB}M" "$WORK/tgtd-lun.img"
fi

say "starting tgtd"
TGTD_PORT=""
for _ in 1 2 3 4 5; do
  p=$(free_port)
  ctl=$(( (RANDOM % 28000) + 2000 ))
  [ -e "/var/run/tgtd/socket.$ctl" ] && continue
  ss -ltn "sport = :$p" | grep -q LISTEN && continue
  tgtd -f --iscsi "portal=127.0.0.1:$p" -C "$ctl" >"$LOG/tgtd.log" 2>&1 &
  TGTD_PID=$! TGTD_CTL=$ctl
  for _ in $(seq 1 100); do
    if tgtadm -C "$ctl" --lld iscsi --mode sys --op show >/dev/null 2>&1 &&
       ss -ltnp "sport = :$p" | grep -q "pid=$TGTD_PID,"; then TGTD_PORT=$p; break; fi
    sleep 0.05
  done
  [ -n "$TGTD_PORT" ] && break
  kill -9 "$TGTD_PID" 2>/dev/null || true; TGTD_PID=""  # port stolen or bind failure: retry
done
[ -n "$TGTD_PORT" ] || { echo "compare.sh: tgtd did not come up:" >&2; cat "$LOG/tgtd.log" >&2; exit 1; }
A="tgtadm -C $TGTD_CTL --lld iscsi"
TGTD_IQN=iqn.2026-11.dev.uiscsi.bench:tgtd
$A --mode target --op new --tid 1 --targetname "$TGTD_IQN"
$A --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$WORK/tgtd-lun.img" --bstype rdwr
$A --mode target --op bind --tid 1 --initiator-address ALL
for kv in MaxRecvDataSegmentLength=262144 MaxXmitDataSegmentLength=262144 \
          FirstBurstLength=262144 MaxBurstLength=1048576 InitialR2T=No ImmediateData=Yes; do
  $A --mode target --op update --tid 1 --name "${kv%%=*}" --value "${kv#*=}"
done
TGTD_URL="iscsi://127.0.0.1:$TGTD_PORT/$TGTD_IQN/1"
say "tgtd on 127.0.0.1:$TGTD_PORT (pid $TGTD_PID), uiscsi-target on $UT_PORTAL (pid $UT_PID)"

# ---------------------------------------------------------------- one run
# $RAW gets one line per run: section series rw bs qd rep iops mib_s client_cpu% target_cpu%
# other_cpu% p99_us ("-" when the client does not report it). CPU figures are % of one CPU.
printf 'section\tseries\trw\tbs\tqd\trep\tiops\tmib_s\tclient_cpu\ttarget_cpu\tother_cpu\tp99_us\n' >"$RAW"
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
CLIENT_OUT=$WORK/client.out

# wait_quiet: before a run, wait (within a total budget of QUIET_BUDGET seconds for the whole
# script) until the machine was below QUIET_MAX % of one CPU busy for 0.3 s: other work on a
# 2-CPU machine moves these figures by tens of percent.
QUIET_LEFT=$(( QUIET_BUDGET * 10 ))  # in 0.1 s units
QUIET_WAITED=0
wait_quiet() {
  local b0 b1 busy
  while (( QUIET_LEFT > 0 )); do
    b0=$(machine_busy); sleep 0.3; b1=$(machine_busy)
    busy=$(( (b1 - b0) * 100 * 10 / (3 * HZ) ))
    (( busy <= QUIET_MAX )) && return 0
    QUIET_LEFT=$(( QUIET_LEFT - 3 )); QUIET_WAITED=$(( QUIET_WAITED + 3 ))
  done
}

# measure TARGET_PID COMMAND...: runs the client with its stdout in $CLIENT_OUT and sets
# M_RC, M_WALL, M_CLIENT, M_TARGET, M_BUSY (seconds). The client runs in a subshell that then
# reads its children's CPU time (cutime + cstime) from /proc, so parsing is not counted.
measure() {
  local tpid=$1 t0 t1 tt0 tt1 m0 m1 r
  shift
  wait_quiet
  tt0=$(proc_ticks "$tpid"); m0=$(machine_busy); t0=$(now)
  r=$( "$@" >"$CLIENT_OUT" 2>>"$LOG/client.err"; rc=$?
       read -r line <"/proc/$BASHPID/stat"; read -r -a s <<<"${line##*) }"
       echo "$rc $(( s[13] + s[14] ))" )
  t1=$(now); m1=$(machine_busy); tt1=$(proc_ticks "$tpid")
  M_RC=${r% *}
  read -r M_WALL M_CLIENT M_TARGET M_BUSY < <(awk -v hz="$HZ" -v c="${r#* }" -v t="$(( tt1 - tt0 ))" -v m="$(( m1 - m0 ))" -v t0="$t0" -v t1="$t1" \
    'BEGIN {print t1 - t0, c / hz, t / hz, m / hz}')
}

# record SECTION SERIES RW BS QD REP IOPS P99: one line of $RAW from the last measure().
record() {
  awk -v OFS='\t' -v sec="$1" -v ser="$2" -v rw="$3" -v bs="$4" -v qd="$5" -v rep="$6" \
      -v iops="$7" -v p99="$8" -v nbytes="$(bytes_of "$4")" -v wall="$M_WALL" \
      -v client="$M_CLIENT" -v target="$M_TARGET" -v busy="$M_BUSY" 'BEGIN {
    other = busy - client - target; if (other < 0) other = 0
    print sec, ser, rw, bs, qd, rep, sprintf("%.1f", iops), sprintf("%.2f", iops * nbytes / 1048576),
          sprintf("%.0f", 100 * client / wall), sprintf("%.0f", 100 * target / wall),
          sprintf("%.0f", 100 * other / wall), p99
  }' >>"$RAW"
}

failed() {
  say "run failed (exit $M_RC): $*"
  tail -3 "$LOG/client.err" >&2 || true
}

# The clients. Each measures one run and records it.
ub() {  # SECTION SERIES TARGET_PID URL RW BS QD REP [extra uiscsi-bench args]
  local sec=$1 ser=$2 tpid=$3 url=$4 rw=$5 bs=$6 qd=$7 rep=$8 res
  shift 8
  measure "$tpid" timeout $(( ${TIME%.*} + 60 )) "$BENCH" -q --json --rw "$rw" --bs "$bs" \
    --qd "$qd" --time "$TIME" --warmup "$WARMUP" "$@" "$url"
  # The first point's "iops" and the p99 of its "lat_us" (uiscsi-bench's JSON layout).
  res=$(awk '/"iops":/ && !i {sub(/.*"iops": /, ""); sub(/,.*/, ""); i = $0}
             /"lat_us":/ && !p {sub(/.*"p99": /, ""); sub(/,.*/, ""); p = $0}
             END {if (i != "") print i, p}' "$CLIENT_OUT")
  if [ "$M_RC" != 0 ] || [ -z "$res" ]; then failed "$ser $rw $bs qd$qd"; return 0; fi
  # shellcheck disable=SC2086
  record "$sec" "$ser" "$rw" "$bs" "$qd" "$rep" $res
}
lp() {  # SECTION SERIES TARGET_PID URL RW BS QD REP: iscsi-perf (reads only)
  local sec=$1 ser=$2 tpid=$3 url=$4 rw=$5 bs=$6 qd=$7 rep=$8 res
  local args=(-t "$TIME" -m "$qd" -b $(( $(bytes_of "$bs") / 512 )))
  [ "$rw" = randread ] && args+=(-r)
  measure "$tpid" timeout $(( ${TIME%.*} + 30 )) iscsi-perf "${args[@]}" "$url"
  res=$(tr '\r' '\n' <"$CLIENT_OUT" | sed -n 's/^ *iops average \([0-9]*\) .*/\1/p' | tail -1)
  if [ "$M_RC" != 0 ] || [ -z "$res" ]; then failed "$ser $rw $bs qd$qd"; return 0; fi
  record "$sec" "$ser" "$rw" "$bs" "$qd" "$rep" "$res" -
}
declare -A QI_RATE  # last IOPS per qemu point, to size the next run to about $TIME seconds
qi() {  # SECTION SERIES TARGET_PID URL BS QD REP: qemu-img bench (libiscsi), sequential writes
  local sec=$1 ser=$2 tpid=$3 url=$4 bs=$5 qd=$6 rep=$7 count secs key="$2/$5/$6"
  count=$(awk -v r="${QI_RATE[$key]:-2000}" -v t="$TIME" 'BEGIN {c = int(r * t); print c < 50 ? 50 : c}')
  measure "$tpid" timeout $(( ${TIME%.*} * 10 + 60 )) qemu-img bench -f raw -w -c "$count" \
    -d "$qd" -s "$(bytes_of "$bs")" "$url"
  secs=$(sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p' "$CLIENT_OUT")
  if [ "$M_RC" != 0 ] || [ -z "$secs" ]; then failed "$ser write $bs qd$qd"; return 0; fi
  QI_RATE[$key]=$(awk -v c="$count" -v s="$secs" 'BEGIN {print c / (s > 1e-6 ? s : 1e-6)}')
  record "$sec" "$ser" write "$bs" "$qd" "$rep" "${QI_RATE[$key]}" -
}
last_iops() {  # SERIES RW BS QD: the latest IOPS recorded for that point
  awk -F'\t' -v s="$1" -v r="$2" -v b="$3" -v q="$4" \
    '$2==s && $3==r && $4==b && $5==q {v=$7} END {print v}' "$RAW"
}

START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
SECONDS=0

# ---------------------------------------------------------------- a + b: reads
read_points=()
for bs in $BS_LIST; do for qd in $QD_LIST; do read_points+=("read $bs $qd"); done; done
for bs in $RAND_BS; do for qd in $QD_LIST; do read_points+=("randread $bs $qd"); done; done

for rep in $(seq 1 "$REPS"); do
  say "reads, round $rep/$REPS (${#read_points[@]} points)"
  for p in "${read_points[@]}"; do
    read -r rw bs qd <<<"$p"
    todo=(
      "ub read ub-tgtd $TGTD_PID $TGTD_URL $rw $bs $qd $rep"
      "lp read lp-tgtd $TGTD_PID $TGTD_URL $rw $bs $qd $rep"
      "lp read lp-ut $UT_PID $UT_URL $rw $bs $qd $rep"
    )
    [ "$FULL" = 1 ] && todo+=("ub read ub-ut $UT_PID $UT_URL $rw $bs $qd $rep")
    # Alternate the order between rounds so drift and warm caches favour no one.
    if (( rep % 2 == 0 )); then
      for (( i=${#todo[@]}-1; i>=0; i-- )); do ${todo[$i]}; done
    else
      for j in "${todo[@]}"; do $j; done
    fi
  done
done

# ---------------------------------------------------------------- a + b: writes
if [ "$WRITES" = 1 ]; then
  for rep in $(seq 1 "$REPS"); do
    say "writes, round $rep/$REPS"
    for bs in $WRITE_BS; do for qd in $WRITE_QD; do
      ub write ub-tgtd "$TGTD_PID" "$TGTD_URL" write "$bs" "$qd" "$rep" --allow-write
      # The first qemu run of a point is sized from our figure, later ones from its own.
      first=$(last_iops ub-tgtd write "$bs" "$qd")
      [ -n "${QI_RATE[qi-tgtd/$bs/$qd]:-}" ] || QI_RATE[qi-tgtd/$bs/$qd]=${first:-2000}
      [ -n "${QI_RATE[qi-ut/$bs/$qd]:-}" ] || QI_RATE[qi-ut/$bs/$qd]=${first:-2000}
      qi write qi-tgtd "$TGTD_PID" "$TGTD_URL" "$bs" "$qd" "$rep"
      qi write qi-ut "$UT_PID" "$UT_URL" "$bs" "$qd" "$rep"
      if [ "$FULL" = 1 ]; then
        ub write ub-ut "$UT_PID" "$UT_URL" write "$bs" "$qd" "$rep" --allow-write
      fi
    done; done
  done
fi

# ---------------------------------------------------------------- c: iperf3
for rep in $(seq 1 "$REPS"); do
  say "iperf3, round $rep/$REPS"
  for streams in 1 2; do
    port=$(free_port)
    iperf3 -s -1 -B 127.0.0.1 -p "$port" >"$LOG/iperf-server.log" 2>&1 &
    IPERF_PID=$!
    for _ in $(seq 1 100); do ss -ltn "sport = :$port" | grep -q LISTEN && break; sleep 0.05; done
    measure "$IPERF_PID" timeout $(( ${IPERF_TIME%.*} + 30 )) iperf3 -c 127.0.0.1 -p "$port" \
      -t "$IPERF_TIME" -P "$streams" -J
    wait "$IPERF_PID" 2>/dev/null || true
    IPERF_PID=""
    # Stored with a 1 MiB "block", so the iops column holds MiB/s too.
    mib=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))["end"]["sum_received"]; print(d["bytes"] / d["seconds"] / 2**20)' "$CLIENT_OUT" 2>/dev/null) || mib=""
    if [ -n "$mib" ]; then record iperf "iperf3-$streams" stream 1M "$streams" "$rep" "$mib" -; else failed iperf3; fi
  done
done

END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$SECONDS

# ---------------------------------------------------------------- report
MODEL=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
{
  echo "# uiscsi peer comparison, $START_DATE"
  echo
  echo "- command: \`bench/compare.sh $(printf '%q ' TIME="$TIME" REPS="$REPS" LUN_MB="$LUN_MB" WRITES="$WRITES" FULL="$FULL" PREFILL="$PREFILL")\`"
  echo "- machine: $NCPU CPUs, \`$MODEL\`, $(uname -sr), load average $START_LOAD at start, $END_LOAD at end; ${ELAPSED} s in all"
  echo "- tree: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with local changes)'), build $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null) in $(basename "$BUILD")"
  echo "- peers: tgt $(dpkg-query -W -f='${Version}' tgt 2>/dev/null), libiscsi-bin $(dpkg-query -W -f='${Version}' libiscsi-bin 2>/dev/null), qemu-utils $(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null), iperf3 $(dpkg-query -W -f='${Version}' iperf3 2>/dev/null)"
  echo "- waited $(( QUIET_WAITED / 10 )) s in all for a quiet machine (QUIET_MAX=$QUIET_MAX %, budget $QUIET_BUDGET s); \"other CPU\" below is what unrelated processes used during each run, in % of one CPU"
  echo "- LUN: ${LUN_MB} MiB RAM, 512-byte blocks, prefilled=$PREFILL; ${TIME} s per run (uiscsi-bench +${WARMUP} s warm-up), median of $REPS runs"
  echo
  "$PY" "$ROOT/bench/compare_report.py" "$RAW"
} >"$OUT"
cat "$OUT"
say "results in $OUT (raw data $RAW)"
