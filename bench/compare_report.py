#!/usr/bin/env python3
"""Markdown tables from the raw data of bench/compare.sh (one TSV line per run).

    python3 bench/compare_report.py RESULTS.tsv

Series: ub = uiscsi-bench, lp = libiscsi iscsi-perf, qi = qemu-img bench (libiscsi);
tgtd = tgtd, ut = uiscsi-target. Every figure is the median of the runs of a point; ratios are
ratios of medians.
"""

import csv
import statistics
import sys
from collections import defaultdict

BS_ORDER = {"4K": 4096, "8K": 8192, "16K": 16384, "32K": 32768, "64K": 65536,
            "128K": 131072, "256K": 262144, "512K": 524288, "1M": 1048576}


def bs_key(bs):
    if bs in BS_ORDER:
        return BS_ORDER[bs]
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(bs[:-1]) * mult[bs[-1]] if bs[-1] in mult else int(bs)


def load(path):
    runs = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            runs[(row["section"], row["series"], row["rw"], row["bs"], int(row["qd"]))].append(row)
    return runs


class Data:
    def __init__(self, runs):
        self.runs = runs

    def rows(self, series, rw, bs, qd):
        for (sec, ser, r, b, q), rows in self.runs.items():
            if ser == series and r == rw and b == bs and q == qd:
                return rows
        return []

    def med(self, series, rw, bs, qd, field="iops"):
        rows = self.rows(series, rw, bs, qd)
        vals = [float(r[field]) for r in rows if r[field] not in ("", "-")]
        return statistics.median(vals) if vals else None

    def spread(self, series, rw, bs, qd, field="iops"):
        rows = self.rows(series, rw, bs, qd)
        vals = [float(r[field]) for r in rows if r[field] not in ("", "-")]
        if len(vals) < 2:
            return ""
        m = statistics.median(vals)
        return f"±{100 * (max(vals) - min(vals)) / 2 / m:.0f}%" if m else ""

    def max_other(self, rw, bs, qd, series_list):
        vals = []
        for s in series_list:
            vals += [float(r["other_cpu"]) for r in self.rows(s, rw, bs, qd)]
        return max(vals) if vals else None

    def points(self, rw, series):
        pts = set()
        for (sec, ser, r, b, q) in self.runs:
            if r == rw and ser == series:
                pts.add((b, q))
        return sorted(pts, key=lambda p: (bs_key(p[0]), p[1]))


def fmt_rate(iops, bs):
    if iops is None:
        return "n/a"
    mib = iops * bs_key(bs) / 2**20
    if bs_key(bs) <= 8192:
        return f"{iops / 1000:.1f}k IOPS"
    return f"{mib:.0f} MiB/s"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r, goal=None):
    if r is None:
        return "n/a"
    text = f"{r:.2f}"
    if goal is not None:
        text += " ✔" if r >= goal else " ✘"
    return text


def ratio_matrix(d, rw_list, num, den, goal_of, title_rows):
    """A table of num/den ratios: rows = (rw, bs), columns = QDs."""
    qds = sorted({q for rw in rw_list for (_, q) in d.points(rw, num)})
    out = ["| workload | bs | " + " | ".join(f"QD{q}" for q in qds) + " |",
           "|---|---|" + "---|" * len(qds)]
    for rw in rw_list:
        for bs in sorted({b for (b, _) in d.points(rw, num)}, key=bs_key):
            cells = []
            for q in qds:
                r = ratio(d.med(num, rw, bs, q), d.med(den, rw, bs, q))
                cells.append(fmt_ratio(r, goal_of(rw, bs, q)))
            out.append(f"| {title_rows.get(rw, rw)} | {bs} | " + " | ".join(cells) + " |")
    return out


def detail_table(d, rw_list, num, den, num_name, den_name, cpu_field, cpu_name):
    out = [f"| workload | bs | QD | {num_name} | {den_name} | ratio | spread (num / den) | "
           f"p99 µs (uiscsi-bench) | {cpu_name} CPU % (num / den) | other CPU % (max) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for rw in rw_list:
        for bs, q in d.points(rw, num):
            a, b = d.med(num, rw, bs, q), d.med(den, rw, bs, q)
            p99 = None
            for s in (num, den):
                if s.startswith("ub"):
                    p99 = d.med(s, rw, bs, q, "p99_us")
            ca, cb = d.med(num, rw, bs, q, cpu_field), d.med(den, rw, bs, q, cpu_field)
            other = d.max_other(rw, bs, q, [num, den])
            out.append(
                f"| {rw} | {bs} | {q} | {fmt_rate(a, bs)} | {fmt_rate(b, bs)} | "
                f"{fmt_ratio(ratio(a, b))} | {d.spread(num, rw, bs, q)} / {d.spread(den, rw, bs, q)} | "
                f"{'' if p99 is None else f'{p99:.0f}'} | "
                f"{'' if ca is None else f'{ca:.0f}'} / {'' if cb is None else f'{cb:.0f}'} | "
                f"{'' if other is None else f'{other:.0f}'} |")
    return out


def target_cost_table(d, rw_list, ours, theirs):
    """Target CPU time per I/O (µs) from the target's CPU % and the IOPS of the same runs."""
    out = ["| workload | bs | QD | uiscsi-target CPU µs/IO | tgtd CPU µs/IO |", "|---|---|---|---|---|"]
    for rw in rw_list:
        for bs, q in d.points(rw, ours):
            vals = []
            for s in (ours, theirs):
                rows = d.rows(s, rw, bs, q)
                per = [float(r["target_cpu"]) / 100 / float(r["iops"]) * 1e6
                       for r in rows if float(r["iops"]) > 0]
                vals.append(f"{statistics.median(per):.1f}" if per else "n/a")
            out.append(f"| {rw} | {bs} | {q} | {vals[0]} | {vals[1]} |")
    return out


def main():
    d = Data(load(sys.argv[1]))
    out = []
    others = sorted(float(r["other_cpu"]) for rows in d.runs.values() for r in rows
                    if r["section"] != "iperf")
    if others:
        busy = sum(1 for o in others if o > 50)
        out += [f"Background load: unrelated processes used a median of "
                f"{statistics.median(others):.0f}% of one CPU during the runs (max {others[-1]:.0f}%); "
                f"{busy} of {len(others)} runs saw more than 50%. On 2 CPUs shared by client and "
                f"target, treat ratios within ±20% as noise when this is high.", ""]
    rows_title = {"read": "seq read", "randread": "rand read", "write": "seq write"}
    goals = []

    # a. initiator
    if d.points("read", "ub-tgtd"):
        out += ["## a. Initiator: uiscsi-bench vs libiscsi (iscsi-perf), both against tgtd", "",
                "Ratio uiscsi-bench / iscsi-perf (IOPS; the same as MiB/s at equal block size). "
                "Goal (issue 3): ≥ 1.0 at every point.", ""]
        out += ratio_matrix(d, ["read", "randread"], "ub-tgtd", "lp-tgtd",
                            lambda rw, bs, q: 1.0, rows_title)
        out += ["", "Medians (client CPU is the initiator process, % of one CPU):", ""]
        out += detail_table(d, ["read", "randread"], "ub-tgtd", "lp-tgtd", "uiscsi-bench",
                            "iscsi-perf", "client_cpu", "client")
        out.append("")
        met = missed = 0
        worst = None
        for rw in ("read", "randread"):
            for bs, q in d.points(rw, "ub-tgtd"):
                r = ratio(d.med("ub-tgtd", rw, bs, q), d.med("lp-tgtd", rw, bs, q))
                if r is None:
                    continue
                if r >= 1.0:
                    met += 1
                else:
                    missed += 1
                if worst is None or r < worst[0]:
                    worst = (r, rw, bs, q)
        if worst:
            goals.append(f"- Issue 3 (initiator ≥ 1.0× libiscsi, reads): met at {met} of "
                         f"{met + missed} points; lowest ratio {worst[0]:.2f} ({worst[1]} {worst[2]} "
                         f"QD{worst[3]}).")
    if d.points("write", "ub-tgtd"):
        out += ["### a. Writes: uiscsi-bench vs libiscsi (qemu-img bench), both against tgtd", "",
                "Sequential writes. qemu-img bench runs a fixed count sized to about the same time; "
                "its figure includes qemu's block layer over libiscsi.", ""]
        out += ratio_matrix(d, ["write"], "ub-tgtd", "qi-tgtd", lambda rw, bs, q: 1.0, rows_title)
        out += [""]
        out += detail_table(d, ["write"], "ub-tgtd", "qi-tgtd", "uiscsi-bench", "qemu-img bench",
                            "client_cpu", "client")
        out.append("")

    # b. target
    if d.points("read", "lp-ut"):
        def target_goal(rw, bs, q):
            if bs == "4K" and q == 16:
                return 1.5
            if bs in ("256K", "1M"):
                return 1.2
            return None
        out += ["## b. Target: iscsi-perf against uiscsi-target vs against tgtd", "",
                "Ratio uiscsi-target / tgtd with the same client (libiscsi iscsi-perf). Goals "
                "(issue 4): ≥ 1.5 at 4K QD16 (IOPS), ≥ 1.2 at 256K and 1M (MiB/s); ✔/✘ mark the "
                "points with a goal.", ""]
        out += ratio_matrix(d, ["read", "randread"], "lp-ut", "lp-tgtd", target_goal, rows_title)
        out += ["", "Medians (target CPU is the target process, all threads, % of one CPU):", ""]
        out += detail_table(d, ["read", "randread"], "lp-ut", "lp-tgtd", "→ uiscsi-target",
                            "→ tgtd", "target_cpu", "target")
        out += ["", "Target CPU time per command (median over runs):", ""]
        out += target_cost_table(d, ["read", "randread"], "lp-ut", "lp-tgtd")
        out.append("")
        for rw in ("read", "randread"):
            r = ratio(d.med("lp-ut", rw, "4K", 16), d.med("lp-tgtd", rw, "4K", 16))
            if r is not None:
                goals.append(f"- Issue 4, 4K QD16 {rows_title[rw]} IOPS ≥ 1.5× tgtd: "
                             f"{fmt_ratio(r)} ({fmt_rate(d.med('lp-ut', rw, '4K', 16), '4K')} vs "
                             f"{fmt_rate(d.med('lp-tgtd', rw, '4K', 16), '4K')}) — "
                             f"{'met' if r >= 1.5 else 'missed'}.")
        for bs in ("256K", "1M"):
            parts = []
            for q in sorted({q for (b, q) in d.points("read", "lp-ut") if b == bs}):
                r = ratio(d.med("lp-ut", "read", bs, q), d.med("lp-tgtd", "read", bs, q))
                if r is not None:
                    parts.append(f"QD{q} {r:.2f} {'✔' if r >= 1.2 else '✘'}")
            if parts:
                goals.append(f"- Issue 4, seq read {bs} MiB/s ≥ 1.2× tgtd: " + ", ".join(parts) + ".")
    if d.points("write", "qi-ut"):
        out += ["### b. Writes: qemu-img bench (libiscsi) against uiscsi-target vs against tgtd", ""]
        out += ratio_matrix(d, ["write"], "qi-ut", "qi-tgtd", lambda rw, bs, q: None, rows_title)
        out += [""]
        out += detail_table(d, ["write"], "qi-ut", "qi-tgtd", "→ uiscsi-target", "→ tgtd",
                            "target_cpu", "target")
        out.append("")

    # our whole stack
    if d.points("read", "ub-ut"):
        out += ["## Our stack end to end: uiscsi-bench → uiscsi-target vs iscsi-perf → tgtd", ""]
        out += ratio_matrix(d, ["read", "randread"], "ub-ut", "lp-tgtd", lambda rw, bs, q: None,
                            rows_title)
        out += [""]
        out += detail_table(d, ["read", "randread"], "ub-ut", "lp-tgtd", "ours → ours",
                            "libiscsi → tgtd", "client_cpu", "client")
        out.append("")
        if d.points("write", "ub-ut"):
            out += detail_table(d, ["write"], "ub-ut", "qi-tgtd", "ours → ours",
                                "qemu-img → tgtd", "client_cpu", "client")
            out.append("")

    # c. iperf3
    ip = [(s, d.med(s, "stream", "1M", n)) for s, n in (("iperf3-1", 1), ("iperf3-2", 2))]
    if any(v is not None for _, v in ip):
        out += ["## c. Ceiling: iperf3 over 127.0.0.1", "", "| streams | MiB/s | spread |",
                "|---|---|---|"]
        for s, n in (("iperf3-1", 1), ("iperf3-2", 2)):
            v = d.med(s, "stream", "1M", n)
            if v is not None:
                out.append(f"| {n} | {v:.0f} | {d.spread(s, 'stream', '1M', n)} |")
        out.append("")

    if goals:
        out += ["## Goals", ""] + goals + [""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
