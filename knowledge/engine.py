"""Engine: the one object the bot and the command line talk to, once the notes are built.

Where a question becomes an answer: `Engine.ask` → `detect.detect_language` →
`search.search` (find the note and passage) → `answering.compose` (pick the asker's
translation, build the text). An Engine is made by knowledge.indexing (build_engine, and
refresh_engine for a reload); it holds no build code.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .answering import AnswerOptions, align, answer_at, compose, first_passage
from .dense import NoteVectors
from .detect import detect_language
from .encoder import Encoder
from .index import Index
from .model import Answer, LoadProblem, Note, NoteGroup
from .search import SearchResult, search
from .suggest import Choices, LazyChoices, suggest

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineOptions:
    # Where an answer comes from when the asker's language has no translation:
    # "original" means the note's original language.
    fallback_languages: tuple[str, ...] = ("en", "original")
    base_url: str | None = None  # links to notes: base_url + note path without extension (or permalink)
    max_note_bytes: int = 2_000_000
    min_confidence: float = 0.4  # the gate's probability that the first note is right (knowledge.gate)
    # From here up to min_confidence the reply is "not sure" and offers the closest passage. Measured on the
    # dev questions (bench/outcomes.py, bench/outcomes.md): the right note is reached for 190 of 210 answerable
    # ones instead of 174, while 4 of the 42 unanswerable get an offer (0.30: 186 reached, 4 offers; 0.20: 192, 5).
    not_sure_confidence: float = 0.25
    max_question_chars: int = 1000  # longer questions are cut: nobody types more into a chat
    cache_dir: Path | None = None  # where the parsed, tokenized notes are kept between builds (None: nowhere)
    workers: int | None = None  # processes that read new notes in a build (None: one per core)
    semantic: bool = True  # sentence vectors beside word search, when their package is installed

    def answer_options(self) -> AnswerOptions:
        return AnswerOptions(self.fallback_languages, self.base_url, self.min_confidence, self.not_sure_confidence)


@dataclass(frozen=True)
class Engine:
    """An immutable, indexed snapshot of the notes: share it between threads, replace it to reload."""

    index: Index
    problems: tuple[LoadProblem, ...]
    folders: tuple[Path, ...] = ()
    options: EngineOptions = field(default_factory=EngineOptions)
    choices: LazyChoices = field(default_factory=lambda: LazyChoices(lambda: Choices((), ())))
    stamps: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)  # path → (size, mtime_ns)
    saving: threading.Thread | None = field(default=None, repr=False, compare=False)  # the cache being written
    encoder: Encoder | None = field(default=None, repr=False, compare=False)  # None: word search only
    vectors: dict[str, NoteVectors] = field(default_factory=dict, repr=False, compare=False)  # by content hash
    # Words the notes' translations keep as they are: names, for language detection (knowledge.names;
    # learned by the build and kept in its cache, not on the first question).
    names: frozenset[str] = field(default_factory=frozenset, repr=False, compare=False)

    def wait_until_saved(self, timeout: float | None = None) -> None:
        """Block until the cache this build is writing in the background is on disk."""
        if self.saving is not None:
            self.saving.join(timeout)

    @property
    def groups(self) -> tuple[NoteGroup, ...]:
        return self.index.groups

    @property
    def notes(self) -> tuple[Note, ...]:
        """Every note that answers (the index also keeps notes an incremental reload replaced)."""
        return tuple(note for group in self.groups for note in group.notes)

    def ask(self, question: str, locale: str | None = None) -> Answer:
        """Answer one question. `locale` (e.g. "es-ES") decides the language only when the
        question is too short or ambiguous to tell. Never raises on any text."""
        question = clean_question(question, self.options.max_question_chars)
        language, result, similarity = self.searched(question, locale)
        return compose(self.index, result, question, language, self.options.answer_options(), similarity)

    def searched(self, question: str, locale: str | None
                  ) -> tuple[str, SearchResult, Callable[[list[str]], np.ndarray] | None]:
        """The question's language, the search result, and (with sentence vectors) how close
        in meaning any texts are to the question."""
        language = detect_language(question, hint=locale, names=self.names)
        cased, lower_case = read_question(self.index, question)
        vector = self.encoder.encode([cased])[0] if self.index.dense is not None and self.encoder and question \
            else None
        result = search(self.index, cased, language, vector=vector, lower_case=lower_case)
        similarity = None
        if vector is not None and self.encoder is not None and self.index.dense is not None:
            encoder, projection = self.encoder, self.index.dense.projection
            asked = projection.apply(vector.reshape(1, -1))[0]

            def similarity(texts: list[str]) -> np.ndarray:  # in the index's projection, as its rows
                return projection.apply(encoder.encode(texts)) @ asked
        return language, result, similarity

    def suggest(self, prefix: str, limit: int = 25) -> list[str]:
        """Up to `limit` note titles or table facts matching what the user typed so far
        (for autocomplete); never raises, returns titles for an empty prefix."""
        return suggest(self.index, self.choices.get(), clean_question(prefix, 200), limit)

    def translations(self, path: str) -> tuple[str, ...]:
        """The languages of the note at `path` (a `Source.path`) and of its translations; () if it is gone."""
        group = self._group_of(path)
        return tuple(note.lang for note in group.notes if note.passages) if group else ()

    def ask_in(self, question: str, path: str, language: str) -> Answer | None:
        """Answer `question` from the translation in `language` of the note at `path` (a `Source.path`):
        what "Show in <language>" under an answer shows — the same place of the note, in that
        language. None when that translation is gone."""
        group = self._group_of(path)
        target = group.in_language(language) if group else None
        if group is None or target is None or not target.passages:
            return None
        shown = next(note for note in group.notes if note.rel_path == path)
        question = clean_question(question, self.options.max_question_chars)
        asked, result, similarity = self.searched(question, None)
        start = 0
        if shown.passages:
            start = first_passage(self.index, result, shown, question, asked, similarity)
            if target is not shown:
                start = align(shown.passages[start], target, question)
        answer = answer_at(self.index, result, target, start, question, asked, self.options.answer_options())
        return dataclasses.replace(answer, language=language)  # the reader chose to read it in that language

    def _group_of(self, path: str) -> NoteGroup | None:
        return self._groups_by_path.get(path)

    @functools.cached_property
    def _groups_by_path(self) -> dict[str, NoteGroup]:
        # Built once per engine (a reload makes a new one): every answer's buttons ask, on the event loop.
        return {note.rel_path: group for group in self.groups for note in group.notes}

    def stats(self) -> dict[str, object]:
        """{"notes": int, "groups": int, "passages": int, "languages": {lang: count}}."""
        notes = self.notes
        languages = Counter(note.lang for note in notes)
        return {
            "notes": len(notes),
            "groups": sum(1 for group in self.groups if group.notes),
            "passages": sum(len(note.passages) for note in notes),
            "languages": dict(sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))),
            "problems": len(self.problems),
        }


def read_question(index: Index, question: str) -> tuple[str, bool]:
    """The question as the search and the encoder read it: names in the notes' case ("does deepseek use
    vllm" → DeepSeek, vLLM), and whether the asker typed it without any capital (knowledge.search)."""
    return index.casing.apply(question), question == question.lower()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def clean_question(text: object, limit: int) -> str:
    """Whatever arrives (None, control characters, huge pastes) becomes plain, bounded text. A chat's
    own markup (Discord's mentions) is the chat's to remove: see bot.markup."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())[:limit]
