#!/usr/bin/env bash
# Installs every dependency of uiscsi with apt-get on Debian 12.
# Idempotent: when every package is already installed it only checks and returns (a second or so).
# Usage: scripts/setup.sh            (runs apt-get through sudo when not root)
set -euo pipefail

packages=(
  # toolchain and build
  build-essential g++ clang lld cmake ninja-build pkg-config ccache clang-format clang-tidy
  # libraries
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libcli11-dev libfmt-dev libtomlplusplus-dev zlib1g-dev
  # tapeplayer: FLAC decoding, ALSA output, the terminal UI, and tmux for its UI test
  libflac++-dev libasound2-dev libncurses-dev tmux
  # libFuzzer and the sanitizer runtimes for clang
  libclang-rt-14-dev
  # real peers for interop tests
  tgt libiscsi-bin tshark iperf3
  # benchmark peers (qemu-img bench drives libiscsi writes; libiscsi-dev for bench/tape) and
  # profiling (bench/README.md)
  qemu-utils qemu-block-extra libiscsi-dev linux-perf valgrind
  # kernel peers in a qemu guest (tests/kernel, doc/kernel-tests.md); the guest kernel, open-iscsi
  # and mt-st are fetched as .debs into a cache by tests/kernel/build-initramfs.sh, not installed
  qemu-system-x86 busybox-static cpio kmod
  # test helpers
  python3 procps iproute2 xxd
  # packaging and documentation (tests/package): the API reference, man page rendering, .deb
  doxygen groff-base man-db dpkg-dev fakeroot
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# tshark asks a debconf question about capture rights unless preseeded.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
