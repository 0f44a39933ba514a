#!/usr/bin/env python3
"""Writes BENCHMARKS.md from criterion's results of one tools/bench/run.sh run.

Reads every `<criterion dir>/**/new/benchmark.json` (group and function names) with its
`estimates.json` (median and its 95% confidence interval) written after the run started, the
peak-RSS lines of the rss target, and the machine description that run.sh gathered.

usage: collect.py --since EPOCH --out FILE --machine FILE --rss FILE [--note TEXT] [--mode M]
                  [--remains FILE]
                  CRITERION_DIR...
"""

import argparse
import json
import os
import sys

# (group name after "<backend>/", row label, target of ours/raw as text, Diesel's group when
# Diesel has no group of that name)
WORKLOADS = [
    ("trivial query, 1 row", "trivial query, 1 row", "≤ 1.15 t / ≤ 1.05 u", None),
    ("trivial query, 10k rows", "trivial query, 10k rows", "≤ 1.15 t / ≤ 1.05 u", None),
    ("medium query 10k, load_joined", "medium query 10k, `load_joined`", "≤ 1.2", None),
    (
        "medium query 10k, load (selectin)",
        "medium query 10k, `load` (selectin) ²",
        "≤ 1.2",
        "medium query 10k, load_joined",
    ),
    ("insert 1 row", "insert 1 row ³", "≤ 1.2", None),
    ("insert 100 rows", "insert 100 rows ³", "≤ 1.2", None),
    ("associations users-posts-comments", "associations users → posts → comments", "≤ 1.2", None),
    (
        "load 1000, change one column each, commit",
        "load 1,000, change one column each, commit",
        "≤ 1.2",
        None,
    ),
    ("add 100 users x 10 posts, commit", "add 100 users × 10 posts, commit", "≤ 1.2", None),
]

BACKENDS = [("sqlite", "SQLite (in memory)"), ("postgres", "PostgreSQL (loopback, pinned)")]


def load_results(dirs, since):
    """{(group, function): (median ns, ci low, ci high)} of results newer than `since`."""
    out = {}
    for root in dirs:
        for path, _dirs, files in os.walk(root):
            if os.path.basename(path) != "new" or "benchmark.json" not in files:
                continue
            est_path = os.path.join(path, "estimates.json")
            if not os.path.exists(est_path) or os.path.getmtime(est_path) < since:
                continue
            with open(os.path.join(path, "benchmark.json")) as f:
                bench = json.load(f)
            with open(est_path) as f:
                est = json.load(f)
            median = est["median"]
            ci = median["confidence_interval"]
            key = (bench["group_id"], bench.get("function_id") or "")
            out[key] = (median["point_estimate"], ci["lower_bound"], ci["upper_bound"])
    return out


def fmt_time(ns):
    if ns is None:
        return "–"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}"


def table(results, backend):
    lines = [
        "| workload | raw | ours tracked | ours untracked | Diesel | tracked / raw "
        "| untracked / raw | tracked / Diesel | untracked / Diesel | target ours / raw "
        "| CI ± ¹ |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    missing = []
    for group, label, target, diesel_group in WORKLOADS:
        g = f"{backend}/{group}"
        cells = {}
        for fn in ["raw", "orm tracked", "orm untracked"]:
            cells[fn] = results.get((g, fn))
        dg = f"{backend}/{diesel_group or group}"
        cells["diesel"] = results.get((dg, "diesel"))
        for fn in ["raw", "orm tracked", "diesel"]:
            if cells[fn] is None:
                missing.append(f"{g} / {fn}")
        med = {k: (v[0] if v else None) for k, v in cells.items()}
        noise = [
            (v[2] - v[1]) / 2 / v[0] * 100 for v in cells.values() if v is not None and v[0] > 0
        ]
        noise_txt = f"{max(noise):.0f}%" if noise else "–"
        lines.append(
            f"| {label} | {fmt_time(med['raw'])} | {fmt_time(med['orm tracked'])} "
            f"| {fmt_time(med['orm untracked'])} | {fmt_time(med['diesel'])} "
            f"| {ratio(med['orm tracked'], med['raw'])} | {ratio(med['orm untracked'], med['raw'])} "
            f"| {ratio(med['orm tracked'], med['diesel'])} "
            f"| {ratio(med['orm untracked'], med['diesel'])} | {target} | {noise_txt} |"
        )
    return lines, missing


def rss_table(path):
    peaks = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and parts[0] == "rss":
                    fields = dict(p.split("=", 1) for p in parts[3:] if "=" in p)
                    peaks[(parts[1], parts[2])] = int(fields.get("peak_kib", "0"))
    lines = [
        "| backend | raw | ours untracked | ours tracked | untracked / raw | tracked / raw "
        "| target |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, name in BACKENDS:
        raw = peaks.get((backend, "raw"))
        unt = peaks.get((backend, "untracked"))
        tra = peaks.get((backend, "tracked"))

        def mib(k):
            return "–" if k is None else f"{k / 1024:.1f} MiB"

        lines.append(
            f"| {name} | {mib(raw)} | {mib(unt)} | {mib(tra)} | {ratio(unt, raw)} "
            f"| {ratio(tra, raw)} | ≤ 1.2 |"
        )
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--since", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--rss", required=True)
    ap.add_argument("--note", default="")
    ap.add_argument("--mode", default="full")
    ap.add_argument("--remains", default="",
                    help="a Markdown file appended as is: what remains above target, and why")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()

    results = load_results(args.dirs, args.since)
    with open(args.machine) as f:
        machine = f.read().strip()

    out = [
        "# Benchmarks: raw drivers, this ORM and Diesel on Diesel's workloads",
        "",
        "Written by `tools/bench/run.sh` (do not edit by hand; rerun it). Diesel's own benchmark "
        "workloads (`diesel_bench` in the Diesel repository: its schema, data, sizes and "
        "queries) plus the two unit-of-work workloads of issue 11, run side by side: the raw "
        "driver written the fastest honest way (`benches/benches/diesel_*.rs`), this ORM through "
        "its documented API, tracked and untracked (same files, `workloads/mod.rs`), and Diesel "
        "2.3 from crates.io (`peers/`). Medians per iteration of a workload; ratios below 1 mean "
        "this ORM is faster.",
        "",
    ]
    if args.note:
        out += [f"**{args.note}**", ""]
    out += ["## Machine and run", "", machine, f"- mode: {args.mode}", ""]
    all_missing = []
    for backend, name in BACKENDS:
        lines, missing = table(results, backend)
        all_missing += missing
        out += [f"## {name}", ""] + lines + [""]
    out += [
        "1. Noise: the half width of criterion's 95% confidence interval of the median, as a "
        "share of the median, the widest of the row's cells. On a machine shared with other work "
        "the spread from run to run can be wider than that: compare ratios within one run.",
        "2. Diesel has no selectin form of the medium query: its column repeats its LEFT JOIN.",
        "3. Writes: the ORM's only mode is its session (the tracked column). The raw and Diesel "
        "inserts, as in Diesel's benchmark, read no generated keys back; the ORM's do.",
        "",
        "Workloads: trivial query = `SELECT id, name, hair_color FROM users` over 1 or 10,000 "
        "rows; medium query = 10,000 users (every other one `black`), `users LEFT JOIN posts "
        "WHERE hair_color = 'black'` (Diesel's data has no posts here, so 5,000 rows with none); "
        "insert = 1 or 100 users in one statement (the table grows across iterations, as in "
        "Diesel's); associations = every user (9 on SQLite, 100 on PostgreSQL, as Diesel's), "
        "their 10 posts each and 10 comments per post, by one query per level; load 1,000 / "
        "change / commit = every user's `hair_color` changed and written back in one "
        "transaction (raw: a prepared UPDATE per row; Diesel: `update(find(id)).set(..)` per "
        "row); add 100 users × 10 posts = new users with their new posts in one transaction "
        "(raw and Diesel: one multi-row INSERT … RETURNING id, name for the users, one "
        "multi-row INSERT for the posts; the ORM: `add` each user with its posts, `commit`).",
        "",
        "## Peak RSS reading 100,000 rows",
        "",
        "`cargo bench -p orm-benches --bench rss -- <backend> <mode>`, one process per "
        "measurement: the peak resident set (`VmHWM`) with the rows (and the session) alive, "
        "the seeded database included (in the process for SQLite).",
        "",
    ]
    out += rss_table(args.rss)
    out += [
        "",
        "The raw PostgreSQL reader streams the rows (`query_raw`), the way to read a large "
        "result in little memory; the timed raw reads above buffer them (`query`), which is "
        "faster with client and server on one CPU.",
    ]
    out += [""]
    if args.remains:
        with open(args.remains) as f:
            out += [f.read().strip(), ""]
    if all_missing:
        out += ["Missing results (a failed or skipped bench): " + "; ".join(all_missing), ""]
    with open(args.out, "w") as f:
        f.write("\n".join(out))
    if all_missing:
        print("missing: " + "; ".join(all_missing), file=sys.stderr)


if __name__ == "__main__":
    main()
