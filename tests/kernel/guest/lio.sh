#!/bin/sh
# LIO (the kernel's iSCSI target) through configfs, for scenario 1 (our initiator -> LIO).
#   lio.sh target IQN PORT MB [open|chap|mutual]
#       a fileio LUN 0 of MB MiB on tmpfs, exported by IQN's TPG 1 on portal 127.0.0.1:PORT
#       (qemu forwards the host's 127.0.0.1:PORT there). open: no authentication, any
#       initiator. chap/mutual: only $UK_INITIATOR, with CHAP $UK_CHAP_USER/$UK_CHAP_SECRET
#       (mutual: the target answers as $UK_MUTUAL_USER/$UK_MUTUAL_SECRET). Secrets come from
#       the environment, never argv. Header and data digests CRC32C,None.
#   lio.sh param IQN KEY VALUE   sets a TPG login parameter (param/KEY), before clients log in
#   lio.sh show IQN              prints the TPG's login parameters as KEY=VALUE lines
#   lio.sh sessions IQN          prints the TPG's sessions (configfs "dynamic_sessions")
#   lio.sh cut IQN [SECONDS]     drops every connection of the TPG: disables it (LIO closes its
#                                sessions), waits SECONDS (default 1), enables it again
set -eu
CFS=/sys/kernel/config/target
tpg_of() { echo "$CFS/iscsi/$1/tpgt_1"; }

cmd=$1
shift
case "$cmd" in
  target)
    iqn=$1 port=$2 mb=$3 mode=${4:-open}
    tpg=$(tpg_of "$iqn")
    n=$(ls -d $CFS/core/fileio_* 2>/dev/null | wc -l)
    bs=$CFS/core/fileio_$n/lun
    mkdir -p "$bs"
    echo "fd_dev_name=/tmp/fileio_$n.img,fd_dev_size=$((mb * 1048576)),fd_buffered_io=1" >"$bs/control"
    echo 1 >"$bs/enable"
    mkdir -p "$tpg/lun/lun_0"
    ln -s "$bs" "$tpg/lun/lun_0/backstore"
    echo CRC32C,None >"$tpg/param/HeaderDigest"
    echo CRC32C,None >"$tpg/param/DataDigest"
    if [ "$mode" = open ]; then
      echo 0 >"$tpg/attrib/authentication"
      echo 1 >"$tpg/attrib/generate_node_acls"
      echo 1 >"$tpg/attrib/cache_dynamic_acls"
      echo 0 >"$tpg/attrib/demo_mode_write_protect"
      echo None >"$tpg/param/AuthMethod"
    else
      acl=$tpg/acls/$UK_INITIATOR
      mkdir -p "$acl/lun_0"
      ln -s "$tpg/lun/lun_0" "$acl/lun_0/mapped"
      printf '%s' "$UK_CHAP_USER" >"$acl/auth/userid"
      printf '%s' "$UK_CHAP_SECRET" >"$acl/auth/password"
      if [ "$mode" = mutual ]; then
        printf '%s' "$UK_MUTUAL_USER" >"$acl/auth/userid_mutual"
        printf '%s' "$UK_MUTUAL_SECRET" >"$acl/auth/password_mutual"
      fi
      echo 0 >"$tpg/attrib/generate_node_acls"
      echo 1 >"$tpg/attrib/authentication"
      echo CHAP >"$tpg/param/AuthMethod"
    fi
    [ -d "$tpg/np/127.0.0.1:$port" ] || mkdir "$tpg/np/127.0.0.1:$port"
    echo 1 >"$tpg/enable"
    echo "LIO: target $iqn ($mode) on 127.0.0.1:$port, LUN 0 fileio ${mb} MiB"
    ;;
  param)
    echo "$3" >"$(tpg_of "$1")/param/$2"
    ;;
  show)
    for f in "$(tpg_of "$1")"/param/*; do echo "${f##*/}=$(cat "$f")"; done
    ;;
  sessions)
    cat "$(tpg_of "$1")/dynamic_sessions" 2>/dev/null || true
    for a in "$(tpg_of "$1")"/acls/*; do [ -e "$a/info" ] && cat "$a/info"; done
    true
    ;;
  cut)
    tpg=$(tpg_of "$1")
    echo 0 >"$tpg/enable"
    sleep "${2:-1}"
    echo 1 >"$tpg/enable"
    echo "LIO: $1 disabled and enabled again"
    ;;
  *)
    echo "lio.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
