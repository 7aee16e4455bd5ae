#!/usr/bin/env bash
# Starts and stops a private tgtd on a loopback port for the interop tests, working around its
# quirks (../shared/reference/peers.md): it ignores SIGTERM, silently falls back to 0.0.0.0:3260
# when its port is taken, and appends ".0" to the control socket name.
#
#   tgtd-ctl.sh start PORT DIR          start tgtd, log in DIR/tgtd.log, pid in DIR/tgtd.pid
#   tgtd-ctl.sh disk PORT DIR TID IQN SIZE_MB [CHAP_USER CHAP_PASS [OUT_USER OUT_PASS]]
#   tgtd-ctl.sh tape PORT DIR TID IQN SIZE_MB
#   tgtd-ctl.sh param PORT TID NAME VALUE
#   tgtd-ctl.sh stop PORT DIR
set -euo pipefail
cmd=$1; port=$2
# tgtd's control socket index must fit a signed 16-bit number; derive one from the port.
ctl=$(( port % 30000 + 1000 ))
A="tgtadm -C $ctl --lld iscsi"

case "$cmd" in
  start)
    dir=$3
    mkdir -p "$dir"
    if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port busy" >&2; exit 1; fi
    tgtd -f --iscsi "portal=127.0.0.1:$port" -C "$ctl" >"$dir/tgtd.log" 2>&1 &
    echo $! >"$dir/tgtd.pid"
    for _ in $(seq 1 100); do
      if $A --mode sys --op show >/dev/null 2>&1 && ss -ltn "sport = :$port" | grep -q LISTEN; then exit 0; fi
      sleep 0.05
    done
    echo "tgtd did not come up on port $port:" >&2; cat "$dir/tgtd.log" >&2
    kill -9 "$(cat "$dir/tgtd.pid")" 2>/dev/null || true
    exit 1
    ;;
  disk|tape)
    dir=$3; tid=$4; iqn=$5; size=$6
    img="$dir/lun$tid.img"
    $A --mode target --op new --tid "$tid" --targetname "$iqn"
    if [ "$cmd" = disk ]; then
      truncate -s "${size}M" "$img"
      $A --mode logicalunit --op new --tid "$tid" --lun 1 --backing-store "$img" --bstype rdwr
    else
      tgtimg --op new --device-type tape --barcode="TAPE$tid" --size "$size" --type data --file "$img" >/dev/null
      $A --mode logicalunit --op new --tid "$tid" --lun 1 --backing-store "$img" --bstype ssc --device-type tape
    fi
    $A --mode target --op bind --tid "$tid" --initiator-address ALL
    if [ $# -ge 8 ]; then
      $A --mode account --op new --user "$7" --password "$8"
      $A --mode account --op bind --tid "$tid" --user "$7"
    fi
    if [ $# -ge 10 ]; then
      $A --mode account --op new --user "$9" --password "${10}"
      $A --mode account --op bind --tid "$tid" --user "$9" --outgoing
    fi
    ;;
  param)
    $A --mode target --op update --tid "$3" --name "$4" --value "$5"
    ;;
  stop)
    dir=$3
    pid=$(cat "$dir/tgtd.pid" 2>/dev/null || true)
    $A --op update --mode sys --name State -v offline >/dev/null 2>&1 || true
    for tid in $($A --mode target --op show 2>/dev/null | sed -n 's/^Target \([0-9]*\):.*/\1/p'); do
      $A --op delete --force --mode target --tid "$tid" >/dev/null 2>&1 || true
    done
    $A --op delete --mode system >/dev/null 2>&1 || true
    if [ -n "$pid" ]; then
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.05; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    ;;
  *) echo "usage: $0 start|disk|tape|param|stop ..." >&2; exit 2 ;;
esac
