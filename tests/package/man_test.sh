#!/usr/bin/env bash
# package.man: every installed program has a man page in doc/man, and the target's
# configuration file has one in section 5. Each page renders without a warning, through groff
# (-man -ww) and through man -l (--warnings). Every long option a program's --help lists is
# described in its page, so the pages cannot fall behind the programs; likewise every key the
# target's configuration parser reads (each quoted "key" in CONFIG_SOURCE, src/target/
# config_file.cpp) is in uiscsi-target.toml.5.
# Usage: man_test.sh MAN_DIR CONFIG_SOURCE PROGRAM...   (CONFIG_SOURCE "-": skip the key check)
set -euo pipefail
man_dir=$1 config_source=$2
shift 2
fail=0
err() { echo "FAIL: $*" >&2; fail=1; }

[ -f "$man_dir/uiscsi-target.toml.5" ] || err "no man page uiscsi-target.toml.5"
if [ "$config_source" != - ]; then
  keys=$(grep -oE '"[a-z][a-z0-9_]*"' "$config_source" | tr -d '"' | sort -u)
  [ "$(wc -w <<<"$keys")" -gt 20 ] || err "too few configuration keys found in $config_source"
  for key in $keys; do
    # In roff an underscore is written as is; the key must appear as a whole word.
    grep -qE "(^|[^a-z0-9_])${key}([^a-z0-9_]|$)" "$man_dir/uiscsi-target.toml.5" \
      || err "configuration key '$key' ($config_source) is not in uiscsi-target.toml.5"
  done
fi
for program in "$@"; do
  name=$(basename "$program")
  page=$man_dir/$name.1
  if [ ! -f "$page" ]; then
    err "$name has no man page ($page)"
    continue
  fi
  help=$("$program" --help 2>&1) || err "$name --help exited $?"
  # Long options in the help text; in roff they are written \-\-name.
  for opt in $(grep -oE '(^|[[:space:],])--[a-z][a-z0-9-]*' <<<"$help" | grep -oE -- '--[a-z0-9-]+' | sort -u); do
    [ "$opt" = "--help" ] && continue
    roff=${opt//-/\\-}
    grep -qF -- "$roff" "$page" || err "$name: $opt (from --help) is not in $name.1"
  done
done
for page in "$man_dir"/*.[1-8]; do
  out=$(groff -man -ww -z "$page" 2>&1) || err "groff failed on $page"
  [ -z "$out" ] || err "groff warnings for $(basename "$page"): $out"
  out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || err "man -l failed on $page"
  [ -z "$out" ] || err "man -l warnings for $(basename "$page"): $out"
done
[ "$fail" -eq 0 ] || exit 1
echo "package.man: $# programs, $(ls "$man_dir"/*.[1-8] | wc -l) pages, all render cleanly"
