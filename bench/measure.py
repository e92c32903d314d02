"""One engine, measured alone in this process (bench.run starts one per engine and run).

    .venv/bin/python -m bench.measure --engine ours --folder DIR [--folder DIR] \
        [--generated QUESTIONS.yaml] [--repeats 3]

Prints one JSON object: build seconds (for a peer also its load and index parts), RSS after
building and peak RSS of this process, latency of every question (median of the repeats) and
the dev rates. A fresh process per engine keeps one engine's peak memory out of another's.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from .peers import ENGINES, PEERS, Contender, DenseOnly, Ours, Peer, load_passages
from .scoring import DEV_QUESTIONS, Item, load_questions, rates

# Built means ready to answer: the first question pays lazy set-up (our detector and catalogs,
# bm25s's numba compilation), so it is asked inside the timed build, not among the questions.
WARM_UP = "warm up: what is this?"


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def workers_peak_mb() -> float | None:
    """The largest peak of the processes this one started and waited for (our build's workers)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return peak or None


def build(engine: str, folders: list[Path]) -> tuple[Contender, dict[str, float | None]]:
    """The engine ready to answer, and where the time went. Ours builds from the folders as
    the bot does (loading included, and nothing loaded before it, so its peak RSS is its own);
    a peer is handed the passages that the same loader produced, and both steps are timed."""
    started = time.perf_counter()
    if engine in ("ours", "dense"):
        contender: Contender = Ours(folders) if engine == "ours" else DenseOnly(folders)
        contender.answer(WARM_UP)
        return contender, {"build_s": time.perf_counter() - started, "load_s": None, "index_s": None,
                           "rss_loaded_mb": None}
    passages = load_passages(folders)
    load_s = time.perf_counter() - started
    rss_loaded = rss_mb()
    started = time.perf_counter()
    contender = Peer(PEERS[engine](passages))
    contender.answer(WARM_UP)
    index_s = time.perf_counter() - started
    return contender, {"build_s": load_s + index_s, "load_s": load_s, "index_s": index_s,
                       "rss_loaded_mb": rss_loaded}


def ask_all(contender: Contender, questions: list[str], repeats: int) -> tuple[list[Any], list[float]]:
    """First pass's answers, and each question's median latency (ms) over the passes."""
    answers: list[Any] = []
    times: list[list[float]] = [[] for _ in questions]
    for attempt in range(repeats):
        for i, question in enumerate(questions):
            started = time.perf_counter()
            answer = contender.answer(question)
            times[i].append((time.perf_counter() - started) * 1000)
            if attempt == 0:
                answers.append(answer)
    return answers, [statistics.median(t) for t in times]


def measure(engine: str, folders: list[Path], dev: list[Item], generated: list[Item], repeats: int) -> dict[str, Any]:
    contender, figures = build(engine, folders)
    rss_built = rss_mb()
    items = dev + generated
    questions = [str(item["q"]).replace("\n", " ") for item in items]
    answers, latencies = ask_all(contender, questions, repeats)
    replies = [contender.reply(q, a) for q, a in zip(questions, answers)]
    dev_rates = rates(dev, replies[: len(dev)])
    gen_found = rates(generated, replies[len(dev):])["found"] if generated else None
    import knowledge

    return {
        "engine": engine,
        "knowledge_file": knowledge.__file__,  # bench.run checks it measured the copy it froze
        "passages": contender.passage_count(),
        **figures,
        "rss_built_mb": rss_built,
        "peak_rss_mb": peak_rss_mb(),
        "workers_peak_mb": workers_peak_mb(),
        "latencies_ms": latencies,
        **dev_rates,
        "gen_found": gen_found,
        "questions": len(questions),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", required=True, choices=ENGINES)
    parser.add_argument("--folder", type=Path, action="append", required=True)
    parser.add_argument("--dev", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--generated", type=Path, default=None, help="generated questions (bench.generate)")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the questions")
    args = parser.parse_args()
    generated = load_questions(args.generated) if args.generated else []
    result = measure(args.engine, args.folder, load_questions(args.dev), generated, args.repeats)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
