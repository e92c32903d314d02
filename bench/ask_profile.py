"""Where a question's time goes at full size: cProfile of engine.ask over the dev questions.

    .venv/bin/python -m bench.ask_profile --cache DIR --folder NOTES [--folder NOTES] [--top 30]

Starts from an existing index cache (bench.scale --keep DIR), asks every dev question once to warm
up, then again under the profiler, and prints the per-question median and the top functions.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from pathlib import Path

from .scoring import DEV_QUESTIONS, load_questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--folder", type=Path, action="append", required=True)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    from knowledge.engine import EngineOptions
    from knowledge.indexing import build_engine

    engine = build_engine(args.folder, EngineOptions(cache_dir=args.cache))
    questions = [str(item["q"]) for path in (DEV_QUESTIONS, DEV_QUESTIONS.with_name("questions_dev2.yaml"))
                 for item in load_questions(path)]
    times = []
    for question in questions:
        started = time.perf_counter()
        engine.ask(question)
        times.append((time.perf_counter() - started) * 1000)
    profile = cProfile.Profile()
    profile.enable()
    for question in questions:
        engine.ask(question)
    profile.disable()
    print(f"{len(questions)} questions: p50 {statistics.median(times):.2f} ms, max {max(times):.1f} ms")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
