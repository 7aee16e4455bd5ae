#!/usr/bin/env bash
# package.install: installs the built tree into a temporary prefix (cmake --install), then builds
# the outside project consumer/ against it four ways and runs each build:
#   1. CMake find_package(uiscsi), shared libraries (uiscsi::uiscsi, uiscsi::tape)
#   2. CMake find_package(uiscsi), static archives (uiscsi::tape_static)
#   3. pkg-config uiscsi-tape (which requires uiscsi), shared
#   4. pkg-config --static, the .a files
# checks that the installed headers compile on their own (one file including them all), and
# checks the dynamic symbol table of libuiscsi.so and libuiscsi-tape.so (nm -D --defined-only):
#   - every exported symbol (functions, objects, typeinfo, vtables) is named in namespace uiscsi:
#     no std:: template instantiation, nothing of a bundled dependency;
#   - none is in an internal namespace (uiscsi::core, ::net, ::detail, ::target, ::tapesim,
#     ::player, ::tcmu, ::scsi::detail, ::tape::detail, an anonymous namespace) or a private
#     pointer-to-implementation class (::Impl);
#   - the public entry points are there: uiscsi::version(), uiscsi::parse_iscsi_url,
#     uiscsi::Session::dial, uiscsi::tape::Drive::open.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR CXX
set -euo pipefail
build=$1 src=$2 cxx=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/uiscsi-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
lib=$(dirname "$(find "$prefix" -name 'libuiscsi.so' | head -1)")
[ -n "$lib" ] || fail "no libuiscsi.so installed"
for f in "$lib/libuiscsi.a" "$lib/libuiscsi-tape.a" "$lib/libuiscsi-tape.so" "$lib/pkgconfig/uiscsi.pc" \
         "$lib/pkgconfig/uiscsi-tape.pc" "$lib/cmake/uiscsi/uiscsiConfig.cmake" \
         "$prefix/include/uiscsi/session.hpp" "$prefix/include/uiscsi/version.hpp" \
         "$prefix/include/uiscsi/export.hpp" "$prefix/include/uiscsi/tape/drive.hpp"; do
  [ -e "$f" ] || fail "not installed: ${f#"$prefix"/}"
done
# Every installed header compiles on its own include path alone (no header reaches into src/ or
# the build tree): one translation unit that includes them all.
(cd "$prefix/include" && find uiscsi -name '*.hpp' | sort | sed 's/.*/#include <&>/') >"$work/all_headers.cpp"
[ "$(wc -l <"$work/all_headers.cpp")" -gt 20 ] || fail "too few headers installed"
"$cxx" -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I"$prefix/include" "$work/all_headers.cpp" \
  || fail "the installed headers do not compile alone"
soname=$(objdump -p "$lib/libuiscsi.so" | awk '/SONAME/ {print $2}')
[[ $soname =~ ^libuiscsi\.so\.[0-9]+(\.[0-9]+)?$ ]] || fail "libuiscsi.so SONAME is '$soname'"
echo "installed; SONAME $soname"

check_output() {  # the consumer's output, whichever way it was built
  local out=$1 how=$2
  grep -qx "uiscsi [0-9]*\.[0-9]*\.[0-9]*" <<<"$out" || fail "$how: no version line: $out"
  grep -qx "portal \[::1\]:3261 target iqn.2026-11.dev.uiscsi:disk lun 2 url iscsi://alice@\[::1\]:3261/iqn.2026-11.dev.uiscsi:disk/2" <<<"$out" \
    || fail "$how: wrong URL line: $out"
  ! grep -q "secretpw" <<<"$out" || fail "$how: password printed"
  echo "$how: ok ($(head -1 <<<"$out"))"
}

# 1 and 2: find_package. The build tree's RPATH finds the shared libraries.
for link in shared static; do
  cmake -S "$src/tests/package/consumer" -B "$work/cmake-$link" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_PREFIX_PATH="$prefix" -DLINK=$link >"$work/cmake-$link.log" 2>&1 \
    || { cat "$work/cmake-$link.log"; fail "find_package configure ($link)"; }
  cmake --build "$work/cmake-$link" >>"$work/cmake-$link.log" 2>&1 \
    || { cat "$work/cmake-$link.log"; fail "find_package build ($link)"; }
  out=$("$work/cmake-$link/consumer") || fail "find_package consumer ($link) exited $?"
  check_output "$out" "find_package $link"
done
# The shared build really uses the shared library, the static one does not. ldd's output is
# taken whole first: `ldd | grep -q` under pipefail fails when grep stops reading early (SIGPIPE).
deps=$(ldd "$work/cmake-shared/consumer")
grep -q "libuiscsi.so" <<<"$deps" || fail "shared consumer does not load libuiscsi.so: $deps"
deps=$(ldd "$work/cmake-static/consumer")
! grep -q "libuiscsi" <<<"$deps" || fail "static consumer loads libuiscsi: $deps"

# 3 and 4: pkg-config.
export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion uiscsi)" = "$(pkg-config --modversion uiscsi-tape)" ] || fail "pc versions differ"
# shellcheck disable=SC2046
"$cxx" -std=c++20 -o "$work/pc-shared" "$src/tests/package/consumer/consumer.cpp" \
  $(pkg-config --cflags --libs uiscsi-tape) -Wl,-rpath,"$lib" || fail "pkg-config shared build"
out=$("$work/pc-shared") || fail "pkg-config shared consumer exited $?"
check_output "$out" "pkg-config shared"
# --static lists the private dependencies too (libcrypto, -pthread); -l:libuiscsi*.a makes the
# linker take the archives although the shared libraries sit beside them.
static_libs=$(pkg-config --static --libs uiscsi-tape | sed -E 's/-l(uiscsi[a-z-]*)/-l:lib\1.a/g')
grep -q -- "-l:libuiscsi.a" <<<"$static_libs" || fail "unexpected pkg-config --static output: $static_libs"
grep -q -- "-lcrypto" <<<"$static_libs" || fail "pkg-config --static lacks libcrypto: $static_libs"
# shellcheck disable=SC2046,SC2086
"$cxx" -std=c++20 -o "$work/pc-static" "$src/tests/package/consumer/consumer.cpp" \
  $(pkg-config --cflags uiscsi-tape) $static_libs || fail "pkg-config static build"
deps=$(ldd "$work/pc-static")
! grep -q "libuiscsi" <<<"$deps" || fail "pkg-config static consumer loads libuiscsi: $deps"
out=$("$work/pc-static") || fail "pkg-config static consumer exited $?"
check_output "$out" "pkg-config static"

# The exported symbols. Mangled, each must be named in namespace uiscsi (a function or object
# _ZN6uiscsi..., or the typeinfo, vtable or thunk of such a class): std::forward<uiscsi::Command>
# demangles to a string starting with "uiscsi::" but is _ZSt7forward..., a std:: name. Demangled,
# without the parameter list (parameters may name a private pointer-to-implementation type),
# none may be internal.
mangled_public='^_Z(N[KRO]*|T[ISVT]N|Th[^_]*_N|Tv[^_]*_[^_]*_N)6uiscsi'
for so in libuiscsi.so libuiscsi-tape.so; do
  nm -D --defined-only "$lib/$so" | awk '{print $3}' >"$work/$so.mangled"
  total=$(wc -l <"$work/$so.mangled")
  [ "$total" -gt 0 ] || fail "$so exports nothing"
  foreign=$(grep -vE "$mangled_public" "$work/$so.mangled" || true)
  [ -z "$foreign" ] || fail "$so exports symbols outside namespace uiscsi:
$(head -20 <<<"$foreign" | c++filt)"
  nm -D --defined-only -C "$lib/$so" | awk '{$1 = ""; $2 = ""; sub(/^ +/, ""); print}' >"$work/$so.syms"
  sed -E 's/^(typeinfo name for |typeinfo for |vtable for |VTT for |(non-)?virtual thunk to )//; s/\(.*$//' \
    "$work/$so.syms" >"$work/$so.names"
  bad=$(grep -E 'uiscsi::(core|net|detail|target|tapesim|player|tcmu|scsi::detail|tape::detail)::|anonymous namespace|::Impl(::|$)' \
    "$work/$so.names" || true)
  [ -z "$bad" ] || fail "$so exports internal symbols:
$(head -20 <<<"$bad")"
  echo "$so: $total exported symbols, all in the public API"
done
for sym in 'uiscsi::version()' 'uiscsi::parse_iscsi_url(' 'uiscsi::Session::dial(' ; do
  grep -qF "$sym" "$work/libuiscsi.so.syms" || fail "libuiscsi.so does not export $sym"
done
grep -qF 'uiscsi::tape::Drive::open(' "$work/libuiscsi-tape.so.syms" \
  || fail "libuiscsi-tape.so does not export uiscsi::tape::Drive::open"
echo "package.install: all checks passed"
