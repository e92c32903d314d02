"""What the answer buttons and the journal cost: on the event loop per answer, on disk, and in the reports.

    python -m bench.feedback --size 10k [--repeat 5]

- per answer, on the event loop (bot.feedback.after_answer without Discord): the source note's
  translations (engine.translations) and the view with its buttons; the journal write only
  queues there, its caller-side cost is measured too;
- the journal's thread: questions written per second (WAL, synchronous=NORMAL);
- /unanswered: grouping N questions of the benchmark's question set (all languages) by similarity.

Every figure is the median of --repeat runs; the peers in the same run are the engine's own
answer time (what an answer costs anyway) for the per-answer figures.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from knowledge.indexing import build_engine


def median_us(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return 1e6 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="10k")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from bench.generate import REAL_CORPUS, ensure_corpus, parse_size
    from bot.catalog import bot_catalog
    from bot.discord_app.views import answer_view
    from bot.journal.reports import group_similar
    from bot.journal.store import Asked, Journal
    from knowledge.engine import EngineOptions

    corpus = ensure_corpus(parse_size(args.size))
    folders = [REAL_CORPUS] + ([corpus.root] if corpus else [])
    questions = [q["q"] for q in yaml.safe_load(corpus.questions.read_text("utf-8"))] if corpus else []
    engine = build_engine(folders, EngineOptions(workers=1))
    catalog = bot_catalog()
    results: dict[str, object] = {"size": args.size, "notes": engine.stats()["notes"], "repeat": args.repeat}

    answers = [a for a in (engine.ask(q) for q in questions[:300]) if a.answered and a.sources]
    paths = [a.sources[0].path for a in answers]
    started = time.perf_counter()
    engine.translations(paths[0])
    results["translations_first_call_ms"] = round(1000 * (time.perf_counter() - started), 2)  # builds the lookup

    def per_answer(fn) -> float:
        return statistics.median(median_us(lambda: [fn(a) for a in answers], 1) / len(answers)
                                 for _ in range(args.repeat))

    results["ask_us"] = round(per_answer(lambda a: engine.ask(a.question)), 1)
    results["translations_us"] = round(per_answer(lambda a: engine.translations(a.sources[0].path)), 2)
    results["view_us"] = round(per_answer(lambda a: answer_view(
        a, catalog, entry=1, asker=2, languages=engine.translations(a.sources[0].path), journal=True)), 1)

    with tempfile.TemporaryDirectory() as folder:
        journal = Journal.open(Path(folder) / "journal.sqlite3")
        count = 10_000
        now = time.time()
        rows = [Asked(i, now, "slash", "text", questions[i % len(questions)] if questions else "q", "en", i % 3 > 0,
                      guild_id=1, source_path="notes/x.md", source_title="X", answer_lang="en") for i in range(count)]
        queued, written = [], []
        for run in range(args.repeat):
            batch = [Asked(**{**r.__dict__, "id": run * count + r.id}) for r in rows]  # built before the clock
            started = time.perf_counter()
            futures = [journal.record(asked) for asked in batch]
            queued.append(time.perf_counter() - started)
            futures[-1].result()
            written.append(time.perf_counter() - started)
        results["journal_record_call_burst_us"] = round(1e6 * statistics.median(queued) / count, 2)
        results["journal_writes_per_s"] = round(count / statistics.median(written))
        # As questions really arrive (apart): the call alone, with the writer idle.
        calls = []
        for i, asked in enumerate(rows[:2000]):
            asked = Asked(**{**asked.__dict__, "id": 10 * count + i})
            started = time.perf_counter()
            future = journal.record(asked)
            calls.append(time.perf_counter() - started)
            future.result()
        results["journal_record_call_us"] = round(1e6 * statistics.median(calls), 2)
        journal.close()

    # /unanswered over N distinct wordings (its worst case: few repeats, so many groups). The
    # benchmark has 300 questions; passages' opening words (every language) stand in for the rest.
    openings = list(dict.fromkeys([" ".join(p.text.split()[:9])[:90] for note in engine.notes
                                   for p in note.passages if len(p.text) > 30]))
    for n in (1000, 3000):
        texts = (questions + openings[:: max(1, len(openings) // n)])[:n]
        results[f"group_{n}_ms"] = round(median_us(lambda texts=texts: group_similar(texts), args.repeat) / 1000, 1)
        results[f"group_{n}_groups"] = len(group_similar(texts))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
