"""How long `python -m bot ask` takes over a big blog: without the cache, then from it.

    python -m bench.cli_start --size 10k --runs 3

Each run is a new process answering one question (`ask --json`), timed from start to exit.
"cold" writes the cache (the first run ever), "cached" starts from it (every later run),
"--no-cache" parses every note each time (what the command line did before it kept a cache).
Medians of --runs runs; the state folder is a fresh temporary one.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import ensure_corpus, parse_size

QUESTION = "does DeepSeek use vLLM?"


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", *args, QUESTION], env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="10k")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    corpus = ensure_corpus(parse_size(args.size))
    assert corpus is not None
    notes = ["--notes", str(corpus.root)]
    with tempfile.TemporaryDirectory(prefix="cli-start-") as state:
        env = {**os.environ, "XDG_STATE_HOME": state}
        fresh = [timed([*notes, "--no-cache"], env) for _ in range(args.runs)]
        cold = timed(notes, env)  # writes the cache (the process waits for the write before it exits)
        cached = [timed(notes, env) for _ in range(args.runs)]
        size = (Path(state) / "notes-bot" / "index" / "index.npz").stat().st_size
    print(f"{corpus.files} notes, ask --json, one question per process, median of {args.runs}:")
    print(f"  --no-cache       {statistics.median(fresh):6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in fresh)})")
    print(f"  first (cold)     {cold:6.2f} s  (writes a {size / 1e6:.0f} MB cache)")
    print(f"  from the cache   {statistics.median(cached):6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in cached)})")


if __name__ == "__main__":
    main()
