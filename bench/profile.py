"""Where our engine spends its time: cProfile of build_engine and of engine.ask at one size.

    .venv/bin/python -m bench.profile --size 10k [--top 25]

Profiles the working tree's knowledge/ (run it from the repository root), in one process (no
workers, so that the profile shows the work, not the wait for it), on the real corpus
plus the generated distractors, asking the dev and generated questions once each. Prints the
top entries by cumulative and by own time, and writes them to bench/out/profile-<size>.txt.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path

from .generate import REAL_CORPUS, ensure_corpus, parse_size, size_label
from .scoring import DEV_QUESTIONS, load_questions

OUT = Path(__file__).resolve().parent / "out"


def top(profile: cProfile.Profile, sort: str, count: int) -> str:
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.strip_dirs().sort_stats(sort).print_stats(count)
    return stream.getvalue()


def profile_size(files: int, count: int) -> str:
    from knowledge.engine import EngineOptions
    from knowledge.indexing import build_engine

    corpus = ensure_corpus(files)
    folders = [REAL_CORPUS] + ([corpus.root] if corpus else [])
    questions = [str(q["q"]) for q in load_questions(DEV_QUESTIONS)]
    questions += [str(q["q"]) for q in load_questions(corpus.questions)] if corpus else []

    building = cProfile.Profile()
    started = time.perf_counter()
    # One process: with worker processes, this one's profile would show only the wait for them.
    engine = building.runcall(build_engine, folders, EngineOptions(workers=1))
    build_s = time.perf_counter() - started
    engine.ask("warm up: what is this?")  # lazy set-up is not a question's cost

    asking = cProfile.Profile()
    started = time.perf_counter()
    for question in questions:
        asking.runcall(engine.ask, question)
    ask_ms = (time.perf_counter() - started) * 1000 / len(questions)

    return "\n".join([
        f"# {size_label(files)}: {engine.stats()}",
        f"# build_engine {build_s:.1f} s under the profiler; ask {ask_ms:.2f} ms per question "
        f"({len(questions)} questions, profiler overhead included)",
        "## build_engine by cumulative time", top(building, "cumulative", count),
        "## build_engine by own time", top(building, "tottime", count),
        "## engine.ask by cumulative time", top(asking, "cumulative", count),
        "## engine.ask by own time", top(asking, "tottime", count),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="10k")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    files = parse_size(args.size)
    report = profile_size(files, args.top)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"profile-{size_label(files)}.txt"
    path.write_text(report, "utf-8")
    print(report)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
