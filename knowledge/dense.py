"""Meaning, not words: the notes' sentence rows, searched with the question's vector.

Lexical search cannot match a Japanese question to an English note, nor "my laptop will not
connect" to "Wi-Fi drops". A multilingual sentence encoder (knowledge.encoder) can. Each
translation group is embedded once, from one of its notes (the encoder is multilingual: a
translation's rows would say the same again), as a few rows: its title and one per section
(knowledge.indexing.rows). Rows are centred and projected on the blog's own principal directions
(`Projection`): smaller and faster to search, and a cosine means more once the direction every
text shares is gone.

This module is the question side; the rows are made by knowledge.indexing (rows, embedding, projection).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

TITLE_ROW = -1  # row_passage of a note's title row
_BLOCK_ROWS = 8192  # rows projected at a time


@dataclass(frozen=True)
class Projection:
    """Centre, then project on the corpus's principal directions; rows come out unit length."""

    mean: np.ndarray  # (encoder dimensions,) float32
    basis: np.ndarray  # (encoder dimensions, dimensions kept) float32
    rows: int = 0  # how many rows it was learned from

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """(x - mean) @ basis, unit length; in blocks, so that no float32 copy of all the raw rows is made."""
        out = np.empty((len(vectors), self.basis.shape[1]), dtype=np.float32)
        for start in range(0, len(vectors), _BLOCK_ROWS):
            block = np.asarray(vectors[start:start + _BLOCK_ROWS], dtype=np.float32)
            out[start:start + _BLOCK_ROWS] = block @ self.basis
        out -= self.mean @ self.basis
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
        return out


@dataclass(frozen=True)
class NoteVectors:
    """One embedded note's rows, projected (float16 as kept and cached; the index joins them as float32)."""

    rows: np.ndarray  # (rows, dimensions) float16
    passages: np.ndarray  # (rows,) int32: the passage each row starts at (TITLE_ROW for the title)


@dataclass(frozen=True)
class DenseIndex:
    """Every embedded note's rows, projected: `rows @ question` scores them all at once."""

    rows: np.ndarray  # (R, dimensions) float32, unit length
    row_note: np.ndarray  # (R,) int32 note id
    row_passage: np.ndarray  # (R,) int32 local passage index, TITLE_ROW for titles
    note_rows: np.ndarray  # (notes, 2) int64: each note's rows are rows[start:stop] ((0, 0): none)
    projection: Projection

    @cached_property
    def title_rows(self) -> np.ndarray:
        """(R,) bool: the rows that are a note's title (made once, read by every question)."""
        return self.row_passage == TITLE_ROW

    @cached_property
    def note_starts(self) -> np.ndarray:
        """The first row of each run of one note's rows (a note's rows are consecutive)."""
        if not self.row_note.size:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.r_[True, self.row_note[1:] != self.row_note[:-1]])

    def rows_of(self, note_ids: Sequence[int]) -> np.ndarray:
        """The rows of these notes."""
        ranges = [self.note_rows[n] for n in note_ids if n < len(self.note_rows)]
        spans = [np.arange(int(a), int(b)) for a, b in ranges if b > a]
        if len(spans) == 1:
            return spans[0]
        return np.concatenate(spans) if spans else np.zeros(0, dtype=np.int64)

    def query(self, vector: np.ndarray) -> np.ndarray:
        """The cosine of every row with a raw (unprojected) question vector."""
        return self.rows @ self.projection.apply(vector.reshape(1, -1))[0]
