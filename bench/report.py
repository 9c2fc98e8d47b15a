#!/usr/bin/env python3
"""Summarise a bench/parse-bench.sh run: checks, a Markdown table, the goals.

  report.py --run bench-data/runs/STAMP --data bench-data --bin PATH \
            --command "bench/parse-bench.sh" [--write BENCHMARKS.md]

Reads RUN/results.tsv (one row per timed run), RUN/loads.tsv, the tool outputs
in RUN/out/ and the generator manifests (*.counts.json), prints the results as
Markdown and, with --write, replaces the part of BENCHMARKS.md between
`<!-- parse-bench:begin -->` and `<!-- parse-bench:end -->` (the rest of the
file is left as it is).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys

BEGIN = "<!-- parse-bench:begin -->"
END = "<!-- parse-bench:end -->"
RSS_GOAL_MIB = 64
FLOOR = "libxml2 push parser alone (C)"
TOOL_ORDER = ["testbridge", "testbridge --jobs 1", "testbridge (shared Swift libraries)", "testbridge --format json",
              FLOOR, "xmllint --stream", "junitparser (etree)", "junitparser (lxml)"]


def sh(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def manifest_path(data: str, dataset: str) -> str:
    return os.path.join(data, dataset + (".xml" if dataset.startswith(("large-", "small-")) else "") + ".counts.json")


def dataset_bytes(data: str, dataset: str, manifest: dict) -> int:
    if "bytes" in manifest:
        return manifest["bytes"]
    total = 0
    for root, _dirs, files in os.walk(os.path.join(data, dataset)):
        total += sum(os.path.getsize(os.path.join(root, name)) for name in files)
    return total


def fmt_int(value: int) -> str:
    return f"{value:,}"


def fmt_mib(kb: float) -> str:
    return f"{kb / 1024:,.1f}"


def dataset_label(dataset: str, manifest: dict, size: int) -> str:
    mib = size / 1048576
    if manifest["mode"] == "large":
        return f"1 report, {mib:,.0f} MiB, {fmt_int(manifest['testcases'])} testcases"
    return f"{fmt_int(manifest['files'])} files, {mib:,.0f} MiB, {fmt_int(manifest['testcases'])} testcases"


# --- checks -------------------------------------------------------------------

SUMMARY_HEAD = re.compile(r"testbridge parse: ([\d,]+) reports?, ([\d,]+) testcases, ([\d,]+) tests")
SUMMARY_ROW = re.compile(r"^\s+(passed|failed|errors|skipped|flaky)\s+([\d,]+)\s*$", re.M)


def number(text: str) -> int:
    return int(text.replace(",", ""))


def check_summary(path: str, manifest: dict) -> str | None:
    text = open(path, encoding="utf-8").read()
    head = SUMMARY_HEAD.search(text)
    if not head:
        return f"{path}: no summary line"
    got = {"files": number(head[1]), "testcases": number(head[2]), "tests": number(head[3])}
    got.update({name: number(value) for name, value in SUMMARY_ROW.findall(text)})
    wrong = {k: (v, manifest[k]) for k, v in got.items() if manifest.get(k) != v}
    return f"{path}: got != expected {wrong}" if wrong else None


def check_junitparser(path: str, manifest: dict) -> str | None:
    try:
        got = json.loads(open(path, encoding="utf-8").read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return f"{path}: no output"
    want = {"files": manifest["files"], "testcases": manifest["testcases"],
            "failures": manifest["failure_elements"], "errors": manifest["errors"], "skipped": manifest["skipped"]}
    wrong = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    return f"{path}: got != expected {wrong}" if wrong else None


def check_json(path: str, manifest: dict) -> str | None:
    document = json.load(open(path, encoding="utf-8"))
    totals, tests = document["totals"], document["tests"]
    got = {k: totals[k] for k in ("testcases", "tests", "passed", "failed", "errors", "skipped", "flaky")}
    got["listed tests"] = len(tests)
    got["with_test_id"] = sum(test["testomatio_id"] is not None for test in tests)
    got["with_jira"] = sum(bool(test["jira"]) for test in tests)
    want = dict(manifest, **{"listed tests": manifest["tests"]})
    wrong = {k: (v, want[k]) for k, v in got.items() if want.get(k) != v}
    return f"{path}: got != expected {wrong}" if wrong else None


# --- report -------------------------------------------------------------------


def machine(bin_path: str, shared_bin: str, data: str) -> list[tuple[str, str]]:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    os_name = next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME")), "?")
    linked = next((l.split("=>")[1].split("(")[0].strip() for l in sh("ldd", bin_path).splitlines() if "libxml2" in l), "?")
    xmllint = sh("sh", "-c", "xmllint --version 2>&1 | head -1")
    deb = sh("dpkg-query", "-W", "-f", "${Version}", "libxml2") or sh("sh", "-c", "dpkg-query -W -f '${Version}' 'libxml2*' | head -c 40")
    versions = []
    for variant in ("etree", "lxml"):
        python = os.path.join(data, f"venv-{variant}", "bin", "python")
        if os.path.exists(python):
            versions.append(f"{variant}: " + sh(python, "-c", (
                "import sys, importlib.metadata as m; v = lambda p: m.version(p);\n"
                "out = ['Python ' + sys.version.split()[0], 'junitparser ' + v('junitparser')]\n"
                "try: out.append('lxml ' + v('lxml'))\nexcept Exception: pass\nprint(', '.join(out))")))
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores (`nproc`: {sh('nproc')})"),
        ("memory", f"{mem_kb / 1048576:.1f} GiB"),
        ("kernel", f"`{os.uname().release}` ({os_name})"),
        ("Swift", sh("sh", "-c", "swift --version 2>&1 | head -1")),
        ("libxml2", f"{xmllint.replace('xmllint: using ', '')} (Debian package {deb}); testbridge links `{linked}`"),
        ("testbridge build", "`swift build -c release --static-swift-stdlib` (the README's release build; "
                             f"{os.path.getsize(bin_path) / 1048576:.0f} MiB); the shared-libraries row: "
                             f"`swift build -c release` ({len([l for l in sh('ldd', shared_bin).splitlines() if 'swift' in l])} "
                             "Swift libraries loaded at start)"),
        ("junitparser", "; ".join(versions) or "?"),
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--shared-bin", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--started", default="")
    parser.add_argument("--finished", default="")
    parser.add_argument("--write")
    args = parser.parse_args(argv)

    rows = list(csv.DictReader(open(os.path.join(args.run, "results.tsv")), delimiter="\t"))
    loads = list(csv.DictReader(open(os.path.join(args.run, "loads.tsv")), delimiter="\t"))
    datasets = list(dict.fromkeys(row["dataset"] for row in rows))
    manifests = {d: json.load(open(manifest_path(args.data, d))) for d in datasets}
    sizes = {d: dataset_bytes(args.data, d, manifests[d]) for d in datasets}

    # Checks: exit codes, every testbridge summary and junitparser output, the JSON.
    problems = [f"{r['tool']} on {r['dataset']} rep {r['rep']} exited {r['status']}" for r in rows if r["status"] != "0"]
    checked = 0
    out = os.path.join(args.run, "out")
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        match = re.match(r"(testbridge(?:-jobs1|-shared)?|junitparser-\w+)-(.+)-\d+\.txt$", name)
        if match:
            manifest = manifests[match[2]]
            problem = (check_summary if match[1].startswith("testbridge") else check_junitparser)(path, manifest)
            checked += 1
            if problem:
                problems.append(problem)
    small = os.path.join(out, "small-1mb.json")
    if os.path.exists(small):
        problem = check_json(small, json.load(open(manifest_path(args.data, "small-1mb"))))
        checked += 1
        if problem:
            problems.append(problem)

    # Medians per tool and dataset.
    stats: dict[tuple[str, str], dict] = {}
    for (tool, dataset) in dict.fromkeys((r["tool"], r["dataset"]) for r in rows):
        mine = [r for r in rows if r["tool"] == tool and r["dataset"] == dataset and r["status"] == "0"]
        if not mine:
            continue
        stats[(tool, dataset)] = {
            "runs": len(mine),
            "wall": statistics.median(float(r["wall_s"]) for r in mine),
            "cpu": statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in mine),
            "rss": max(int(r["rss_kb"]) for r in mine),
            "estimated": False,
        }
    # junitparser on a report it was not run on: scaled from the 100 MB figures.
    for dataset in datasets:
        if not dataset.startswith("large-") or dataset == "large-100mb":
            continue
        for tool in ("junitparser (etree)", "junitparser (lxml)"):
            base = stats.get((tool, "large-100mb"))
            if base and (tool, dataset) not in stats:
                scale = sizes[dataset] / sizes["large-100mb"]
                stats[(tool, dataset)] = dict(base, wall=base["wall"] * scale, cpu=base["cpu"] * scale,
                                              rss=base["rss"] * scale, runs=0, estimated=True)

    def ratio(tool: str, dataset: str, key: str = "wall") -> float | None:
        mine, base = stats.get((tool, dataset)), stats.get(("xmllint --stream", dataset))
        return mine[key] / base[key] if mine and base and base[key] > 0 else None

    def cpu_note(tool: str, dataset: str) -> str:
        r = ratio(tool, dataset, "cpu")
        return f"; in CPU time {r:.2f}×" if r is not None else ""

    lines = [
        "| tool | dataset | runs | wall s (median) | CPU s (median) | peak RSS MiB (max) | wall × xmllint |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for dataset in datasets:
        for tool in TOOL_ORDER:
            s = stats.get((tool, dataset))
            if not s:
                continue
            mark = "≈ " if s["estimated"] else ""
            runs = "scaled" if s["estimated"] else str(s["runs"])
            r = ratio(tool, dataset)
            ratio_text = f"{mark}{r:.2f}×" if r is not None else "—"
            lines.append(
                f"| {tool} | {dataset} | {runs} | {mark}{s['wall']:.2f} | {mark}{s['cpu']:.2f} | "
                f"{mark}{fmt_mib(s['rss'])} | {ratio_text} |")
    table = "\n".join(lines)

    # Goals.
    large = [d for d in datasets if d.startswith("large-")]
    biggest = max(large, key=lambda d: sizes[d]) if large else None
    many = next((d for d in datasets if d.startswith("many-")), None)
    goals = []

    def per_repetition(tool: str, dataset: str) -> str:
        """The speed-up within each repetition (the two runs minutes apart, not medians of different runs)."""
        def walls(name: str) -> dict[str, float]:
            return {r["rep"]: float(r["wall_s"]) for r in rows
                    if r["tool"] == name and r["dataset"] == dataset and r["status"] == "0"}
        theirs, mine = walls(tool), walls("testbridge")
        ratios = [theirs[rep] / mine[rep] for rep in theirs if rep in mine and mine[rep] > 0]
        if len(ratios) < 2:
            return ""
        return f"; per repetition {min(ratios):.1f}× to {max(ratios):.1f}×"

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    if biggest and ("testbridge", biggest) in stats:
        tb = stats[("testbridge", biggest)]
        goals.append(f"- Peak RSS on the {sizes[biggest] / 1048576:,.0f} MiB report at most {RSS_GOAL_MIB} MiB: "
                     f"{verdict(tb['rss'] / 1024 <= RSS_GOAL_MIB)} ({fmt_mib(tb['rss'])} MiB, "
                     f"{tb['rss'] / 1024 / RSS_GOAL_MIB:.2f}× the limit).")
        r = ratio("testbridge", biggest)
        if r is not None:
            goals.append(f"- Wall time at most 1.0× xmllint's on that report: {verdict(r <= 1.0)} "
                         f"({r:.2f}×: {tb['wall']:.2f} s against {stats[('xmllint --stream', biggest)]['wall']:.2f} s"
                         f"{cpu_note('testbridge', biggest)}).")
        for tool in ("junitparser (etree)", "junitparser (lxml)"):
            jp = stats.get((tool, biggest))
            if jp:
                speedup = jp["wall"] / tb["wall"]
                how = "scaled from the 100 MB run" if jp["estimated"] else f"measured, {jp['runs']} run(s)"
                goals.append(f"- At least 20× faster than {tool}: {verdict(speedup >= 20)} "
                             f"({speedup:.1f}× on the {sizes[biggest] / 1048576:,.0f} MiB report, {how}; "
                             f"{jp['wall']:.1f} s against {tb['wall']:.2f} s; in CPU time {jp['cpu'] / tb['cpu']:.1f}×"
                             f"{per_repetition(tool, biggest)}).")
        floor = stats.get((FLOOR, biggest))
        one_thread = stats.get(("testbridge --jobs 1", biggest))
        if floor and one_thread:
            goals.append(f"- For comparison on {biggest}: libxml2's push parser with callbacks that do nothing "
                         f"(`bench/libxml2_floor.c`, one thread) takes {floor['cpu']:.2f} s of CPU; "
                         f"`testbridge --jobs 1` {one_thread['cpu']:.2f} s, so its own work costs "
                         f"{round(one_thread['cpu'], 2) - round(floor['cpu'], 2):.2f} s on top of the library's.")
    for dataset in (biggest, many):
        tb = stats.get(("testbridge", dataset)) if dataset else None
        for tool in ("testbridge --jobs 1", "testbridge (shared Swift libraries)"):
            other = stats.get((tool, dataset)) if tb else None
            if other:
                goals.append(f"- For comparison on {dataset}: `{tool}` takes {other['wall']:.2f} s "
                             f"({ratio(tool, dataset):.2f}× xmllint) and {fmt_mib(other['rss'])} MiB.")
    if many and ("testbridge", many) in stats:
        r = ratio("testbridge", many)
        tb = stats[("testbridge", many)]
        if r is not None:
            goals.append(f"- {fmt_int(manifests[many]['files'])} small files in one call at most 1.5× xmllint's time: "
                         f"{verdict(r <= 1.5)} ({r:.2f}×: {tb['wall']:.2f} s against "
                         f"{stats[('xmllint --stream', many)]['wall']:.2f} s{cpu_note('testbridge', many)}: testbridge "
                         f"parses on {os.cpu_count()} cores, xmllint on one).")
        for tool in ("junitparser (etree)", "junitparser (lxml)"):
            jp = stats.get((tool, many))
            if jp:
                goals.append(f"- For comparison on the small files: {tool} takes {jp['wall'] / tb['wall']:.1f}× testbridge's time.")
    if biggest and sizes[biggest] < 1000 * 1048576:
        goals.append("- (The goals are stated for a 1 GB report and 10,000 files; this run used smaller data.)")

    dataset_lines = [f"- `{d}`: {dataset_label(d, manifests[d], sizes[d])}" for d in datasets]
    load_lines = [f"| {l['dataset']} | {l['when']} | {l['load1']} {l['load5']} {l['load15']} | {l['waited_s']} |" for l in loads]
    during = [float(r["load1"]) for r in rows]
    text = "\n".join([
        BEGIN,
        "## Latest run",
        "",
        f"Command (from the repository root): `{args.command}`",
        "",
        f"Date: {args.started} to {args.finished} (UTC).",
        "",
        "| machine | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in machine(args.bin, args.shared_bin, args.data)],
        "",
        "Datasets (generated by `bench/generate_reports.py`, seed 20250601):",
        "",
        *dataset_lines,
        "",
        table,
        "",
        "`≈`: not run on that report; the 100 MB figures scaled by size. Wall time is the median of the runs,",
        "peak RSS the largest of them, CPU = user + system. Ratios compare medians on the same dataset.",
        "",
        "### Goals",
        "",
        *goals,
        "",
        "### Checks",
        "",
        (f"All {checked} outputs checked agree with the generator's counts (testcases, logical tests, "
         "passed/failed/errors/skipped/flaky; junitparser's failures/errors/skipped; JSON ids and Jira keys), "
         "and every run exited 0." if not problems else
         "Problems:\n\n" + "\n".join(f"- {p}" for p in problems)),
        "",
        "### Load average",
        "",
        "| before dataset | time | load 1/5/15 min | waited s |",
        "| --- | --- | --- | ---: |",
        *load_lines,
        "",
        f"1-minute load right after each timed run: min {min(during):.2f}, median {statistics.median(during):.2f}, "
        f"max {max(during):.2f} (the benchmark's own process counts for about 1.0 of it).",
        END,
    ])
    print(text)
    if args.write:
        old = open(args.write, encoding="utf-8").read() if os.path.exists(args.write) else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
        if BEGIN in old and END in old:
            new = old[: old.index(BEGIN)] + text + old[old.index(END) + len(END):]
        else:
            new = old.rstrip("\n") + "\n\n" + text + "\n"
        with open(args.write, "w", encoding="utf-8") as f:
            f.write(new)
        print(f"\n(written to {args.write})", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
