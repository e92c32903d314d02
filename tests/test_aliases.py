"""Front matter `aliases:` / `questions:` teach a note the questions it answers: they count like its title."""
from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.engine import EngineOptions
from knowledge.indexing import build_engine, refresh_engine
from knowledge.notes import note_aliases

QUESTION = "how do I revive a sleepy levain?"  # none of these words is in the notes below

SOURDOUGH = """\
---
title: Sourdough starter
{extra}---

# Sourdough starter

Feed the starter equal weights of flour and water every day and keep it at room temperature.
When it doubles within six hours it is ready to bake with.
"""

PASTA = """\
---
title: Fresh pasta
---

# Fresh pasta

Knead one egg per hundred grams of flour for ten minutes, rest the dough, then roll it thin.
"""


def write_notes(folder: Path, extra: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "sourdough-en.md").write_text(SOURDOUGH.format(extra=extra), encoding="utf-8")
    (folder / "pasta-en.md").write_text(PASTA, encoding="utf-8")
    return folder


def ask(folder: Path, question: str = QUESTION):
    return build_engine([folder], EngineOptions(workers=1)).ask(question)


def test_without_an_alias_the_question_finds_nothing(tmp_path: Path) -> None:
    answer = ask(write_notes(tmp_path, ""))
    assert not answer.answered or answer.sources[0].title != "Sourdough starter"


@pytest.mark.parametrize("extra", [
    "questions:\n  - How do I revive a sleepy levain?\n",
    "aliases: [sleepy levain revive]\n",
    "aliases: revive a sleepy levain\n",  # one string is one alias
])
def test_a_question_worded_like_an_alias_finds_the_note(tmp_path: Path, extra: str) -> None:
    answer = ask(write_notes(tmp_path, extra))
    assert answer.answered, answer.text
    assert answer.sources[0].title == "Sourdough starter"  # the title shown is still the title


def test_an_alias_added_by_a_reload_counts_too(tmp_path: Path) -> None:
    folder = write_notes(tmp_path, "")
    engine = build_engine([folder], EngineOptions(workers=1))
    assert not engine.ask(QUESTION).answered
    note = folder / "sourdough-en.md"
    note.write_text(SOURDOUGH.format(extra="questions: [How do I revive a sleepy levain?]\n"), encoding="utf-8")
    refreshed = refresh_engine(engine)
    answer = refreshed.ask(QUESTION)
    assert answer.answered and answer.sources[0].title == "Sourdough starter"


def test_aliases_are_read_leniently() -> None:
    assert note_aliases({"aliases": ["a  b", None, "", 3], "questions": "why?"}) == ("a b", "3", "why?")
    assert note_aliases({"aliases": {"not": "a list"}}) == ()
    assert note_aliases({}) == ()
