"""Autocomplete: what the user typed so far → note titles and table facts worth asking about."""
from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .index import Index
from .search import search
from .text import fold

MAX_CHOICE_CHARS = 100  # Discord caps an autocomplete choice at 100 characters


@dataclass(frozen=True)
class Choices:
    """Every suggestible text, with a folded copy to match against."""

    texts: tuple[str, ...]
    folded: tuple[str, ...]

    @classmethod
    def from_index(cls, index: Index) -> "Choices":
        seen: dict[str, None] = {}
        for note in index.notes:
            seen.setdefault(_clip(note.title))
        for note in index.notes:
            for passage in note.passages:
                if passage.kind == "row" and len(passage.cells) >= 2 and passage.header:
                    seen.setdefault(_clip(f"{passage.cells[0]} — {passage.header[1]}"))
        texts = tuple(t for t in seen if t)
        return cls(texts, tuple(fold(t) for t in texts))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHOICE_CHARS else text[: MAX_CHOICE_CHARS - 1] + "…"


def suggest(index: Index, choices: Choices, typed: str, limit: int = 25) -> list[str]:
    """Titles of the notes the words typed so far find, then fuzzy matches of the text itself."""
    limit = max(0, min(limit, 25))
    typed = typed.strip()
    if not typed:
        return list(choices.texts[:limit])
    found: dict[str, None] = {}
    for hit in search(index, typed, limit=limit).hits:
        found.setdefault(_clip(index.groups[hit.group].original.title))
    for _, _, i in process.extract(fold(typed), choices.folded, scorer=fuzz.WRatio, limit=limit, score_cutoff=60):
        found.setdefault(choices.texts[i])
    return list(found)[:limit]
