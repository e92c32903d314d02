"""Autocomplete latency: `Engine.suggest` for every keystroke of a few words, in process.

    python -m bench.autocomplete [--size real|1k|10k]

Issue 3 asks for under 100 ms per keystroke; the peer in the same run is a full `ask`.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from knowledge.indexing import build_engine

WORDS = ("deepseek vllm", "kafka consumer", "¿openai usa", "spring boot", "curl", "mysql restore", "git rebase")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="real")
    args = parser.parse_args()
    from bench.generate import REAL_CORPUS, ensure_corpus, parse_size

    corpus = ensure_corpus(parse_size(args.size))
    engine = build_engine([REAL_CORPUS] + ([corpus.root] if corpus else []))
    keystrokes = [text[:i] for text in WORDS for i in range(0, len(text) + 1)]
    suggest_ms, ask_ms = [], []
    for typed in keystrokes:
        began = time.perf_counter()
        engine.suggest(typed)
        suggest_ms.append(1000 * (time.perf_counter() - began))
        began = time.perf_counter()
        engine.ask(typed)
        ask_ms.append(1000 * (time.perf_counter() - began))
    suggest_ms.sort()
    print(f"size {args.size}: {len(keystrokes)} keystrokes; suggest p50 {statistics.median(suggest_ms):.2f} ms, "
          f"max {suggest_ms[-1]:.1f} ms; a full ask p50 {statistics.median(ask_ms):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
