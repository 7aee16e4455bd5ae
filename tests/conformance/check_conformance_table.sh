#!/bin/bash
# Keeps doc/conformance.md in step with the UNH-IOL conformance tests.
#
#   check_conformance_table.sh DOC TEST_BINARY...
#
# DOC holds one table per checklist ("### Initiator checklist", "### Target checklist") with a row
# per checklist line: | Line | Title | Status | Test | Notes |. Fails (exit 1, one line per
# problem) when:
#   - a table's line numbers are not exactly the checklist's (66 initiator, 82 target lines, in
#     the checklist's order; the lists below copy the UNH-IOL test plans' numbering);
#   - a status is not one of pass, N/A, pending;
#   - a "pass" row names a test the binaries do not have (or have only as DISABLED_);
#   - a row's test name does not carry its line number (Initiator_FFP_11_3_... for line 11.3);
#   - an N/A or pending row gives no reason in its notes;
#   - a test of the suites UnhInitiatorFfp / UnhTargetFfp is in no row.
# One awk pass does the checking (a loaded machine makes a fork per row slow).
set -u
doc=$1
shift
initiator_lines="1.1 2.1 2.2 3.1 3.2 3.3 4.1 5.1 6.1 7.1 8.1 8.2 8.3 9.1 10.1 10.2 11.1.1 11.1.2
11.2.1 11.2.2 11.3 11.4 12.1 12.2 12.3 12.4 13.1 13.2 14.1 14.2 15.1 15.2 15.3 16.1.1 16.1.2 16.2.1
16.2.2 16.2.3 16.2.4 16.3.1 16.4.1 16.4.2 16.4.3 16.4.4 16.4.5 16.4.6 16.5 16.6 17.1 18.1 18.2
18.3.1 18.3.2 18.4 18.5 19.1 19.2 19.3 19.4.1 19.4.2 19.4.3 19.5 20.1 20.2 20.3 20.4"
target_lines="1.1 1.2 1.3 2.1 3.1 4.1 5.1 6.1 7.1 7.2 8.1 8.2 9.1 9.2 9.3.1 9.3.2 9.3.3 9.4 9.5
10.1 11.1 11.2.1 11.2.2 11.2.3 11.3.1 11.3.2 11.3.3 11.4 11.5 12.1 12.2 12.3 12.4 13.1 13.2 13.3
14.1 14.2 14.3 15.1.1 15.1.2 15.1.3 15.1.4 15.1.5 15.1.6 15.2 15.3 16.1 16.2 16.3.1 16.3.2 16.3.3
16.3.4 16.3.5 16.3.6 16.3.7 16.4.1 16.4.2 16.5 17.1.1 17.1.2 17.2.1 17.2.2 17.3.1 17.3.2 17.3.3
17.3.4 17.3.5 17.4.1 17.4.2 17.5 17.6 17.7.1 17.7.2 17.7.3 17.8.1 17.8.2 17.8.3 18.1.1 18.2.1
18.2.2 19.1"

# Every test of the binaries as Suite.Name (DISABLED_ ones as such), one per line.
listing=$(mktemp)
trap 'rm -f "$listing"' EXIT
status=0
for bin in "$@"; do
  if ! "$bin" --gtest_list_tests --gtest_also_run_disabled_tests >>"$listing"; then
    echo "conformance table: $bin --gtest_list_tests failed"
    status=1
  fi
done

awk -v initiator_lines="$initiator_lines" -v target_lines="$target_lines" -v doc="$doc" '
  function trim(s) { gsub(/^[ `]+|[ `]+$/, "", s); return s }
  function fail(msg) { print "conformance table: " msg; problems++ }
  # The test listings: "Suite." lines, then "  Name" lines.
  FNR == NR {
    if ($0 ~ /^[^ ]/) { suite = $1; next }
    if ($0 ~ /^  /) { t = suite $1; exists[t] = 1; tests[++ntests] = t }
    next
  }
  $0 == "### Initiator checklist" { side = "Initiator"; next }
  $0 == "### Target checklist" { side = "Target"; next }
  /^### / { side = ""; next }
  side != "" && /^\| [0-9]/ {
    n = split($0, f, "|")
    line = trim(f[2]); status = trim(f[4]); test = trim(f[5]); notes = trim(f[6])
    got[side] = got[side] line " "
    suite = side == "Initiator" ? "UnhInitiatorFfp" : "UnhTargetFfp"
    if (test != "") named[test] = 1
    if (status == "N/A" || status == "pending") {
      if (notes == "") fail(side " " line " is " status " without a reason")
      if (status == "N/A") next
    } else if (status != "pass") {
      fail(side " " line " has status \"" status "\"")
    }
    want = suite "." side "_FFP_" line "_"
    gsub(/\./, "_", want); sub(/_/, ".", want)
    if (index(test, want) != 1) {
      fail(side " " line " names test \"" test "\", expected a name starting " want)
      next
    }
    if (status == "pass" && !(test in exists))
      fail(side " " line " is pass but no test " test " exists")
  }
  END {
    split(initiator_lines, il, /[ \n]+/); split(target_lines, tl, /[ \n]+/)
    want_i = ""; for (i = 1; i in il; i++) if (il[i] != "") want_i = want_i il[i] " "
    want_t = ""; for (i = 1; i in tl; i++) if (tl[i] != "") want_t = want_t tl[i] " "
    if (got["Initiator"] != want_i)
      fail("Initiator table lines are [" got["Initiator"] "], the checklist has [" want_i "]")
    if (got["Target"] != want_t)
      fail("Target table lines are [" got["Target"] "], the checklist has [" want_t "]")
    for (i = 1; i <= ntests; i++) {
      t = tests[i]
      if (t !~ /^Unh(Initiator|Target)Ffp\./) continue
      bare = t; sub(/\.DISABLED_/, ".", bare)
      if (!(bare in named)) fail("test " t " is in no row of the tables")
    }
    if (problems > 0) { print "conformance table: " problems " problem(s) in " doc; exit 1 }
    print "conformance table: " doc " agrees with the tests"
  }' "$listing" "$doc" || status=1
exit $status
