"""Engine: the one object the bot and the command line talk to.

Where a question becomes an answer: `Engine.ask` → `detect.detect_language` →
`search.search` (find the note and passage) → `answering.compose` (pick the asker's
translation, build the text).
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .answering import AnswerOptions, align, answer_at, compose, first_passage
from .detect import detect_language
from .grouping import group_translations
from .index import Index, NoteTerms, SavedTables, assemble_index, tokenize_notes
from .model import Answer, LoadProblem, Note, NoteGroup
from .names import untranslated_names
from .notes import load_notes
from .parallel import ParallelReader, default_workers
from .search import SearchResult, search
from .semantic import DenseIndex, Encoder, NoteVectors, Projection, SavedVectors, embed_notes, encoder_version, \
    load_encoder, load_vectors, save_vectors
from .store import Cache, load_cache, save_cache
from .store import empty as empty_cache
from .suggest import Choices, suggest
from .update import apply_changes

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineOptions:
    # Where an answer comes from when the asker's language has no translation:
    # "original" means the note's original language.
    fallback_languages: tuple[str, ...] = ("en", "original")
    base_url: str | None = None  # links to notes: base_url + note path without extension (or permalink)
    max_note_bytes: int = 2_000_000
    min_confidence: float = 0.4  # the gate's probability that the first note is right (knowledge.gate)
    max_question_chars: int = 1000  # longer questions are cut: nobody types more into a chat
    cache_dir: Path | None = None  # where the parsed, tokenized notes are kept between builds (None: nowhere)
    workers: int | None = None  # processes that read new notes in a build (None: one per core)
    semantic: bool = True  # sentence vectors beside word search, when their package is installed

    def answer_options(self) -> AnswerOptions:
        return AnswerOptions(self.fallback_languages, self.base_url, self.min_confidence)


@dataclass(frozen=True)
class Engine:
    """An immutable, indexed snapshot of the notes: share it between threads, replace it to reload."""

    index: Index
    problems: tuple[LoadProblem, ...]
    folders: tuple[Path, ...] = ()
    options: EngineOptions = field(default_factory=EngineOptions)
    choices: Choices = field(default_factory=lambda: Choices((), ()))
    stamps: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)  # path → (size, mtime_ns)
    saving: threading.Thread | None = field(default=None, repr=False, compare=False)  # the cache being written
    encoder: Encoder | None = field(default=None, repr=False, compare=False)  # None: word search only
    vectors: dict[str, NoteVectors] = field(default_factory=dict, repr=False, compare=False)  # by content hash

    @functools.cached_property
    def names(self) -> frozenset[str]:
        """Words the notes' translations keep as they are: names, for language detection (learned once
        per engine, on the first question)."""
        return untranslated_names(self.groups)

    @classmethod
    def build(cls, folders: Sequence[str | Path], options: EngineOptions | None = None,
              vectors: dict[str, NoteVectors] | None = None,
              progress: Callable[[int, int], None] | None = None) -> "Engine":
        """Load every note under the folders and index it. Broken notes become `problems`.
        `vectors`: sentence vectors already computed (by content hash), not computed again.
        `progress(read, to_read)` is called now and then while files are read."""
        options = options or EngineOptions()
        cache = load_cache(options.cache_dir) if options.cache_dir else empty_cache()
        reader = ParallelReader(cache.vocabulary, options.workers or default_workers(), progress=progress)
        loaded = load_notes(folders, max_bytes=options.max_note_bytes, known=cache.notes, stamps=cache.stamps,
                            read_many=reader)
        groups = group_translations(loaded.notes)
        notes = loaded.notes  # numbered as read: the workers' sorted shares then only need merging
        parts = tokenize_notes(notes, {**cache.terms, **reader.terms}, cache.vocabulary)
        changed = _changed(cache, notes, parts)
        same = not changed and cache.index_paths == tuple(note.path for note in notes)
        saved = cache.tables if same else None
        text = None if saved else reader.text_table(notes)  # merging the workers' shares: peak memory
        # The language model loads while the rest is indexed, so that the first question does not
        # wait for it: not while workers fork (none should inherit it half loaded), nor while
        # their shares are merged (its loading would add to that peak).
        warm_up = threading.Thread(target=detect_language, args=("warm up",), name="language-model")
        warm_up.start()
        index = assemble_index(groups, notes, parts, cache.vocabulary, saved, text)
        encoder = load_encoder() if options.semantic else None
        vectors_saving = None
        if encoder is not None:
            index, vectors, vectors_saving = _with_vectors(index, encoder, options.cache_dir, vectors or {})
        choices = Choices.from_groups(groups)
        warm_up.join()
        saving = None
        if options.cache_dir and (changed or not same or cache.stamps != loaded.stamps):
            # Saving takes a while on a big blog and nobody waits for it: a thread of its own,
            # started last because it holds the GIL much of the time (not a daemon, so that a
            # process that exits still finishes writing). The vocabulary is no one else's now.
            tables = SavedTables(index.postings.layers[0], index.title_postings.layers[0],
                                 index.key_postings.layers[0], index.avg_length)
            saving = threading.Thread(target=_save, name="index-cache", args=(
                options.cache_dir, cache.vocabulary, notes, parts, loaded.stamps, tables, vectors_saving))
            saving.start()
        else:
            saving = vectors_saving
        return cls(index, loaded.problems, tuple(Path(f) for f in folders), options, choices, loaded.stamps, saving,
                   encoder, vectors if encoder is not None else {})

    def wait_until_saved(self, timeout: float | None = None) -> None:
        """Block until the cache this build is writing in the background is on disk."""
        if self.saving is not None:
            self.saving.join(timeout)

    def refresh(self) -> "Engine":
        """The notes as they are on disk now. Only files whose size or modification time
        changed are read; when few changed, the new index shares the old one's tables and
        adds theirs (see knowledge.update), else it is built again (from the cache)."""
        before = {note.path: note for note in self.notes}
        loaded = load_notes(self.folders, max_bytes=self.options.max_note_bytes, known=before, stamps=self.stamps)
        changed = [note for note in loaded.notes if before.get(note.path) is not note]
        removed = sorted(before.keys() - {note.path for note in loaded.notes})
        if not changed and not removed:
            return dataclasses.replace(self, problems=loaded.problems, stamps=loaded.stamps)
        engine = self.with_changes(changed, removed)
        if engine is None:
            return Engine.build(self.folders, self.options, self.vectors)
        return dataclasses.replace(engine, problems=loaded.problems, stamps=loaded.stamps)

    def with_changes(self, changed: list[Note], removed: list[str]) -> "Engine | None":
        """This engine with `changed` notes (new or edited, by path) and without the `removed` paths,
        sharing everything else (knowledge.update); None when only a full build can do it right."""
        index = apply_changes(self.index, changed, removed)
        if index is None:
            return None
        vectors = self.vectors
        if index.dense is not None and self.encoder is not None and changed:
            vectors = {**vectors, **embed_notes(self.encoder, changed, vectors)}
            index = dataclasses.replace(index, dense=index.dense.extended(changed, vectors, len(self.index.notes)))
        return dataclasses.replace(self, index=index, choices=self.choices.with_notes(changed), vectors=vectors)

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
        language, result, similarity = self._searched(question, locale)
        return compose(self.index, result, question, language, self.options.answer_options(), similarity)

    def _searched(self, question: str, locale: str | None
                  ) -> tuple[str, SearchResult, Callable[[list[str]], np.ndarray] | None]:
        """The question's language, the search result, and (with sentence vectors) how close
        in meaning any texts are to the question."""
        language = detect_language(question, hint=locale, names=self.names)
        vector = self.encoder.encode([question])[0] if self.index.dense is not None and self.encoder and question \
            else None
        result = search(self.index, question, language, vector=vector)
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
        return suggest(self.index, self.choices, clean_question(prefix, 200), limit)

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
        asked, result, similarity = self._searched(question, None)
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


def _save(folder: Path, vocabulary: dict[str, int], notes: tuple[Note, ...], parts: list[NoteTerms],
          stamps: dict[str, tuple[int, int]], tables: SavedTables, also: threading.Thread | None = None) -> None:
    if also is not None:  # one thread to wait for: the vectors' save, started first, ends before this one
        also.join()
    try:
        save_cache(folder, vocabulary, notes, {note.path: part for note, part in zip(notes, parts)}, stamps, tables)
    except (OSError, ValueError) as error:  # a read-only state folder costs speed, never answers
        _log.warning("Could not save the index cache in %s: %s", folder, error)


def _with_vectors(index: Index, encoder: Encoder, cache_dir: Path | None, known: dict[str, NoteVectors]
                  ) -> tuple[Index, dict[str, NoteVectors], threading.Thread | None]:
    """The index with its sentence rows: vectors from `known`, then the cache, else embedded; and the
    thread saving them when the cache lacks any (its vectors, projection or projected rows)."""
    kept = load_vectors(cache_dir, encoder_version(encoder)) if cache_dir else SavedVectors({})
    vectors = embed_notes(encoder, index.notes, {**known, **kept.vectors})
    dense = DenseIndex.of(index.notes, vectors, projection=kept.projection)
    index = dataclasses.replace(index, dense=dense)
    stale = vectors.keys() != kept.vectors.keys() or dense.projection is not kept.projection \
        or any(v.projected is None for v in vectors.values())
    if not cache_dir or not stale:
        return index, vectors, None
    saving = threading.Thread(target=_save_vectors, name="vectors-cache", args=(
        cache_dir, encoder_version(encoder), vectors, dense.projection, dense.projected_by_note(index.notes)))
    saving.start()
    return index, vectors, saving


def _save_vectors(folder: Path, version: str, vectors: dict[str, NoteVectors], projection: Projection,
                  projected: dict[str, np.ndarray]) -> None:
    try:
        save_vectors(folder, version, vectors, projection, projected)
    except (OSError, ValueError) as error:
        _log.warning("Could not save the sentence vectors in %s: %s", folder, error)


def _changed(cache: Cache, notes: tuple[Note, ...], parts: list[NoteTerms]) -> bool:
    if len(notes) != len(cache.terms):
        return True
    return any(cache.terms.get(note.path) is not part for note, part in zip(notes, parts))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def clean_question(text: object, limit: int) -> str:
    """Whatever arrives (None, control characters, huge pastes) becomes plain, bounded text. A chat's
    own markup (Discord's mentions) is the chat's to remove: see bot.markup."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())[:limit]
