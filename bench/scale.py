"""The real blog's size on one small server: cold build, state on disk, start from the cache, memory, speed.

    .venv/bin/python -m bench.scale --corpus gen45k,tldr-all,tldr10k [--busy] [--runs 1] [--peer tantivy]
    .venv/bin/python -m bench.scale --corpus gen1k,gen10k,gen45k            # the scaling table

Corpora: `genN` is `bench.generate --size N` (blog-sized notes remixed from the sample, with its
translation groups); `tldr-all` is the blog sample plus every tldr page in 40 languages (~38.6k
short notes); `tldr10k` the blog sample plus 10,000 tldr pages. Every step runs in a fresh process,
the way the bot and the command line run, with sentence vectors on:

  cold   build from the notes into an empty cache folder: time to the first answer, peak RSS of the
         process (its forked workers reported apart), then the time to finish writing the cache;
  disk   the cache folder's size;
  warm   a new process starting from that cache: time to the first answer, RSS after it, then every
         question (the dev questions, and the generated ones for genN) timed in process: p50, p95, p99.

`--busy` runs one CPU-bound process beside every step (a machine with other work on it). `--peer
tantivy` measures tantivy (bench.measure) on the same notes in the same run, as the reference.
Figures are medians over `--runs`. Writes bench/out/scale.json and the "Scale" section of
bench/results.md.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .generate import REAL_CORPUS, ensure_corpus, parse_size
from .scoring import DEV_QUESTIONS, load_questions

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "bench" / "out"
RESULTS_MD = ROOT / "bench" / "results.md"
SECTION = "## Scale (bench/scale.py)"
DEV2 = DEV_QUESTIONS.with_name("questions_dev2.yaml")


def corpus_of(name: str) -> tuple[list[Path], list[Path]]:
    """(folders, question files) of a corpus name."""
    if name.startswith("gen"):
        corpus = ensure_corpus(parse_size(name[3:]))
        assert corpus is not None
        return [corpus.root], [DEV_QUESTIONS, DEV2, corpus.questions]
    if name == "tldr-all":
        return [REAL_CORPUS, SHARED / "corpus" / "tldr-all"], [DEV_QUESTIONS, DEV2]
    if name == "tldr10k":
        return [REAL_CORPUS, SHARED / "corpus" / "tldr"], [DEV_QUESTIONS, DEV2]
    raise SystemExit(f"unknown corpus {name!r}")


# ---------------------------------------------------------------- one step, in its own process

def child(step: str, folders: list[Path], cache: Path, questions: list[Path]) -> dict[str, Any]:
    import psutil

    from knowledge.engine import EngineOptions
    from knowledge.indexing import build_engine

    started = time.perf_counter()
    engine = build_engine(folders, EngineOptions(cache_dir=cache))
    engine.ask("warm up: what is this?")
    ready_s = time.perf_counter() - started
    out: dict[str, Any] = {"step": step, "ready_s": ready_s, "notes": len(engine.notes),
                           "rows": int(engine.index.dense.rows.shape[0]) if engine.index.dense is not None else 0,
                           "passages": engine.index.passage_count,
                           "rss_ready_mb": psutil.Process().memory_info().rss / 2**20}
    if step == "cold":
        engine.wait_until_saved()
        out["saved_s"] = time.perf_counter() - started
    else:
        asked = [str(item["q"]).replace("\n", " ") for path in questions for item in load_questions(path)]
        times = []
        for question in asked:
            t = time.perf_counter()
            engine.ask(question)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out.update(questions=len(times), p50_ms=statistics.median(times), p95_ms=times[int(0.95 * (len(times) - 1))],
                   p99_ms=times[int(0.99 * (len(times) - 1))],
                   mean_ms=statistics.fmean(times), rss_after_questions_mb=psutil.Process().memory_info().rss / 2**20)
        engine.wait_until_saved()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["workers_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return out


def run_child(step: str, folders: list[Path], cache: Path, questions: list[Path]) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.scale", "--child", step, "--cache", str(cache),
               *(arg for f in folders for arg in ("--folder", str(f))),
               *(arg for q in questions for arg in ("--questions", str(q)))]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        raise RuntimeError(f"{step} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peer(name: str, folders: list[Path], questions: list[Path]) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.measure", "--engine", name, "--repeats", "1",
               *(arg for f in folders for arg in ("--folder", str(f)))]
    if len(questions) > 2:
        command += ["--generated", str(questions[2])]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed: {done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    latencies = sorted(result["latencies_ms"])
    return {"build_s": result["build_s"], "peak_rss_mb": result["peak_rss_mb"], "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[int(0.99 * (len(latencies) - 1))]}


@contextmanager
def busy(on: bool) -> Iterator[None]:
    """One CPU-bound process beside the measurement."""
    loop = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        yield
    finally:
        if loop is not None:
            loop.kill()
            loop.wait()


def measure(name: str, runs: int, on_busy: bool, peer_name: str | None, keep: Path | None = None
            ) -> dict[str, Any]:
    folders, questions = corpus_of(name)
    results: list[dict[str, Any]] = []
    for _ in range(runs):
        cache = Path(tempfile.mkdtemp(prefix="scale-cache-"))
        try:
            with busy(on_busy):
                cold = run_child("cold", folders, cache, questions)
                disk = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file()) / 2**20
                warm = run_child("warm", folders, cache, questions)
        finally:
            if keep is not None:
                shutil.rmtree(keep / name, ignore_errors=True)
                shutil.copytree(cache, keep / name)
            shutil.rmtree(cache, ignore_errors=True)
        results.append({"cold": cold, "disk_mb": disk, "warm": warm})
    row = {
        "corpus": name, "busy": on_busy, "runs": runs, "notes": results[0]["cold"]["notes"],
        "rows": results[0]["cold"]["rows"], "passages": results[0]["cold"]["passages"],
        "cold_build_s": _median(results, "cold", "ready_s"), "cold_saved_s": _median(results, "cold", "saved_s"),
        "cold_peak_rss_mb": _median(results, "cold", "peak_rss_mb"),
        "cold_workers_peak_mb": _median(results, "cold", "workers_peak_mb"),
        "disk_mb": statistics.median(r["disk_mb"] for r in results),
        "start_s": _median(results, "warm", "ready_s"), "start_rss_mb": _median(results, "warm", "rss_ready_mb"),
        "p50_ms": _median(results, "warm", "p50_ms"), "p95_ms": _median(results, "warm", "p95_ms"),
        "p99_ms": _median(results, "warm", "p99_ms"),
        "questions": results[0]["warm"]["questions"],
    }
    if peer_name:
        with busy(on_busy):
            row["peer"] = {"name": peer_name, **peer(peer_name, folders, questions)}
    return row


def _median(results: list[dict[str, Any]], step: str, key: str) -> float:
    return statistics.median(r[step][key] for r in results)


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| corpus | busy | notes | rows | cold build s | cache written s | peak RSS MB (workers) | disk MB | "
             "start s | RSS after start MB | p50 ms | p95 ms | p99 ms | tantivy build s / p50 ms | build ms per note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        p = r.get("peer")
        reference = f"{p['build_s']:.1f} / {p['p50_ms']:.2f}" if p else "–"
        p95 = f"{r['p95_ms']:.1f}" if "p95_ms" in r else "–"  # rows measured before p95 was
        lines.append(
            f"| {r['corpus']} | {'yes' if r['busy'] else 'no'} | {r['notes']:,} | {r['rows']:,} "
            f"| {r['cold_build_s']:.1f} "
            f"| {r['cold_saved_s']:.1f} | {r['cold_peak_rss_mb']:,.0f} ({r['cold_workers_peak_mb']:,.0f}) "
            f"| {r['disk_mb']:,.0f} | {r['start_s']:.2f} | {r['start_rss_mb']:,.0f} | {r['p50_ms']:.2f} "
            f"| {p95} | {r['p99_ms']:.1f} | {reference} "
            f"| {1000 * r['cold_build_s'] / r['notes']:.2f} |")
    return "\n".join(lines)


def write_results(rows: list[dict[str, Any]], command: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / "scale.json"
    kept = json.loads(store.read_text()) if store.exists() else []
    kept = [r for r in kept if (r["corpus"], r["busy"]) not in {(n["corpus"], n["busy"]) for n in rows}] + rows
    store.write_text(json.dumps(kept, indent=1))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    section = (f"{SECTION}\n\nCold build → first answer, the cache written, start from the cache → first answer, "
               f"in fresh processes with sentence vectors on (2 cores; medians of the runs; p50/p95/p99 over the dev "
               f"questions, and the generated ones for genN). Last run: `{command}` at {commit.strip()}.\n\n"
               f"{table(kept)}\n")
    text = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else ""
    text = text.split(SECTION)[0].rstrip() + "\n\n" + section
    RESULTS_MD.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="tldr10k", help="comma-separated: genN, tldr-all, tldr10k")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--busy", action="store_true", help="one CPU-bound process beside every step")
    parser.add_argument("--peer", default=None, help="tantivy: measured on the same notes in the same run")
    parser.add_argument("--keep", type=Path, default=None, help="copy each corpus's cache to KEEP/CORPUS (to profile)")
    parser.add_argument("--child", choices=("cold", "warm"), help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--questions", type=Path, action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.folder, args.cache, args.questions)))
        return 0
    rows = []
    for name in args.corpus.split(","):
        row = measure(name, args.runs, args.busy, args.peer, args.keep)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(table(rows))
    write_results(rows, "python -m bench.scale " + " ".join(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
