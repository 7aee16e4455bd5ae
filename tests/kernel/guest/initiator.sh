#!/bin/sh
# The Linux kernel initiator (iscsi_tcp + open-iscsi's iscsid/iscsiadm), for scenario 2 (the
# kernel -> uiscsi-target on the host, reached at 10.0.2.2). Prints "UK: ..." marker lines.
#   initiator.sh start NAME      writes the initiator name and iscsid.conf (CHAP from
#                                $UK_CHAP_USER/$UK_CHAP_SECRET when set, mutual CHAP from
#                                $UK_MUTUAL_USER/$UK_MUTUAL_SECRET; never argv), starts iscsid
#   initiator.sh discover PORTAL SendTargets; prints "UK: TARGET <iqn> <advertised portal>"
#   initiator.sh login PORTAL IQN
#       logs in at PORTAL (not at the advertised address: the host target advertises its own
#       127.0.0.1) and waits for the SCSI devices; prints "UK: DISK /dev/sdX <bytes>",
#       "UK: TAPE /dev/nstN" and the negotiated parameters as "UK: PARAM <key>: <value>" lines
#   initiator.sh badlogin PORTAL IQN [password|password_in]
#       a login with a wrong CHAP secret: ours (password, the default; the target must refuse)
#       or the one we expect the target to prove (password_in; we must refuse the target);
#       prints "UK: REFUSED <iscsiadm status>", or "UK: ACCEPTED" (status 1) when it logged in
#   initiator.sh disk DEV MB     writes MB MiB of random data, reads it back with O_DIRECT, compares;
#                                prints "UK: DISK-OK <md5>"
#   initiator.sh tape DEV        mt-st (/bin/mt-st: a plain "mt" runs busybox's applet) and dd:
#                                two files of different record sizes, rewind, read both back,
#                                space over one file mark and read the second again;
#                                prints "UK: TAPE-OK <md5 1> <md5 2>"
#   initiator.sh logout PORTAL IQN
set -eu
wait_for() { # wait_for TENTHS TEST...: polls until TEST succeeds
  n=$1
  shift
  while ! "$@"; do
    n=$((n - 1))
    [ $n -gt 0 ] || return 1
    usleep 100000
  done
}
has_sd() {
  for d in /sys/block/sd*; do [ -e "$d" ] && return 0; done
  return 1
}
no_sd() { ! has_sd; }
has_st() { [ -e /dev/nst0 ]; }
# iscsiadm exits 21 (no objects found) once it reaches iscsid, 20 while it cannot
iscsid_up() {
  rc=0
  iscsiadm -m session >/dev/null 2>&1 || rc=$?
  [ $rc -eq 21 ] || [ $rc -eq 0 ]
}

cmd=$1
shift
case "$cmd" in
  start)
    mkdir -p /etc/iscsi /var/lib/iscsi /run/lock/iscsi
    echo "InitiatorName=$1" >/etc/iscsi/initiatorname.iscsi
    {
      echo "node.startup = manual"
      echo "node.session.timeo.replacement_timeout = 20"
      echo "node.conn[0].timeo.login_timeout = 20"
      echo "node.session.iscsi.InitialR2T = No"
      echo "node.session.iscsi.ImmediateData = Yes"
      echo "node.conn[0].iscsi.HeaderDigest = CRC32C,None"
      echo "node.conn[0].iscsi.DataDigest = CRC32C,None"
      if [ -n "${UK_CHAP_USER:-}" ]; then
        echo "node.session.auth.authmethod = CHAP"
        echo "node.session.auth.username = $UK_CHAP_USER"
        echo "node.session.auth.password = $UK_CHAP_SECRET"
      fi
      if [ -n "${UK_MUTUAL_USER:-}" ]; then
        echo "node.session.auth.username_in = $UK_MUTUAL_USER"
        echo "node.session.auth.password_in = $UK_MUTUAL_SECRET"
      fi
    } >/etc/iscsi/iscsid.conf
    chmod 600 /etc/iscsi/iscsid.conf
    iscsid -f >/tmp/iscsid.log 2>&1 &
    wait_for 100 iscsid_up || { echo "UK: iscsid did not come up"; exit 1; }
    echo "UK: ISCSID started"
    ;;
  discover)
    iscsiadm -m discovery -t sendtargets -p "$1" | while read -r portal iqn; do
      echo "UK: TARGET $iqn ${portal%,*}"
    done
    ;;
  login)
    portal=$1 iqn=$2 which=${3:-password}
    iscsiadm -m node -o new -T "$iqn" -p "$portal" >/dev/null
    iscsiadm -m node -T "$iqn" -p "$portal" --login
    wait_for 100 has_sd || { echo "UK: no disk appeared"; exit 1; }
    wait_for 50 has_st || echo "UK: no tape appeared"
    for d in /sys/block/sd*; do
      echo "UK: DISK /dev/${d##*/} $(($(cat "$d/size") * 512)) $(cat "$d/device/vendor" "$d/device/model" | tr -s ' \n' ' ')"
    done
    for t in /dev/nst[0-9] /dev/nst[0-9][0-9]; do
      [ -e "$t" ] && echo "UK: TAPE $t"
    done
    iscsiadm -m session -P 2 |
      sed -n '/Negotiated iSCSI params/,$ s/^[[:space:]]*\([A-Za-z]*\): \(.*\)$/UK: PARAM \1: \2/p'
    echo "UK: LOGGED-IN $(iscsiadm -m session | wc -l) session(s)"
    ;;
  badlogin)
    portal=$1 iqn=$2 which=${3:-password}
    iscsiadm -m node -o new -T "$iqn" -p "$portal" >/dev/null
    # not a secret: a value the target must refuse
    iscsiadm -m node -T "$iqn" -p "$portal" -o update -n "node.session.auth.$which" \
      -v wrong-chap-secret-0
    rc=0
    iscsiadm -m node -T "$iqn" -p "$portal" --login || rc=$?
    iscsiadm -m node -T "$iqn" -p "$portal" -o delete
    if [ $rc -eq 0 ]; then
      iscsiadm -m node -T "$iqn" -p "$portal" --logout || true
      echo "UK: ACCEPTED"
      exit 1
    fi
    tail -n 5 /tmp/iscsid.log | sed 's/^/UK: ISCSID /'
    echo "UK: REFUSED $rc"
    ;;
  disk)
    dev=$1 mb=$2
    dd if=/dev/urandom of=/tmp/disk.pat bs=1M count="$mb" 2>/dev/null
    dd if=/tmp/disk.pat of="$dev" bs=1M count="$mb" conv=fsync 2>/dev/null
    echo 3 >/proc/sys/vm/drop_caches
    dd if="$dev" of=/tmp/disk.back bs=1M count="$mb" iflag=direct 2>/dev/null
    cmp /tmp/disk.pat /tmp/disk.back
    echo "UK: DISK-OK $(md5sum </tmp/disk.pat | cut -d' ' -f1)"
    rm -f /tmp/disk.pat /tmp/disk.back
    ;;
  tape)
    dev=$1
    /bin/mt-st -f "$dev" status
    /bin/mt-st -f "$dev" rewind
    /bin/mt-st -f "$dev" setblk 0 # variable-length records: each write(2) is one record
    dd if=/dev/urandom of=/tmp/t1 bs=65536 count=8 2>/dev/null
    dd if=/dev/urandom of=/tmp/t2 bs=32768 count=5 2>/dev/null
    dd if=/tmp/t1 of="$dev" bs=65536 2>/dev/null # st writes a file mark at close
    dd if=/tmp/t2 of="$dev" bs=32768 2>/dev/null
    /bin/mt-st -f "$dev" rewind
    dd if="$dev" of=/tmp/r1 bs=65536 2>/dev/null # reads up to the file mark
    dd if="$dev" of=/tmp/r2 bs=65536 2>/dev/null
    cmp /tmp/t1 /tmp/r1
    cmp /tmp/t2 /tmp/r2
    /bin/mt-st -f "$dev" rewind
    /bin/mt-st -f "$dev" fsf 1
    dd if="$dev" of=/tmp/r3 bs=65536 2>/dev/null
    cmp /tmp/t2 /tmp/r3
    /bin/mt-st -f "$dev" tell
    /bin/mt-st -f "$dev" rewind
    echo "UK: TAPE-OK $(md5sum </tmp/t1 | cut -d' ' -f1) $(md5sum </tmp/t2 | cut -d' ' -f1)"
    rm -f /tmp/t1 /tmp/t2 /tmp/r1 /tmp/r2 /tmp/r3
    ;;
  logout)
    iscsiadm -m node -T "$2" -p "$1" --logout
    wait_for 50 no_sd || { echo "UK: disk still present"; exit 1; }
    echo "UK: LOGGED-OUT"
    ;;
  *)
    echo "initiator.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
