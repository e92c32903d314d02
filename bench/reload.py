"""Start-up from the persistent index and incremental reloads, at one corpus size.

    python -m bench.reload --size 10k [--edits 5]

Copies the real blog plus the generated distractors (bench.generate) to a temporary folder,
builds once with a cache (cold), then measures in fresh processes: a start from the cache,
and in one process `refresh_engine(Engine)` with nothing changed and after editing one note
(median of --edits edits, each checked to answer from the edited text). A full cold build
in the same run is the peer the figures are compared with.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from knowledge.indexing import build_engine, refresh_engine


def child(folders: list[str], cache: str, edits: int, target: str) -> dict[str, object]:
    """One process: start from the cache, then refreshes. Returns the timings."""
    import resource

    from knowledge.engine import EngineOptions

    started = time.perf_counter()
    engine = build_engine(folders, EngineOptions(cache_dir=Path(cache)))
    start_s = time.perf_counter() - started
    engine.wait_until_saved()
    began = time.perf_counter()
    engine = refresh_engine(engine)
    unchanged_s = time.perf_counter() - began
    note = Path(target)
    original = note.read_text(encoding="utf-8")
    refreshes = []
    try:
        for i in range(edits):
            note.write_text(original + f"\n\nThe walrus gateway listens on port {7100 + i}.\n", encoding="utf-8")
            began = time.perf_counter()
            engine = refresh_engine(engine)
            refreshes.append(time.perf_counter() - began)
            answer = engine.ask("which port does the walrus gateway listen on?")
            if str(7100 + i) not in answer.text:
                raise SystemExit(f"refresh {i} did not answer from the edited note: {answer}")
    finally:
        note.write_text(original, encoding="utf-8")
    return {"start_s": start_s, "refresh_unchanged_s": unchanged_s, "refresh_edit_s": refreshes,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="10k")
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--starts", type=int, default=3, help="fresh processes starting from the cache")
    parser.add_argument("--child", nargs=4, metavar=("FOLDERS", "CACHE", "EDITS", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folders, cache, edits, target = args.child
        print(json.dumps(child(json.loads(folders), cache, int(edits), target)))
        return 0

    from bench.generate import REAL_CORPUS, ensure_corpus, parse_size
    from knowledge.engine import EngineOptions

    corpus = ensure_corpus(parse_size(args.size))
    with tempfile.TemporaryDirectory(prefix="notes-reload-") as tmp:
        root = Path(tmp)
        shutil.copytree(REAL_CORPUS, root / "real")
        folders = [str(root / "real")]
        if corpus is not None:  # size "real": the real blog alone
            shutil.copytree(corpus.root, root / "generated")
            folders.append(str(root / "generated"))
        target = str(next(iter(sorted((root / "real" / "notes").glob("*-en.md")))))
        began = time.perf_counter()
        cold = build_engine(folders, EngineOptions(cache_dir=root / "cache"))
        cold_s = time.perf_counter() - began
        cold.wait_until_saved()
        runs = []
        for _ in range(args.starts):
            done = subprocess.run([sys.executable, "-m", "bench.reload", "--child", json.dumps(folders),
                                   str(root / "cache"), str(args.edits), target],
                                  capture_output=True, text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    start = statistics.median(r["start_s"] for r in runs)
    unchanged = statistics.median(r["refresh_unchanged_s"] for r in runs)
    edit = statistics.median(t for r in runs for t in r["refresh_edit_s"])
    rss = statistics.median(r["rss_mb"] for r in runs)
    print(f"size {args.size}: cold build with cache {cold_s:.1f} s (the peer: a full build)")
    print(f"start from the cache   {start:.2f} s median of {len(runs)} processes "
          f"({start / cold_s:.0%} of the cold build)")
    print(f"refresh, nothing new   {unchanged * 1000:.0f} ms median")
    print(f"refresh after 1 edit   {edit * 1000:.0f} ms median of {len(runs) * args.edits} edits "
          f"({cold_s / edit:.0f}x faster than the cold build)")
    print(f"peak RSS of a process that starts from the cache and refreshes: {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
