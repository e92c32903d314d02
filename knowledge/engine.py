"""Engine: the one object the bot and the command line talk to.

Where a question becomes an answer: `Engine.ask` → `search.rank` (find the note and
passage) → `answering.compose` (pick the asker's translation, build the text).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .model import Answer, LoadProblem, Note, NoteGroup


@dataclass(frozen=True)
class EngineOptions:
    # Where an answer comes from when the asker's language has no translation:
    # "original" means the note's original language.
    fallback_languages: tuple[str, ...] = ("en", "original")
    base_url: str | None = None  # links to notes: base_url + note path without extension
    max_note_bytes: int = 2_000_000
    min_confidence: float = 0.35


@dataclass
class Engine:
    groups: tuple[NoteGroup, ...]
    problems: tuple[LoadProblem, ...]
    options: EngineOptions = field(default_factory=EngineOptions)

    @classmethod
    def build(cls, folders: Sequence[str | Path], options: EngineOptions | None = None) -> "Engine":
        """Load every note under the folders and index it. Broken notes become `problems`."""
        raise NotImplementedError

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(note for group in self.groups for note in group.notes)

    def ask(self, question: str, locale: str | None = None) -> Answer:
        """Answer one question. `locale` (e.g. "es-ES") decides the language only when the
        question is too short or ambiguous to tell. Never raises on any text."""
        raise NotImplementedError

    def suggest(self, prefix: str, limit: int = 25) -> list[str]:
        """Up to `limit` note titles or table facts matching what the user typed so far
        (for autocomplete); never raises, returns popular titles for an empty prefix."""
        raise NotImplementedError

    def stats(self) -> dict[str, object]:
        """{"notes": int, "groups": int, "passages": int, "languages": {lang: count}}."""
        raise NotImplementedError
