"""The build, top to bottom: note files → Engine.

    files → read and parse (reading, in worker processes; each also tokenizes its notes: words)
          → group translations (grouping) → word index (postings)
          → rows → vectors → projection (vectors: only what the cache lacks is embedded)
          → save (cache, in the background)

Each stage takes values and hands values on. With a cache (the last full build), a start reads
only the files changed since and layers them over it, as a reload does (knowledge.indexing.reload).
Progress goes to `progress(phase, done, total)`; each phase's duration is logged at INFO.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..casing import learn_casing
from ..detect import detect_language
from ..encoder import load_encoder
from ..engine import Engine, EngineOptions
from ..index import Index
from ..model import Note, NoteGroup
from ..names import untranslated_names
from ..notes import load_notes
from ..openers import learn as learn_openers
from ..suggest import LazyChoices
from .cache import Cache, SavedVectors, load_cache, load_vectors, start_saving, vectors_version
from .cache import empty as empty_cache
from .grouping import group_translations
from .layers import affected_groups, apply_changes
from .postings import assemble_index
from .reading import ParallelReader, default_workers
from .vectors import sentence_rows
from .words import Vocabulary, tokenize_notes

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
        reader = ParallelReader(Vocabulary(), workers, progress=_for_phase(progress, "read"))
        loaded = load_notes(folders, max_bytes=options.max_note_bytes, known=cache.notes, stamps=cache.stamps,
                            read_many=reader)
    # The language model and the sentence encoder load while the rest is indexed, so that the first
    # question does not wait for them: not while workers fork (none should inherit them half loaded).
    encoder = load_encoder() if options.semantic else None
    warm_ups = [threading.Thread(target=_warm, args=(lambda: detect_language("warm up"),), name="language-model")]
    if encoder is not None and hasattr(encoder, "load"):
        warm_ups.append(threading.Thread(target=_warm, args=(encoder.load,), name="sentence-encoder"))
    for thread in warm_ups:
        thread.start()

    with _phase("Indexed the words of %d notes", lambda: len(loaded.notes)):
        layered = _over_cache(cache, loaded.notes)
        if layered is not None:
            index, names = layered
        else:
            if cache.notes and len(reader.terms) < len(loaded.notes):  # some notes came from the cache: read all
                reader = ParallelReader(Vocabulary(), workers, progress=_for_phase(progress, "read"))
                loaded = load_notes(folders, max_bytes=options.max_note_bytes, read_many=reader)
            index, names = _indexed(loaded.notes, reader)

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

    choices = LazyChoices.of_groups(index.groups)
    for thread in warm_ups:
        thread.join()
    saving = None
    new_base = layered is None  # a full build is the new base; a layered start leaves the base as it is
    if options.cache_dir and (new_base or new_vectors):
        saving = start_saving(options.cache_dir, index if new_base else None, loaded.stamps, names,
                              encoder if new_vectors else None, vectors,
                              index.dense.projection if index.dense is not None else None)
    return Engine(index, loaded.problems, tuple(Path(f) for f in folders), options, choices, loaded.stamps, saving,
                  encoder, vectors, names)


def _indexed(notes: tuple[Note, ...], reader: ParallelReader) -> tuple[Index, frozenset[str]]:
    """A full build's index: the notes grouped, tokenized (by the workers that read them, or here), their
    postings merged (from the workers' sorted shares when they read them all), what the notes teach about
    their names' case and their framing sentences, and the names they keep untranslated."""
    groups = group_translations(notes)
    text = reader.text_table(notes)  # merging the workers' shares (numbered as read)
    # Without the shares' sorted pairs (read here, or not all by the workers) each note's pairs are needed.
    parts = tokenize_notes(notes, reader.terms if text is not None else None, reader.vocabulary)
    index = assemble_index(groups, notes, parts, reader.vocabulary, None, text)
    return _learned(index, groups)


def _learned(index: Index, groups: tuple[NoteGroup, ...]) -> tuple[Index, frozenset[str]]:
    """The index with what the notes teach: their names' case and framing sentences; and the names
    they keep untranslated."""
    index = dataclasses.replace(index, casing=learn_casing(groups), openers=learn_openers(groups))
    return index, untranslated_names(groups)


def _over_cache(cache: Cache, notes: tuple[Note, ...]) -> tuple[Index, frozenset[str]] | None:
    """The cache's index with the notes changed since layered over it (as a reload does), or None when
    there is no cache or so much changed that a full build is better."""
    if cache.tables is None:
        return None
    base_notes = tuple(cache.notes.values())
    base = assemble_index(cache.groups, base_notes, [], cache.vocabulary, cache.tables, typo_words=cache.typo_words)
    if cache.learned:
        base, names = dataclasses.replace(base, casing=cache.casing, openers=cache.openers), cache.names
    else:  # learned by older code: learn again from the same notes (the next full build keeps it)
        _log.info("Learning the notes' names, case and openers again: the cache's come from an older version")
        base, names = _learned(base, cache.groups)
    changed = [note for note in notes if cache.notes.get(note.path) is not note]
    removed = sorted(cache.notes.keys() - {note.path for note in notes})
    if not changed and not removed:
        return base, names
    index = apply_changes(base, changed, removed)
    if index is None:
        return None
    affected = affected_groups(base, index, changed, removed)
    return index, names | untranslated_names(index.groups[g] for g in affected)


def _warm(load: Callable[[], object]) -> None:
    """Load a model ahead of the first question. A failure here (a stop signal landing in an import
    the main thread shares, say) is not this thread's to report: the first question loads it again."""
    try:
        load()
    except Exception:
        _log.debug("Loading ahead of the first question failed", exc_info=True)


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
