"""Where "not sure" and did-you-mean draw their lines, measured on the dev questions over the blog.

    .venv/bin/python -m bench.outcomes [--notes ../shared/corpus/blog]

One engine, every question of questions_dev.yaml and questions_dev2.yaml searched once; then, for
each candidate `not_sure_confidence`, what score.py would report as reached (answered right, or
the right note offered) and how many unanswerable questions would get an offer; and, for each
relevance floor of the suggestions (a share of the best note's score, an absolute score), whether
declined answerable questions keep the right note and how many titles unanswerable ones get.
Nothing here changes the engine: the figures justify the defaults in knowledge/engine.py
(not_sure_confidence) and knowledge/answering.py (SUGGESTION_SHARE, SUGGESTION_FLOOR).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

from knowledge.answering import decide, suggested_notes
from knowledge.engine import Engine, EngineOptions, clean_question
from knowledge.indexing import build_engine
from knowledge.model import Outcome

from .scoring import SHARED, load_questions, note_key

DEV_FILES = (SHARED / "eval" / "questions_dev.yaml", SHARED / "eval" / "questions_dev2.yaml")
NOT_SURE_CANDIDATES = (0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.0)
SHARES = (0.0, 0.6, 0.7, 0.8, 0.85, 0.9)
FLOORS = (0.0, 0.3, 0.35, 0.4, 0.45)


@dataclass(frozen=True)
class Searched:
    expect: str | None
    first: str | None  # the best note's key
    offered: tuple[bool, ...]  # per NOT_SURE_CANDIDATES: would the engine answer or offer the best note?
    answered: bool  # at the engine's own gate
    suggestions: dict[tuple[float, float], tuple[str, ...]]  # (share, floor) → the suggested notes' keys


def searched(engine: Engine, path: Path) -> list[Searched]:
    """Each question searched once, then decided as the engine would (knowledge.answering.decide) at
    every candidate line, and its suggestions at every candidate floor (answering.suggested_notes)."""
    out = []
    options = engine.options.answer_options()
    for item in load_questions(path):
        language, result, _ = engine.searched(clean_question(item["q"], engine.options.max_question_chars), None)
        first = note_key(engine.index.note_of(result.best.passage).rel_path) if result.best else None
        offered = tuple(decide(engine.index, result, language, replace(options, not_sure_confidence=line)).outcome
                        is not Outcome.UNKNOWN for line in NOT_SURE_CANDIDATES)
        suggestions = {(share, floor): tuple(note_key(note.rel_path) for note in
                                             suggested_notes(engine.index, result, language, share, floor))
                       for share in SHARES for floor in FLOORS}
        out.append(Searched(item.get("expect"), first, offered,
                            decide(engine.index, result, language, options).outcome is Outcome.ANSWERED, suggestions))
    return out


def not_sure_table(rows: list[Searched]) -> list[str]:
    answerable = [r for r in rows if r.expect]
    unanswerable = [r for r in rows if not r.expect]
    lines = ["| not_sure_confidence | reached | offers (wrong note) | offers to unanswerable |", "|---|---|---|---|"]
    for k, line in enumerate(NOT_SURE_CANDIDATES):
        reached = sum(r.offered[k] and r.first == r.expect for r in answerable)
        offers = [r for r in answerable if r.offered[k] and not r.answered]
        wrong = sum(r.first != r.expect for r in offers)
        stray = sum(r.offered[k] and not r.answered for r in unanswerable)
        lines.append(f"| {line:.2f} | {reached}/{len(answerable)} | {len(offers)} ({wrong}) | "
                     f"{stray}/{len(unanswerable)} |")
    return lines


def suggestion_table(rows: list[Searched]) -> list[str]:
    declined = [r for r in rows if not r.answered]
    answerable = [r for r in declined if r.expect]
    unanswerable = [r for r in declined if not r.expect]
    lines = [f"declined by the gate: {len(answerable)} answerable, {len(unanswerable)} unanswerable", "",
             "| share | floor | right note kept | titles per answerable | unanswerable titles (none at all) |",
             "|---|---|---|---|---|"]
    for share in SHARES:
        for floor in FLOORS:
            kept = sum(r.expect in r.suggestions[share, floor] for r in answerable)
            titles = sum(len(r.suggestions[share, floor]) for r in answerable)
            stray = [r.suggestions[share, floor] for r in unanswerable]
            lines.append(f"| {share:.2f} | {floor:.2f} | {kept}/{len(answerable)} | "
                         f"{titles / max(1, len(answerable)):.2f} | {sum(map(len, stray))} "
                         f"({sum(not s for s in stray)}) |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=Path, default=SHARED / "corpus" / "blog")
    args = parser.parse_args()
    engine = build_engine([args.notes], EngineOptions())
    rows: list[Searched] = []
    for path in DEV_FILES:
        these = searched(engine, path)
        print(f"## {path.name}\n")
        print("\n".join(not_sure_table(these)) + "\n")
        rows += these
    print("## did-you-mean floors, both files\n")
    print("\n".join(suggestion_table(rows)))


if __name__ == "__main__":
    main()
