"""Found / rejected / language / contains rates, computed as shared/eval/score.py computes them.

`note_key` and `base_lang` are imported from the scorer itself (it is a script, not a package),
and `rates` repeats its tally loop line for line, so a figure here is the figure it would print.
"""
from __future__ import annotations

import importlib.util
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SHARED = Path(__file__).resolve().parents[2] / "shared"  # ../shared beside the checkout
SCORER = SHARED / "eval" / "score.py"
DEV_QUESTIONS = SHARED / "eval" / "questions_dev.yaml"

Item = dict[str, Any]


def _scorer_functions() -> tuple[Callable[[str], str], Callable[[str | None], str]]:
    spec = importlib.util.spec_from_file_location("shared_eval_score", SCORER)
    assert spec is not None and spec.loader is not None, f"cannot load {SCORER}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines functions only; its main() runs under __main__ alone
    return module.note_key, module.base_lang


note_key, base_lang = _scorer_functions()


def load_questions(path: Path) -> list[Item]:
    return list(yaml.safe_load(path.read_text("utf-8")) or [])


def rates(items: list[Item], replies: list[dict[str, Any]]) -> dict[str, float]:
    """{"found", "rejected", "language", "contains"}: score.py's figures (1.0 when a set is empty)."""
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for item, reply in zip(items, replies, strict=True):
        expect = item.get("expect")
        sources = reply.get("sources") or []
        first = note_key(sources[0].get("path", "")) if sources else None
        answered = bool(reply.get("answered"))
        if expect is None:
            tally["rejected"]["n"] += 1
            tally["rejected"]["ok"] += not answered
            continue
        ok = answered and first == expect
        tally["found"]["n"] += 1
        tally["found"]["ok"] += ok
        if not ok:
            continue
        want = base_lang(item.get("answer_lang"))
        got = base_lang(reply.get("answer_language") or (sources[0].get("lang") if sources else ""))
        tally["language"]["n"] += 1
        tally["language"]["ok"] += want == got
        if item.get("contains"):
            text = (reply.get("answer") or "").casefold()
            tally["contains"]["n"] += 1
            tally["contains"]["ok"] += any(str(s).casefold() in text for s in item["contains"])
    return {name: (tally[name]["ok"] / tally[name]["n"] if tally[name]["n"] else 1.0)
            for name in ("found", "rejected", "language", "contains")}
