"""The build, top to bottom: note files → Engine.

    files → read and parse (reading, in worker processes; each also tokenizes its notes: words)
          → group translations (grouping) → word index (postings)
          → rows → vectors → projection (vectors: only what the cache lacks is embedded)
          → save (cache, in the background)

Each stage takes values and hands values on. A reload is the same stages over the changed
notes (knowledge.build.reload). Phases over a second are reported through `progress(phase,
done, total)` and each phase's duration is logged at INFO.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..detect import detect_language
from ..encoder import load_encoder
from ..engine import Engine, EngineOptions
from ..model import Note
from ..names import untranslated_names
from ..notes import load_notes
from ..suggest import Choices
from .cache import Cache, SavedVectors, load_cache, load_vectors, start_saving, vectors_version
from .cache import empty as empty_cache
from .grouping import group_translations
from .postings import assemble_index
from .reading import ParallelReader, default_workers
from .vectors import sentence_rows
from .words import NoteTerms, tokenize_notes

_log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (phase, done, total): "read" files, "embed" rows


def build_engine(folders: Sequence[str | Path], options: EngineOptions | None = None,
                 progress: Progress | None = None, known: SavedVectors | None = None) -> Engine:
    """Load every note under the folders and index it. Broken notes become `problems`.
    `known`: sentence rows already made (a reload's), used before the cache's."""
    options = options or EngineOptions()
    workers = options.workers or default_workers()
    cache = load_cache(options.cache_dir) if options.cache_dir else empty_cache()

    with _phase("Read %d notes", lambda: len(loaded.notes)):
        reader = ParallelReader(cache.vocabulary, workers, progress=_for_phase(progress, "read"))
        loaded = load_notes(folders, max_bytes=options.max_note_bytes, known=cache.notes, stamps=cache.stamps,
                            read_many=reader)
    notes = loaded.notes  # numbered as read: the workers' sorted shares then only need merging
    groups = group_translations(notes)
    # The language model loads while the rest is indexed, so that the first question does not wait
    # for it: not while workers fork (none should inherit it half loaded).
    warm_up = threading.Thread(target=detect_language, args=("warm up",), name="language-model")
    warm_up.start()

    with _phase("Indexed the words of %d notes", lambda: len(notes)):
        parts = tokenize_notes(notes, {**cache.terms, **reader.terms}, cache.vocabulary)
        changed = _changed(cache, notes, parts)
        same = not changed and cache.index_paths == tuple(note.path for note in notes)
        saved_tables = cache.tables if same else None
        text = None if saved_tables else reader.text_table(notes)  # merging the workers' shares
        index = assemble_index(groups, notes, parts, cache.vocabulary, saved_tables, text)
        names = cache.names if same and cache.names is not None else untranslated_names(groups)

    encoder = load_encoder() if options.semantic else None
    vectors: dict = {}
    new_vectors = False
    if encoder is not None:
        kept = known or (load_vectors(options.cache_dir, vectors_version(encoder)) if options.cache_dir
                         else SavedVectors({}))
        with _phase("Embedded %d sentence rows", lambda: rows.embedded):
            rows = sentence_rows(index, encoder, kept, workers, progress)
        index = dataclasses.replace(index, dense=rows.dense)
        vectors = rows.vectors
        new_vectors = rows.embedded > 0 or vectors.keys() != kept.vectors.keys()

    choices = Choices.from_groups(groups)
    warm_up.join()
    saving = None
    new_index = changed or not same or cache.stamps != loaded.stamps
    if options.cache_dir and (new_index or new_vectors):
        saving = start_saving(options.cache_dir, cache.vocabulary, index, parts, loaded.stamps, names,
                              encoder if new_vectors else None, vectors, save_index=new_index)
    return Engine(index, loaded.problems, tuple(Path(f) for f in folders), options, choices, loaded.stamps, saving,
                  encoder, vectors, names)


def _changed(cache: Cache, notes: tuple[Note, ...], parts: list[NoteTerms]) -> bool:
    if len(notes) != len(cache.terms):
        return True
    return any(cache.terms.get(note.path) is not part for note, part in zip(notes, parts))


def _for_phase(progress: Progress | None, phase: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(phase, done, total)


@contextmanager
def _phase(message: str, count: Callable[[], int]) -> Iterator[None]:
    """Log one line for a phase: what it did and how long it took."""
    started = time.perf_counter()
    yield
    _log.info(message + " in %.1f s", count(), time.perf_counter() - started)
