"""Sentence rows of the index: the groups' rows (knowledge.indexing.rows), embedded where the cache
lacks them (knowledge.indexing.embedding), projected (knowledge.indexing.projection), as one DenseIndex.

Rows are kept by the embedded note's content hash, already projected: a start from the cache, and
a reload, embed only the notes whose text changed, and no raw 512-wide vector is ever kept.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..dense import DenseIndex, NoteVectors, Projection
from ..encoder import Encoder
from ..index import Index
from ..model import Note
from .cache import SavedVectors
from .embedding import embed_texts
from .projection import MIN_ROWS, fit_projection
from .rows import NoteRows, content_key, embedded_notes, note_rows


@dataclass(frozen=True)
class SentenceRows:
    dense: DenseIndex
    vectors: dict[str, NoteVectors]  # every embedded note's rows, by content hash
    embedded: int  # rows embedded by this build (0: all came from the cache)


def sentence_rows(index: Index, encoder: Encoder, saved: SavedVectors, workers: int = 1,
                  progress: Callable[[str, int, int], None] | None = None) -> SentenceRows:
    notes = embedded_notes(index.groups)
    vectors, projection, embedded = _vectors(encoder, notes, saved, workers, progress, learn=True)
    return SentenceRows(dense_index(index, notes, vectors, projection), vectors, embedded)


def _vectors(encoder: Encoder, notes: Sequence[Note], saved: SavedVectors, workers: int,
             progress: Callable[[str, int, int], None] | None, learn: bool = False
             ) -> tuple[dict[str, NoteVectors], Projection, int]:
    """Every note's rows by content hash (the saved ones, the others embedded and projected), the
    projection, and how many rows were embedded. `learn`: a projection may be learned (a full build)."""
    known = saved.vectors
    todo: dict[str, NoteRows] = {}
    for note in notes:
        key = content_key(note)
        if key not in known and key not in todo:
            todo[key] = note_rows(note)
    texts = [text for rows in todo.values() for text in rows.texts]
    raw = embed_texts(encoder, texts, workers, progress)
    kept = {key: known[key] for key in map(content_key, notes) if key in known}
    projection = saved.projection
    row_count = len(raw) + sum(len(v.rows) for v in kept.values())
    if projection is None or (learn and projection.rows < MIN_ROWS <= row_count):
        # Learned now: the first build, or a blog that was too small to learn from (its rows were
        # kept unprojected, so they can be learned from and projected now).
        old = [v.rows for v in kept.values()] if projection is not None else []
        projection = fit_projection(np.concatenate([raw, *old]) if old else raw)
        if old:
            kept = {key: NoteVectors(projection.apply(v.rows).astype(np.float16), v.passages)
                    for key, v in kept.items()}
    projected = projection.apply(raw).astype(np.float16) if len(raw) else np.zeros((0, projection.basis.shape[1]),
                                                                                   np.float16)
    at = 0
    for key, rows in todo.items():
        n = len(rows.texts)
        kept[key] = NoteVectors(projected[at:at + n], np.asarray(rows.passages, dtype=np.int32))
        at += n
    return kept, projection, len(texts)


def dense_index(index: Index, notes: Sequence[Note], vectors: dict[str, NoteVectors], projection: Projection,
                base: DenseIndex | None = None) -> DenseIndex:
    """The rows of `notes` (notes of `index`) in one matrix; after `base`'s rows when given (a reload)."""
    parts = [(index.note_ids[note.path], vectors[content_key(note)]) for note in notes]
    counts = np.asarray([len(v.passages) for _, v in parts], dtype=np.int64)
    first = len(base.rows) if base is not None else 0
    starts = first + np.concatenate([[0], np.cumsum(counts)[:-1]]) if parts else np.zeros(0, np.int64)
    width = projection.basis.shape[1]
    rows = np.concatenate([v.rows for _, v in parts]).astype(np.float32) if parts else np.zeros((0, width), np.float32)
    ids = np.asarray([nid for nid, _ in parts], dtype=np.int32)
    note_rows = np.zeros((len(index.notes), 2), dtype=np.int64)
    if base is not None:
        note_rows[: len(base.note_rows)] = base.note_rows
    note_rows[ids, 0], note_rows[ids, 1] = starts, starts + counts
    row_note = np.repeat(ids, counts)
    row_passage = np.concatenate([v.passages for _, v in parts]).astype(np.int32) if parts else np.zeros(0, np.int32)
    if base is not None:
        rows, row_note = np.concatenate([base.rows, rows]), np.concatenate([base.row_note, row_note])
        row_passage = np.concatenate([base.row_passage, row_passage])
    return DenseIndex(rows, row_note, row_passage, note_rows, projection)


def embed_changed(encoder: Encoder, index: Index, affected: set[int], vectors: dict[str, NoteVectors],
                  base: DenseIndex) -> tuple[DenseIndex, dict[str, NoteVectors]]:
    """After a reload: rows for the `affected` groups whose embedded note is new, edited, or newly the
    one embedded (its group lost the note that was), with `base`'s projection."""
    notes = []
    for note in embedded_notes(index.groups[g] for g in sorted(affected)):
        nid = index.note_ids[note.path]
        if nid >= len(base.note_rows) or base.note_rows[nid, 1] == base.note_rows[nid, 0]:
            notes.append(note)  # new, edited (a new id), or embedded in place of a note removed
    more, _, _ = _vectors(encoder, notes, SavedVectors(vectors, base.projection), 1, None)
    return dense_index(index, notes, more, base.projection, base), {**vectors, **more}
