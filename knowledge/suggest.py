"""Autocomplete: what the user typed so far → note titles and table facts worth asking about."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .columns import row_cells
from .index import Index
from .inline import plain
from .model import Note, NoteGroup
from .search import search
from .text import fold

MAX_CHOICE_CHARS = 100  # Discord caps an autocomplete choice at 100 characters
FUZZY_CUTOFF = 80


@dataclass(frozen=True)
class Choices:
    """Every suggestible text, with a folded copy to match against."""

    texts: tuple[str, ...]
    folded: tuple[str, ...]

    @classmethod
    def from_groups(cls, groups: tuple[NoteGroup, ...]) -> Choices:
        return cls((), ()).with_notes([note for group in groups for note in group.notes])

    def with_notes(self, notes: list[Note]) -> Choices:
        """These choices and the titles and table facts of `notes` (titles first).
        Texts of notes deleted since stay until the next full build: a harmless suggestion."""
        titles = [_clip(note.title) for note in notes]
        facts = [_clip(f"{plain(cells[0])} — {header[1]}")
                 for note in notes for cells, header in row_cells(note.passages)
                 if len(cells) >= 2 and len(header) >= 2]
        seen: dict[str, None] = dict.fromkeys(self.texts)
        fresh: list[str] = []
        for text in titles + facts:
            if text and text not in seen:
                seen[text] = None
                fresh.append(text)
        return Choices(self.texts + tuple(fresh), self.folded + tuple(fold(t) for t in fresh))


class LazyChoices:
    """Choices made on first use, once (a start at 45k notes would spend most of a second on them;
    the first keystroke of an autocomplete pays instead). Safe to share between threads."""

    def __init__(self, make: Callable[[], Choices]) -> None:
        self._make: Callable[[], Choices] | None = make
        self._made: Choices | None = None
        self._lock = threading.Lock()

    @classmethod
    def of_groups(cls, groups: tuple[NoteGroup, ...]) -> LazyChoices:
        return cls(lambda: Choices.from_groups(groups))

    def get(self) -> Choices:
        with self._lock:
            if self._made is None:
                assert self._make is not None
                self._made, self._make = self._make(), None
            return self._made

    def with_notes(self, notes: list[Note]) -> LazyChoices:
        """These choices and those of `notes`, made when first used."""
        return LazyChoices(lambda: self.get().with_notes(notes))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHOICE_CHARS else text[: MAX_CHOICE_CHARS - 1] + "…"


def suggest(index: Index, choices: Choices, typed: str, limit: int = 25) -> list[str]:
    """Titles of the notes the words typed so far find, then titles and facts that contain
    the text, then close spellings of it (cheapest first: this runs on every keystroke)."""
    limit = max(0, min(limit, 25))
    typed = typed.strip()
    if not typed:
        return list(choices.texts[:limit])
    found: dict[str, None] = {}
    for hit in search(index, typed, limit=limit).hits:
        found.setdefault(_clip(index.groups[hit.group].original.title))
    needle = fold(typed)
    for text, folded in zip(choices.texts, choices.folded):
        if len(found) >= limit:
            break
        if needle in folded:
            found.setdefault(text)
    if len(found) < limit and len(needle) >= 3:
        for _, _, i in process.extract(needle, choices.folded, scorer=fuzz.partial_ratio, limit=limit,
                                       score_cutoff=FUZZY_CUTOFF):
            found.setdefault(choices.texts[i])
    return list(found)[:limit]
