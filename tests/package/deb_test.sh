#!/usr/bin/env bash
# package.deb: builds the Debian packages of the built tree with CPack (cpack -G DEB, output in a
# temporary directory), unpacks each into a scratch root with dpkg-deb -x (no root needed), and
# checks:
#   - the four packages exist: libuiscsi<SOVERSION>, libuiscsi-dev, uiscsi-tools, tapeplayer;
#   - each holds the files it must (libraries, headers, CMake and pkg-config files, programs,
#     man pages) and none that belongs to another (no file is in two packages);
#   - the dependencies: libuiscsi-dev depends on the exact libuiscsi version, and the packages
#     with programs or libraries have dpkg-shlibdeps dependencies (libc6 at least).
#   - every installed program (the PROGRAM arguments) is in uiscsi-tools (tapeplayer in
#     tapeplayer) with its man page.
# Usage: deb_test.sh BUILD_DIR SOVERSION PROGRAM...
set -euo pipefail
build=$1 soversion=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/uiscsi-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log"; fail "cpack"; }

lib_pkg=libuiscsi$soversion
declare -A want=(
  [$lib_pkg]="usr/lib/libuiscsi.so.$soversion usr/lib/libuiscsi-tape.so.$soversion"
  [libuiscsi-dev]="usr/include/uiscsi/session.hpp usr/include/uiscsi/version.hpp
    usr/include/uiscsi/export.hpp usr/include/uiscsi/tape/drive.hpp usr/include/uiscsi/scsi/cdb.hpp
    usr/lib/libuiscsi.a usr/lib/libuiscsi-tape.a usr/lib/libuiscsi.so usr/lib/libuiscsi-tape.so
    usr/lib/cmake/uiscsi/uiscsiConfig.cmake usr/lib/cmake/uiscsi/uiscsiConfigVersion.cmake
    usr/lib/cmake/uiscsi/uiscsiTargets.cmake usr/lib/pkgconfig/uiscsi.pc
    usr/lib/pkgconfig/uiscsi-tape.pc"
  [uiscsi-tools]="usr/bin/uiscsi-ls usr/bin/uiscsi-dd usr/bin/uiscsi-bench usr/bin/uiscsi-tape-dd
    usr/bin/uiscsi-mt usr/bin/uiscsi-changer usr/bin/uiscsi-target
    usr/share/man/man5/uiscsi-target.toml.5"
  [tapeplayer]="usr/bin/tapeplayer usr/share/man/man1/tapeplayer.1"
)
for program in "$@"; do
  pkg=uiscsi-tools
  [ "$program" = tapeplayer ] && pkg=tapeplayer
  want[$pkg]+=" usr/bin/$program usr/share/man/man1/$program.1"
done
# Patterns no package but the named one may hold.
declare -A only=([$lib_pkg]='\.so\.' [libuiscsi-dev]='^usr/include/|\.a$|\.pc$|\.cmake$'
                 [uiscsi-tools]='^usr/bin/uiscsi-' [tapeplayer]='tapeplayer')

for pkg in "${!want[@]}"; do
  deb=$(ls "$work/out/${pkg}_"*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || fail "no package $pkg in: $(ls "$work/out")"
  dpkg-deb -x "$deb" "$work/root"
  dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||' | grep -v '/$' | sort >"$work/$pkg.files"
  for f in ${want[$pkg]}; do
    grep -qx "$f" "$work/$pkg.files" || fail "$pkg lacks $f"
    [ -e "$work/root/$f" ] || fail "$f of $pkg missing after dpkg-deb -x"
  done
  for other in "${!only[@]}"; do
    [ "$other" = "$pkg" ] && continue
    if grep -Eq "${only[$other]}" "$work/$pkg.files"; then
      fail "$pkg holds files of $other: $(grep -E "${only[$other]}" "$work/$pkg.files" | head -3)"
    fi
  done
  depends=$(dpkg-deb -f "$deb" Depends || true)
  echo "$pkg: $(wc -l <"$work/$pkg.files") files; Depends: $depends"
  case $pkg in
    libuiscsi-dev) grep -q "$lib_pkg (= " <<<"$depends" || fail "libuiscsi-dev does not depend on $lib_pkg" ;;
    *) grep -q "libc6" <<<"$depends" || fail "$pkg has no shlibdeps dependencies" ;;
  esac
done
dups=$(cat "$work"/*.files | sort | uniq -d)
[ -z "$dups" ] || fail "files in two packages: $dups"
# The unpacked library loads and is the one the headers describe.
soname=$(objdump -p "$work/root/usr/lib/libuiscsi.so.$soversion" | awk '/SONAME/ {print $2}')
[ "$soname" = "libuiscsi.so.$soversion" ] || fail "SONAME $soname"
echo "package.deb: ok"
