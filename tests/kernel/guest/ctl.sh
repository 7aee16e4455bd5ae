#!/bin/sh
# One control-channel request (run by `nc -ll -e` per connection, the socket on stdin/stdout):
# line 1 is a timeout in seconds, then the lines of a shell script up to a line UISCSI-CTL-END.
# The script runs from a file in /tmp (so values it holds never show in a process's argv),
# with stderr merged into stdout, under `timeout`; the reply ends with UISCSI-CTL-RC=<status>.
IFS= read -r t || exit 1
case "$t" in '' | *[!0-9]*) echo "UISCSI-CTL-RC=2"; exit 1 ;; esac
f=$(mktemp /tmp/ctl.XXXXXX)
while IFS= read -r l; do
  [ "$l" = UISCSI-CTL-END ] && break
  printf '%s\n' "$l"
done >"$f"
timeout "$t" sh "$f" </dev/null 2>&1
rc=$?
rm -f "$f"
echo "UISCSI-CTL-RC=$rc"
