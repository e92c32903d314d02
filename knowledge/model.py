"""The data that flows through the engine: notes → passages → answers.

Plain frozen dataclasses, no behaviour beyond small derived properties, so any
module (and any script) can build or read them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Canonical language codes used everywhere in the engine and the bot.
# "zh" is simplified Chinese, "zh-hant" traditional Chinese.
NINE_LANGUAGES: tuple[str, ...] = ("en", "zh", "zh-hant", "ja", "es", "fr", "de", "hi", "ar")
OTHER_LANGUAGES: tuple[str, ...] = ("pt", "it", "ru", "ko")


@dataclass(frozen=True)
class Passage:
    """One answerable piece of a note: a heading, paragraph, list item or table row.

    `position` aligns passages across translations: (section ordinal, block ordinal,
    row ordinal) where the section ordinal counts headings from the top, the block
    ordinal counts blocks inside that section and the row ordinal counts table rows
    (0 for non-row passages).
    """

    kind: str  # "heading" | "paragraph" | "item" | "row" | "code" (never an answer alone)
    # Plain text but for `code` and **bold** in paragraphs and items (knowledge.inline); a row
    # reads "Header: cell; Header: cell"
    text: str
    section: tuple[str, ...] = ()  # heading path above the passage, outermost first
    position: tuple[int, int, int] = (0, 0, 0)
    cells: tuple[str, ...] = ()  # table rows only: plain cell texts
    header: tuple[str, ...] = ()  # table rows only: plain header cells
    links: tuple[str, ...] = ()  # URLs linked from the passage
    line: int = 0  # 1-based line in the source file where the passage starts
    fence: str = ""  # code only: the language its fence names ("java"), "" when none


@dataclass(frozen=True)
class Note:
    """One markdown file, parsed."""

    path: str  # absolute path of the file
    rel_path: str  # path relative to its notes folder, POSIX separators
    title: str
    lang: str  # canonical language code
    key: str  # translation key: file name without folders, date, language suffix, extension
    passages: Sequence[Passage]  # a tuple, or a knowledge.columns.PassageList (same behaviour, less memory)
    date: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    links: tuple[str, ...] = ()  # every URL in the body, in order
    table_shapes: tuple[tuple[int, int], ...] = ()  # (columns, rows) of each table
    content_hash: str = ""  # sha256 of the file bytes


@dataclass(frozen=True)
class LoadProblem:
    """A note that could not be read (or a folder problem), reported and skipped."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class LoadResult:
    notes: tuple[Note, ...]
    problems: tuple[LoadProblem, ...]
    stamps: dict[str, tuple[int, int]] = field(default_factory=dict)  # path → (size, mtime_ns) when read


@dataclass(frozen=True)
class NoteGroup:
    """All translations of one note, keyed by language."""

    key: str
    notes: tuple[Note, ...]

    def in_language(self, lang: str) -> Note | None:
        for note in self.notes:
            if note.lang == lang:
                return note
        return None

    @property
    def original(self) -> Note:
        """The untranslated note (front matter `translated: false`), else the one that does not say it
        is a translation (`translated: true`) while others do, else English, else the first."""
        for note in self.notes:
            if note.meta.get("translated") is False:
                return note
        unmarked = [note for note in self.notes if note.meta.get("translated") is not True]
        if len(unmarked) == 1 and len(self.notes) > 1:
            return unmarked[0]
        return self.in_language("en") or self.notes[0]


@dataclass(frozen=True)
class Source:
    path: str  # relative path of the note the answer text comes from
    title: str
    lang: str
    url: str | None = None


class Outcome(StrEnum):
    """What became of a question: an answer, an offer of the closest passage, or "I don't know"."""

    ANSWERED = "answered"
    NOT_SURE = "not_sure"  # below the answer gate, yet close: the closest passage is offered, not asserted
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Closest:
    """The passage a "not sure" reply offers: built like an answer (same translation and passage
    rules), shown under a line that says the notes may not answer the question."""

    text: str
    source: Source
    section: tuple[str, ...] = ()

    @property
    def language(self) -> str:
        return self.source.lang


@dataclass(frozen=True)
class Answer:
    """What the engine says to one question; rendering (text, JSON, embeds) happens elsewhere."""

    question: str
    language: str  # detected language of the question (or the locale hint when too short)
    answered: bool  # a real answer (never a "not sure" offer: see `outcome`)
    text: str  # the passage-derived answer text, "" when not answered
    answer_language: str  # language of `text` (the asker's language when not answered)
    sources: tuple[Source, ...] = ()
    score: float = 0.0  # confidence in [0, 1]
    suggestions: tuple[str, ...] = ()  # "did you mean" note titles (asker's language when possible)
    section: tuple[str, ...] = ()  # heading path of the passage in the answering note
    # "I don't know" about a name a table's note lacks: what that note does list, and the names it lacks.
    covered: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    covered_title: str = ""
    closest: Closest | None = None  # "not sure": never set when `answered`

    @property
    def outcome(self) -> Outcome:
        if self.answered:
            return Outcome.ANSWERED
        return Outcome.NOT_SURE if self.closest is not None else Outcome.UNKNOWN

    @property
    def translated_elsewhere(self) -> bool:
        """True when the answer text is not in the asker's language."""
        return self.answered and self.answer_language != self.language
