#!/usr/bin/env python3
"""Markdown tables from the raw rows of bench/tape_compare.sh.

    python3 bench/tape/tape_report.py RESULTS.tsv [--goal 0.60] [--read-ahead 8]

Rows: one per measured pass (bench/tape/bench_common.hpp), plus iperf3 rows (client iperf3).
Every figure is the median over the rounds of a point; ratios are ratios of medians. The goal
(issue: "tape read reaches at least 60% of iperf3 loopback throughput") is judged on our driver
with read-ahead against our target, per record size.
"""

import argparse
import csv
import os
import statistics
import sys
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from compare_report import bs_key, fmt_ratio, ratio  # noqa: E402  (bench/compare_report.py)


def load(path):
    points = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            key = (row["client"], row["target"], row["op"], row["record"], row["setting"])
            points[key].append(row)
    return points


def median(rows, field):
    vals = [float(r[field]) for r in rows if r[field] not in ("", "-") and float(r[field]) >= 0]
    return statistics.median(vals) if vals else None


def largest(rows, field):
    vals = [float(r[field]) for r in rows if r[field] not in ("", "-") and float(r[field]) >= 0]
    return max(vals) if vals else None


def spread(rows):
    vals = [float(r["mib_s"]) for r in rows]
    if len(vals) < 2:
        return ""
    m = statistics.median(vals)
    return f"±{100 * (max(vals) - min(vals)) / 2 / m:.0f}%" if m else ""


def mib(kib):
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def pct(v):
    return "n/a" if v is None else f"{v:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--goal", type=float, default=0.60)
    ap.add_argument("--read-ahead", default="8")
    args = ap.parse_args()
    points = load(args.raw)

    iperf_rows = [r for k, rows in points.items() if k[0] == "iperf3" for r in rows]
    iperf = median(iperf_rows, "mib_s")
    records = sorted({k[3] for k in points if k[0] != "iperf3"}, key=bs_key)

    def med(client, target, op, record, setting):
        rows = points.get((client, target, op, record, setting), [])
        return median(rows, "mib_s")

    out = []
    ra = f"ra{args.read_ahead}"
    iperf_text = f"{iperf:.0f} MiB/s" if iperf else "n/a"
    out.append(f"iperf3 over 127.0.0.1, one stream: **{iperf_text}** (median of "
               f"{len(iperf_rows)} runs{', ' + spread(iperf_rows) if spread(iperf_rows) else ''}).")
    out.append("")
    out.append(f"**Goal**: tape read through our stack (uiscsi::tape::Drive -> uiscsi-target) "
               f"≥ {args.goal:.2f} x iperf3.")
    out.append("")
    out.append(f"| record | read, read-ahead 0 | / iperf3 | read, {ra} | / iperf3 | goal |")
    out.append("|---|---|---|---|---|---|")
    verdicts = []
    for rec in records:
        a = med("uiscsi", "uiscsi-target", "read", rec, "ra0")
        b = med("uiscsi", "uiscsi-target", "read", rec, ra)
        rb = ratio(b, iperf)
        ok = rb is not None and rb >= args.goal
        verdicts.append(ok)
        out.append(f"| {rec} | {a or 0:.0f} MiB/s | {fmt_ratio(ratio(a, iperf))} | "
                   f"{b or 0:.0f} MiB/s | {fmt_ratio(rb, args.goal)} | "
                   f"{'pass' if ok else 'FAIL'} |")
    out.append("")
    out.append(f"Goal met at {sum(verdicts)} of {len(verdicts)} record sizes.")
    out.append("")

    def matrix(title, op, columns):
        present = [(name, key) for name, key in columns
                   if any(med(*key[:2], op, rec, key[2]) is not None for rec in records)]
        out.append(f"**{title}** (MiB/s, median; in brackets: / iperf3)")
        out.append("")
        out.append("| record | " + " | ".join(name for name, _ in present) + " |")
        out.append("|---|" + "---|" * len(present))
        for rec in records:
            cells = []
            for _, (client, target, setting) in present:
                v = med(client, target, op, rec, setting)
                cells.append("n/a" if v is None else f"{v:.0f} ({fmt_ratio(ratio(v, iperf))})")
            out.append(f"| {rec} | " + " | ".join(cells) + " |")
        out.append("")

    matrix("Sequential read", "read", [
        ("uiscsi → ut, ra0", ("uiscsi", "uiscsi-target", "ra0")),
        (f"uiscsi → ut, {ra}", ("uiscsi", "uiscsi-target", ra)),
        ("libiscsi → ut, QD1", ("libiscsi", "uiscsi-target", "qd1")),
        ("libiscsi → ut, QD4", ("libiscsi", "uiscsi-target", "qd4")),
        ("libiscsi → tgtd, QD1", ("libiscsi", "tgtd", "qd1")),
        ("libiscsi → tgtd, QD4", ("libiscsi", "tgtd", "qd4")),
        ("uiscsi → tgtd, ra0", ("uiscsi", "tgtd", "ra0")),
        (f"uiscsi → tgtd, {ra}", ("uiscsi", "tgtd", ra)),
    ])
    wb = sorted({k[4] for k in points if k[0] == "uiscsi" and k[2] == "write" and k[4] != "wb0"})
    matrix("Sequential write", "write", [
        ("uiscsi → ut, wb0", ("uiscsi", "uiscsi-target", "wb0")),
        *[(f"uiscsi → ut, {w}", ("uiscsi", "uiscsi-target", w)) for w in wb],
        ("libiscsi → ut, QD1", ("libiscsi", "uiscsi-target", "qd1")),
        ("libiscsi → tgtd, QD1", ("libiscsi", "tgtd", "qd1")),
        ("uiscsi → tgtd, wb0", ("uiscsi", "tgtd", "wb0")),
    ])

    out.append("**Every point**: spread = ±half the range over the rounds; client peak + = how far "
               "the client's RSS rose above its value at the start of the pass (largest over the "
               "rounds); target RSS = at the end of the pass (largest); CPU in % of one CPU "
               "(medians): client, target, everything else on the machine.")
    out.append("")
    out.append("| client → target | op | record | setting | MiB/s | spread | client peak + MiB | "
               "target RSS MiB | target peak MiB | CPU client / target / other | errors |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for key in sorted((k for k in points if k[0] != "iperf3"),
                      key=lambda k: (k[0], k[1], k[2], bs_key(k[3]), k[4])):
        rows = points[key]
        client, target, op, rec, setting = key
        errors = sum(int(r["errors"]) for r in rows)
        out.append(
            f"| {client} → {target} | {op} | {rec} | {setting} | {median(rows, 'mib_s'):.0f} | "
            f"{spread(rows)} | {mib(largest(rows, 'client_peak_growth_kib'))} | "
            f"{mib(largest(rows, 'target_rss_kib'))} | {mib(largest(rows, 'target_peak_kib'))} | "
            f"{pct(median(rows, 'client_cpu'))} / {pct(median(rows, 'target_cpu'))} / "
            f"{pct(median(rows, 'other_cpu'))} | {errors} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
