#!/usr/bin/env bash
# Builds the kernel-test guest: Debian's kernel (a pinned package version) and a small busybox
# initramfs with the LIO target, the kernel iSCSI initiator (iscsi_tcp + open-iscsi), st.ko and
# mt-st, and the guest /init and scenario scripts from tests/kernel/guest/. Prints one line:
# "VMLINUZ INITRAMFS". Nothing is installed on the host: the .debs are fetched with
# `apt-get download` into the cache and unpacked there.
#
# Cached under ${UISCSI_KERNEL_CACHE:-${XDG_CACHE_HOME:-~/.cache}/uiscsi-kernel}: the .debs are
# kept, and an initramfs is rebuilt only when its inputs change (this script, guest/, the .debs,
# the extra binaries). Concurrent runs are serialized with flock.
#
# Environment:
#   UISCSI_KERNEL_PKG      kernel package (default linux-image-6.1.0-50-amd64)
#   UISCSI_KERNEL_VERSION  its version (default 6.1.176-1, Debian 12.13's kernel)
#   UISCSI_KERNEL_DEB      a linux-image .deb file to use instead of downloading
#   UISCSI_GUEST_EXTRA     space-separated host binaries copied to /opt/uiscsi/bin in the guest,
#                          with their shared-library closure (ldd); e.g. a TCMU handler
# Exit status 0 on success; on failure a one-line reason on stderr starting "build-initramfs:".
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${UISCSI_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/uiscsi-kernel}
KPKG=${UISCSI_KERNEL_PKG:-linux-image-6.1.0-50-amd64}
KVERSION=${UISCSI_KERNEL_VERSION:-6.1.176-1}
EXTRA=${UISCSI_GUEST_EXTRA:-}
DEBS="$CACHE/debs"
mkdir -p "$DEBS"
fail() { echo "build-initramfs: $*" >&2; exit 1; }
log() { echo "build-initramfs: $*" >&2; }

for tool in dpkg-deb depmod modprobe cpio apt-get ldd flock; do
  command -v "$tool" >/dev/null || fail "$tool missing (run scripts/setup.sh)"
done
[ -x /bin/busybox ] || fail "/bin/busybox missing (busybox-static; run scripts/setup.sh)"
! ldd /bin/busybox >/dev/null 2>&1 || fail "/bin/busybox is not static (install busybox-static)"

exec 9>"$CACHE/lock"
flock -w 600 9 || fail "timed out waiting for the cache lock $CACHE/lock"

# fetch PKG[=VERSION]: the cached .deb's path (downloads it once).
fetch() {
  local spec=$1 name=${1%%=*} ver='' f=''
  [ "$spec" != "$name" ] && ver=${spec#*=}
  f=$(ls "$DEBS/${name}_${ver:+${ver//:/%3a}_}"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$f" ]; then
    log "downloading $spec"
    (cd "$DEBS" && timeout 300 apt-get download -q "$spec" >&2) ||
      fail "apt-get download $spec failed (apt-get update? or set UISCSI_KERNEL_PKG/VERSION)"
    f=$(ls "$DEBS/${name}_"*.deb | head -1)
  fi
  echo "$f"
}

KERNEL_DEB=${UISCSI_KERNEL_DEB:-$(fetch "$KPKG=$KVERSION")}
[ -f "$KERNEL_DEB" ] || fail "no kernel package $KERNEL_DEB"
USER_DEBS=()
for p in open-iscsi libisns0 libopeniscsiusr mt-st; do USER_DEBS+=("$(fetch "$p")"); done

# ---- cache key: every input --------------------------------------------------------------
extra_sums=
for b in $EXTRA; do
  [ -x "$b" ] || fail "extra binary $b is not an executable file"
  extra_sums+="$(sha256sum "$b" | cut -c1-64) $(basename "$b");"
done
KEY=$({
  cat "$0" "$HERE"/guest/*
  basename -a "$KERNEL_DEB" "${USER_DEBS[@]}"
  echo "$extra_sums"
} | sha256sum | cut -c1-16)
OUT="$CACHE/initramfs-$KEY.cpio.gz"
KROOT="$CACHE/kroot"
if [ -f "$OUT" ] && [ -f "$KROOT/.from" ] && [ "$(cat "$KROOT/.from")" = "$(basename "$KERNEL_DEB")" ]; then
  touch "$OUT"
  echo "$CACHE/vmlinuz $OUT"
  exit 0
fi
log "building $OUT from $(basename "$KERNEL_DEB")"

# ---- kernel and modules --------------------------------------------------------------------
if [ ! -f "$KROOT/.from" ] || [ "$(cat "$KROOT/.from")" != "$(basename "$KERNEL_DEB")" ]; then
  rm -rf "$KROOT"
  mkdir -p "$KROOT"
  dpkg-deb -x "$KERNEL_DEB" "$KROOT"
  KV=$(ls "$KROOT/lib/modules" | head -1)
  depmod -b "$KROOT" "$KV" # the package ships no modules.dep
  cp "$KROOT/boot/vmlinuz-$KV" "$CACHE/vmlinuz"
  basename "$KERNEL_DEB" >"$KROOT/.from"
fi
KV=$(ls "$KROOT/lib/modules" | head -1)

ROOT="$CACHE/root-$KEY"
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc/iscsi,proc,sys,dev,run,tmp,var/lib/iscsi,host} \
  "$ROOT/lib/modules/$KV" "$ROOT/opt/uiscsi/bin"
ln -s ../run/lock "$ROOT/var/lock"

# The modules /init loads (guest/init.sh) and their dependency closure.
MODULES="virtio_pci virtio_net crc32c_generic crc32c_intel crct10dif_pclmul configfs
  target_core_mod target_core_file target_core_iblock target_core_user uio iscsi_target_mod
  tcm_loop iscsi_tcp sd_mod st 9p 9pnet_virtio"
for m in $MODULES; do
  modprobe -d "$KROOT" -S "$KV" --show-depends "$m" || fail "module $m not in $KV"
done | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r ko; do
  rel=${ko#"$KROOT"/}
  mkdir -p "$ROOT/$(dirname "$rel")"
  cp "$ko" "$ROOT/$rel"
done
cp "$KROOT/lib/modules/$KV"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$KV/"
depmod -b "$ROOT" "$KV"

# ---- userspace -------------------------------------------------------------------------------
cp /bin/busybox "$ROOT/bin/busybox"
for a in $(/bin/busybox --list); do
  case $a in busybox | mt | modprobe | insmod | rmmod | lsmod | modinfo | depmod) continue ;; esac
  ln -s busybox "$ROOT/bin/$a"
done
# with_libs SRC DEST [LIBPATH]: copies an executable and its shared-library closure.
with_libs() {
  local src=$1 dst=$2 lib
  mkdir -p "$ROOT/$(dirname "$dst")"
  cp -L "$src" "$ROOT/$dst"
  LD_LIBRARY_PATH=${3:-} ldd "$src" | awk '/=>/ { print $3 } /^\t\// { print $1 }' |
    while read -r lib; do
      [ -n "$lib" ] && [ "$lib" != "not" ] || fail "$src: unresolved shared library"
      local target=$lib
      case $lib in "$CACHE"/*) target=/usr/lib/x86_64-linux-gnu/$(basename "$lib") ;; esac
      [ -e "$ROOT$target" ] && continue
      mkdir -p "$ROOT/$(dirname "$target")"
      cp -L "$lib" "$ROOT$target"
    done
  local deps
  deps=$(LD_LIBRARY_PATH=${3:-} ldd "$src")  # whole, not piped: grep -q under pipefail races
  if grep -q 'not found' <<<"$deps"; then fail "$src: library not found"; fi
}
with_libs "$(command -v kmod)" /bin/kmod
for a in modprobe insmod rmmod lsmod modinfo depmod; do ln -s ../bin/kmod "$ROOT/sbin/$a"; done

XROOT="$CACHE/xroot"
rm -rf "$XROOT"
mkdir -p "$XROOT"
for d in "${USER_DEBS[@]}"; do dpkg-deb -x "$d" "$XROOT"; done
XLIB="$XROOT/usr/lib/x86_64-linux-gnu:$XROOT/lib/x86_64-linux-gnu"
for b in iscsid iscsiadm; do with_libs "$XROOT/sbin/$b" "/sbin/$b" "$XLIB"; done
[ -x "$XROOT/bin/mt-st" ] || fail "mt-st package has no /bin/mt-st"
with_libs "$XROOT/bin/mt-st" /bin/mt-st
ln -s mt-st "$ROOT/bin/mt" # mt-st, not busybox's mt
for b in $EXTRA; do with_libs "$b" "/opt/uiscsi/bin/$(basename "$b")"; done

printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
printf '127.0.0.1 localhost\n' >"$ROOT/etc/hosts"
cp "$HERE/guest/init.sh" "$ROOT/init"
mkdir -p "$ROOT/scenarios"
for f in "$HERE"/guest/*.sh; do
  [ "$(basename "$f")" = init.sh ] || cp "$f" "$ROOT/scenarios/"
done
chmod 755 "$ROOT/init" "$ROOT"/scenarios/*

(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
rm -rf "$ROOT" "$XROOT"
# keep the four most recent images (other extra-binary sets share the cache)
ls -t "$CACHE"/initramfs-*.cpio.gz | tail -n +5 | xargs -r rm -f
log "built $OUT ($(du -h "$OUT" | cut -f1)), kernel $KV"
echo "$CACHE/vmlinuz $OUT"
