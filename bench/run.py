"""Benchmark: our engine against bm25s, SQLite FTS5 (trigram) and tantivy, on the same notes.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python -m bench.run --sizes real,1k,10k [--engines ours,bm25s,fts5,tantivy] [--runs 3]

For each size, the corpus is the real blog (../shared/corpus/blog) plus that many generated
distractor notes (bench.generate; "real" adds none), and the questions are the dev questions
plus questions cut from generated notes. Every engine is measured in a fresh process
(bench.measure), `--runs` times, interleaved, and the table shows the median of the runs:
build time from markdown, peak RSS, latency p50/p99 over all questions, and the dev rates as
shared/eval/score.py computes them. Writes bench/out/runs.csv (every run),
bench/out/results.csv and bench/out/results.png (latest figures per size and engine, merged
with earlier invocations) and bench/results.md (the same table, for the repository).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from .generate import REAL_CORPUS, ensure_corpus, parse_size, size_label

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
RESULTS_MD = ROOT / "bench" / "results.md"
ENGINES = ("ours", "dense", "bm25s", "fts5", "tantivy")
METHOD_NOTES = (
    "bm25s's build includes about 6 s of numba compilation, paid by its first question in every fresh process.",
    "Peers answer with their best passage's note; bm25s and tantivy index the same tokens (casefolded words, "
    "CJK as character pairs), FTS5 its own trigrams; see bench/README.md.",
)
TARGETS_10K = {"p50_ms": 10.0,
               "p99_ms": 50.0}  # issue 8 (with sentence vectors; issue 4 had build ≤ 10 s, 600 MB, 2 ms, 20 ms)


@dataclass
class Row:
    """Median figures of one engine on one corpus size."""

    size: str
    files: int
    engine: str
    passages: int
    runs: int
    build_s: float
    index_s: float | None  # peers only: ours loads inside build_engine
    load_s: float | None
    peak_rss_mb: float
    rss_built_mb: float
    workers_peak_mb: float | None  # the largest peak of one worker process (ours reads notes in several)
    p50_ms: float
    p99_ms: float
    found: float
    rejected: float
    language: float
    contains: float
    gen_found: float | None
    wall_s: float  # one run of the measuring process, start to exit
    measured: str  # when the invocation started, ISO date
    command: str
    source: str  # the knowledge commit measured


# ------------------------------------------------------------------ environment
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from .peers import bm25s_backend

    found = []
    for name in ("bm25s", "tantivy", "numpy"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} missing")
    found[0] += f" ({bm25s_backend()} backend)"
    return ", ".join(found)


def git(*args: str) -> bytes | None:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False)
    return done.stdout if done.returncode == 0 else None


def snapshot_knowledge(mode: str, into: Path) -> str:
    """Freeze the engine's code for this invocation: others may be editing knowledge/ while the
    benchmark runs, and every run of every size must measure the same code. "head" exports the
    last commit, "worktree" copies the files as they are now. Returns what was measured."""
    commit = (git("log", "-1", "--format=%h", "HEAD", "--", "knowledge") or b"?").decode().strip()  # last to touch it
    if mode == "head":
        archive = git("archive", "HEAD", "knowledge")
        if archive is None:
            raise SystemExit("git archive failed: is this a git checkout?")
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(into, filter="data")
        described = f"knowledge/ at commit {commit}"
    else:
        shutil.copytree(ROOT / "knowledge", into / "knowledge", ignore=shutil.ignore_patterns("__pycache__"))
        dirty = git("status", "--porcelain", "--", "knowledge")
        described = f"knowledge/ at {commit}" + (" with uncommitted changes" if dirty else "")
    (into / "bench").symlink_to(ROOT / "bench")
    return described


def count_notes(folders: list[Path]) -> int:
    return sum(1 for folder in folders for _ in folder.rglob("*.md"))


# ------------------------------------------------------------------ running
def run_child(engine: str, folders: list[Path], generated: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    """One engine in a fresh process, importing the frozen knowledge/ of `args.code`."""
    command = [sys.executable, "-m", "bench.measure", "--engine", engine, "--repeats", str(args.repeats)]
    for folder in folders:
        command += ["--folder", str(folder)]
    if generated:
        command += ["--generated", str(generated)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=args.code, capture_output=True, text=True, timeout=args.timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "error": f"timed out after {args.timeout:.0f} s"}
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"engine": engine, "error": f"exit {done.returncode}: {done.stderr.strip()[-800:]}"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(result["knowledge_file"]).is_relative_to(args.code):
        return {"engine": engine, "error": f"measured {result['knowledge_file']}, not the frozen copy"}
    return {**result, "wall_s": wall}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def summarise(size: str, files: int, runs: list[dict[str, Any]], args: argparse.Namespace) -> Row:
    def median(key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)

    def optional(key: str) -> float | None:
        return None if runs[0][key] is None else median(key)

    first = runs[0]
    return Row(
        size=size, files=files, engine=first["engine"], passages=int(first["passages"]), runs=len(runs),
        build_s=median("build_s"), index_s=optional("index_s"), load_s=optional("load_s"),
        peak_rss_mb=median("peak_rss_mb"), rss_built_mb=median("rss_built_mb"),
        workers_peak_mb=optional("workers_peak_mb"),
        p50_ms=statistics.median(percentile(r["latencies_ms"], 50) for r in runs),
        p99_ms=statistics.median(percentile(r["latencies_ms"], 99) for r in runs),
        # rates too: tantivy's multi-threaded indexing breaks ties between equal passages
        # (a code block copied into every translation) differently from one run to the next
        found=median("found"), rejected=median("rejected"), language=median("language"),
        contains=median("contains"), gen_found=optional("gen_found"),
        wall_s=median("wall_s"), measured=args.started, command=args.command, source=args.source,
    )


def bench_size(size: str, engines: list[str], args: argparse.Namespace) -> list[Row]:
    files = parse_size(size)
    started = time.perf_counter()
    corpus = ensure_corpus(files, args.base)
    print(f"[{size_label(files)}] corpus ready in {time.perf_counter() - started:.1f} s"
          + (f": {corpus.root}" if corpus else ""), flush=True)
    folders = [REAL_CORPUS] + ([corpus.root] if corpus else [])
    notes = count_notes(folders)
    runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in engines}
    for attempt in range(args.runs):  # interleaved: a slow minute of the machine hits every engine
        for engine in engines:
            result = run_child(engine, folders, corpus.questions if corpus else None, args)
            print(f"[{size_label(files)}] run {attempt + 1}/{args.runs} {engine}: " + brief(result), flush=True)
            append_run_csv(size_label(files), result)
            if "error" not in result:
                runs[engine].append(result)
    return [summarise(size_label(files), notes, r, args) for r in runs.values() if r]


def brief(result: dict[str, Any]) -> str:
    if "error" in result:
        return "FAILED " + result["error"]
    latencies = result["latencies_ms"]
    return (f"build {result['build_s']:.1f} s, peak {result['peak_rss_mb']:.0f} MB, "
            f"p50 {percentile(latencies, 50):.2f} ms, p99 {percentile(latencies, 99):.1f} ms, "
            f"found {result['found']:.3f}, wall {result['wall_s']:.0f} s")


# ------------------------------------------------------------------ output
def append_run_csv(size: str, result: dict[str, Any]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "runs.csv"
    row = {"when": dt.datetime.now().isoformat(timespec="seconds"), "size": size,
           **{k: v for k, v in result.items() if k != "latencies_ms"}}
    if "latencies_ms" in result:
        row["p50_ms"] = percentile(result["latencies_ms"], 50)
        row["p99_ms"] = percentile(result["latencies_ms"], 99)
    names = ["when", "size", "engine", "error", "passages", "load_s", "index_s", "build_s", "rss_loaded_mb",
             "rss_built_mb", "peak_rss_mb", "workers_peak_mb", "p50_ms", "p99_ms", "found", "rejected", "language",
                 "contains",
             "gen_found", "questions", "wall_s"]
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)


def merge_results(rows: list[Row]) -> list[Row]:
    """Latest row per (size, engine): this invocation's rows replace earlier ones, others stay."""
    path = OUT / "results.csv"
    merged: dict[tuple[str, str], Row] = {}
    if path.exists():
        with path.open(newline="") as f:
            for raw in csv.DictReader(f):
                row = row_from_csv(raw)
                merged[(row.size, row.engine)] = row
    for row in rows:
        merged[(row.size, row.engine)] = row
    order = {engine: i for i, engine in enumerate(ENGINES)}
    result = sorted(merged.values(), key=lambda r: (r.files, order.get(r.engine, 99)))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[fl.name for fl in fields(Row)])
        writer.writeheader()
        writer.writerows(asdict(r) for r in result)
    return result


def row_from_csv(raw: dict[str, str]) -> Row:
    values: dict[str, Any] = {}
    for fl in fields(Row):
        text = raw.get(fl.name, "")
        if fl.type == "int":
            values[fl.name] = int(text)
        elif fl.type == "float":
            values[fl.name] = float(text)
        elif fl.type.startswith("float | None"):
            values[fl.name] = float(text) if text else None
        else:
            values[fl.name] = text
    return Row(**values)


def table(rows: list[Row]) -> str:
    head = ["size", "files", "passages", "engine", "build s", "index s", "peak RSS MB", "worker peak MB",
            "p50 ms", "p99 ms",
            "found", "rejected", "language", "gen found", "runs"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.size, f"{r.files:,}", f"{r.passages:,}", r.engine, f"{r.build_s:.1f}", optional(r.index_s, ".1f"),
                 f"{r.peak_rss_mb:,.0f}", optional(r.workers_peak_mb, ",.0f"), ms(r.p50_ms), ms(r.p99_ms),
                     f"{r.found:.3f}",
                 f"{r.rejected:.3f}", f"{r.language:.3f}", optional(r.gen_found, ".3f"),
                 str(r.runs)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def optional(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def distractor_line(rows: list[Row]) -> str:
    """Issue 4: our found rate on the dev questions must not drop when 10k distractors are added."""
    ours = {r.size: r for r in rows if r.engine == "ours"}
    if "real" not in ours or "10k" not in ours:
        return "Distractors: run sizes `real` and `10k` to compare our found rate with and without them."
    alone, crowded = ours["real"].found, ours["10k"].found
    verdict = "no drop" if crowded >= alone else f"DROP of {alone - crowded:.3f}"
    return (f"Distractors: our found rate on the dev questions is {alone:.3f} on the real corpus alone "
            f"and {crowded:.3f} with 10k generated notes added ({verdict}).")


def target_lines(rows: list[Row], limit_mb: float) -> list[str]:
    lines = []
    for r in rows:
        if r.engine == "ours" and r.size == "10k":
            missed = [f"{k} {getattr(r, k):.1f} > {v:g}" for k, v in TARGETS_10K.items() if getattr(r, k) > v]
            lines.append("Targets at 10k (issue 8: p50 ≤ 10 ms, p99 ≤ 50 ms): "
                         + ("all met." if not missed else "missed: " + ", ".join(missed) + "."))
        if r.peak_rss_mb > limit_mb:
            lines.append(f"{r.engine} at {r.size}: peak RSS {r.peak_rss_mb:,.0f} MB is over {limit_mb:,.0f} MB.")
    big = [r for r in rows if r.engine == "ours" and r.files >= 50_000]
    for r in big:
        lines.append(f"Ours at {r.size} ({r.files:,} files): built in {r.build_s:.0f} s, one measuring run "
                     f"took {r.wall_s:.0f} s, peak RSS {r.peak_rss_mb:,.0f} MB.")
    return lines


def chart(rows: list[Row], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display here
    import matplotlib.pyplot as plt

    sizes = sorted({(r.files, r.size) for r in rows})
    engines = [e for e in ENGINES if any(r.engine == e for r in rows)]
    metrics = [("build_s", "build from markdown (s); x: size, notes", True), ("peak_rss_mb", "peak RSS (MB)", True),
               ("found", "found rate, dev questions", False), ("p50_ms", "latency p50 (ms)", True),
               ("p99_ms", "latency p99 (ms)", True), ("rejected", "rejected rate, dev questions", False)]
    fig, grid = plt.subplots(2, 3, figsize=(13, 7.5))
    axes = grid.flatten()
    width = 0.8 / max(1, len(engines))
    for ax, (key, label, log) in zip(axes, metrics):
        for i, engine in enumerate(engines):
            values = [next((getattr(r, key) for r in rows if r.engine == engine and r.size == s), np.nan)
                      for _, s in sizes]
            values = [np.nan if v is None else v for v in values]
            ax.bar(np.arange(len(sizes)) + i * width, values, width, label=engine)
        if key in TARGETS_10K:
            ax.axhline(TARGETS_10K[key], color="grey", linestyle=":", linewidth=1, label="target at 10k")
        ax.set_xticks(np.arange(len(sizes)) + width * (len(engines) - 1) / 2, [f"{s}\n{f:,}" for f, s in sizes])
        ax.set_title(label, fontsize=10)
        if log:
            ax.set_yscale("log")
        else:
            ax.set_ylim(0, 1)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.suptitle("\n".join(textwrap.wrap(title, 150)), fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 1))  # room for the legend below the panels
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_markdown(rows: list[Row], notes: list[str]) -> str:
    first: dict[tuple[str, str], str] = {}  # (command, code) → when it started
    for r in rows:
        first[(r.command, r.source)] = min(r.measured, first.get((r.command, r.source), r.measured))
    commands = sorted((when, command, source) for (command, source), when in first.items())
    text = "\n".join([
        "# Benchmark: our engine against bm25s, SQLite FTS5 (trigram) and tantivy",
        "",
        "Generated by `bench/run.py`; do not edit by hand. Sizes are generated distractor notes added to the",
        "real blog corpus (`real` = the 228 real notes alone). Figures are medians of `runs` fresh processes;",
        "latency is per question (dev + generated questions, each the median of its repeats), in process;",
        "found/rejected/language are `shared/eval/score.py`'s rates on the dev questions (peers never say",
        "\"I don't know\": their rejected rate counts questions that matched nothing); gen found is the",
        "found rate on questions cut from generated notes (hard: other distractors remix the same real",
        "sentences). All engines run on the same 2 cores, one at a time.",
        "Build is from markdown to ready; for a peer, index s is the part after loading the notes (the",
        "engine's own loader, knowledge.notes + grouping, whose time is the rest); ours loads inside its build.",
        "",
        table(rows),
        "",
        *[f"- {line}" for line in notes],
        "",
        "Measured with:",
        *[f"- {when}: `{command}` ({source})" for when, command, source in commands],
        "",
    ])
    RESULTS_MD.write_text(text, "utf-8")
    return text


# ------------------------------------------------------------------ command line
def measure_all(args: argparse.Namespace, engines: list[str]) -> tuple[list[Row], str]:
    args.command = "python -m bench.run " + shlex.join(sys.argv[1:])
    args.started = dt.datetime.now().isoformat(timespec="minutes")
    with tempfile.TemporaryDirectory(prefix="bench-code-") as frozen:
        args.source = snapshot_knowledge(args.code, Path(frozen))
        args.code = Path(frozen)
        about = f"{machine()}; {versions()}; {args.source}"
        print(about, flush=True)
        rows: list[Row] = []
        for size in args.sizes.split(","):
            rows += bench_size(size.strip(), engines, args)
    print("\n" + table(rows))
    return rows, about


def report(rows: list[Row], about: str, limit_mb: float) -> None:
    merged = merge_results(rows)
    notes = [f"Machine: {about}.", distractor_line(merged), *target_lines(merged, limit_mb), *METHOD_NOTES]
    chart(merged, OUT / "results.png", about)
    write_markdown(merged, notes)
    print("\n".join(notes))
    print(f"\nwrote {OUT / 'results.csv'}, {OUT / 'results.png'}, {RESULTS_MD}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="real,1k,10k", help="comma-separated: real, 1k, 10k, 50k or numbers")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of " + ",".join(ENGINES))
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per engine and size (median)")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the questions in each process")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed to one measuring process")
    parser.add_argument("--max-rss-gb", type=float, default=4.0, help="flag engines whose peak RSS exceeds it")
    parser.add_argument("--base", type=Path, default=None, help="generated corpora (default $TMPDIR/notes-bench)")
    parser.add_argument("--code", choices=("worktree", "head"), default="worktree",
                        help="measure knowledge/ as it is now (copied at start) or as last committed")
    parser.add_argument("--report", action="store_true",
                        help="measure nothing: rewrite the chart and results.md from bench/out/results.csv")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engines: {', '.join(unknown)}")
    rows, about = ([], f"{machine()}; {versions()}") if args.report else measure_all(args, engines)
    report(rows, about, args.max_rss_gb * 1024)


if __name__ == "__main__":
    main()
