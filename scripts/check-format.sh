#!/usr/bin/env bash
# Fails when a C++ file in the tree differs from .clang-format's layout.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.hpp' '*.h' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ -z "$files" ] && exit 0
if ! echo "$files" | xargs clang-format --dry-run --Werror 2>/tmp/uiscsi-format.log; then
  grep -E '^[^ ].*(warning|error):' /tmp/uiscsi-format.log | head -20
  echo "format check failed: run scripts/format.sh" >&2
  exit 1
fi
echo "format: $(echo "$files" | wc -l) files clean"
