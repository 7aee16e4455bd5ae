#!/bin/sh
# /init of the kernel-test guest (busybox, kmod, Debian's modules; built by ../build-initramfs.sh).
# Loads the LIO target, kernel initiator and tape modules, brings up qemu's user network
# (10.0.2.15, host loopback reachable as 10.0.2.2), mounts a 9p share at /host when qemu
# exports one (mount_tag "host"), starts the control server and prints the readiness marker
# "UISCSI-GUEST: READY" on the console. Scenarios then run through the control channel.
#
# Kernel command-line parameters:
#   uk.ctl=PORT   control server port (default 5000): each connection sends a timeout in
#                 seconds on its first line, then a shell script, then a line UISCSI-CTL-END;
#                 it gets the script's output and a last line UISCSI-CTL-RC=<exit status>
#                 (see ctl.sh). Unauthenticated root: qemu forwards it from host loopback only.
#   uk.hook=PATH  a script run (in the background) after the control server is up, e.g. from
#                 the 9p share; its output goes to the console
export PATH=/opt/uiscsi/bin:/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run/lock /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs -o size=90% tmpfs /tmp

say() { read -r up _ </proc/uptime; echo "UISCSI-GUEST[$up] $*"; }
die() {
  say "FAILED: $*"
  dmesg | tail -20
  echo "UISCSI-GUEST: FAILED"
  sync
  poweroff -f
}

uk_ctl=5000
uk_hook=
for a in $(cat /proc/cmdline); do
  case "$a" in
    uk.ctl=*) uk_ctl=${a#uk.ctl=} ;;
    uk.hook=*) uk_hook=${a#uk.hook=} ;;
  esac
done
echo 4 >/proc/sys/kernel/printk
say "init, kernel $(uname -r)"

modprobe -a virtio_pci virtio_net crc32c_generic configfs target_core_mod target_core_file \
  target_core_iblock target_core_user iscsi_target_mod iscsi_tcp sd_mod st ||
  die "modprobe"
modprobe -a crc32c_intel crct10dif_pclmul 2>/dev/null # faster CRCs with -cpu max; optional
grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs configfs /sys/kernel/config ||
  die "configfs"

# mount_tag holds the tag and a NUL byte, no newline
has_host_share() {
  for t in /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag; do
    [ "$(tr -d '\000' <"$t" 2>/dev/null)" = host ] && return 0
  done
  return 1
}
if modprobe -a 9pnet_virtio 9p 2>/dev/null && has_host_share; then
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 host /host || die "9p mount"
  say "9p share mounted at /host"
fi

ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do
  usleep 100000
  i=$((i + 1))
done
[ -e /sys/class/net/eth0 ] || die "no eth0"
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
# qemu forwards host 127.0.0.1:P to the guest's own 127.0.0.1:P for iSCSI portals, so that
# SendTargets advertises an address the host reaches; the guest must accept those packets.
echo 1 >/proc/sys/net/ipv4/conf/all/route_localnet
echo 1 >/proc/sys/net/ipv4/conf/eth0/route_localnet

nc -ll -p "$uk_ctl" -e /scenarios/ctl.sh >/dev/null 2>&1 &
# READY only once it listens (slirp accepts host connections before anything listens)
hexport=$(printf ':%04X [0-9A-F]*:0000 0A' "$uk_ctl") # LISTEN, IPv4 or IPv6
i=0
while ! grep -qs "$hexport" /proc/net/tcp /proc/net/tcp6 && [ $i -lt 100 ]; do
  usleep 100000
  i=$((i + 1))
done
grep -qs "$hexport" /proc/net/tcp /proc/net/tcp6 || die "control server not listening"
say "control server on port $uk_ctl"
if [ -n "$uk_hook" ]; then
  say "running hook $uk_hook"
  "$uk_hook" &
fi
echo "UISCSI-GUEST: READY"
while :; do sleep 3600; done
