"""Passages kept in columns: a note's passages as a few arrays and strings instead of one
object each.

A big blog has hundreds of thousands of passages, and an answer reads a handful. Kept as
columns they take a fraction of the memory, cross a process boundary (the parallel build)
and load from the cache without making one object per passage; `PassageList` makes a
`Passage` only when one is read.
"""
from __future__ import annotations

import bisect
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from .model import Passage

KINDS = ("heading", "paragraph", "item", "row", "code")
_KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
Extras = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str]  # cells, header, links, fence
_PLAIN: Extras = ((), (), (), "")


class CompressedBytes:
    """Bytes kept as zlib-compressed chunks (in a memory-mapped file): a slice decompresses only the
    chunks it spans, and the last few chunks read stay decompressed. A big blog's passage texts then
    cost their compressed size on disk and almost nothing in memory until an answer reads them."""

    CHUNK = 1 << 20  # raw bytes per chunk
    KEPT = 16  # decompressed chunks kept

    def __init__(self, chunks: np.ndarray, bounds: np.ndarray, size: int) -> None:
        self.chunks = chunks  # uint8: the compressed chunks one after the other
        self.bounds = bounds  # int64, one more than chunks: chunk k is chunks[bounds[k]:bounds[k + 1]]
        self.size = size  # raw bytes in all
        self._kept: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, data: np.ndarray) -> CompressedBytes:
        pieces = [zlib.compress(data[at:at + cls.CHUNK].tobytes(), 1) for at in range(0, data.size, cls.CHUNK)]
        bounds = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in pieces], out=bounds[1:])
        return cls(np.frombuffer(b"".join(pieces), dtype=np.uint8), bounds, int(data.size))

    def __getitem__(self, i: slice) -> np.ndarray:
        start, stop = _span(i, self.size)
        if start == stop:
            return np.zeros(0, dtype=np.uint8)
        first, last = start // self.CHUNK, (stop - 1) // self.CHUNK
        raw = np.concatenate([self._chunk(k) for k in range(first, last + 1)]) if last > first else self._chunk(first)
        return raw[start - first * self.CHUNK : stop - first * self.CHUNK]

    def _chunk(self, k: int) -> np.ndarray:
        with self._lock:
            found = self._kept.get(k)
        if found is None:
            packed = self.chunks[int(self.bounds[k]) : int(self.bounds[k + 1])].tobytes()
            found = np.frombuffer(zlib.decompress(packed), dtype=np.uint8)
            with self._lock:
                self._kept[k] = found
                while len(self._kept) > self.KEPT:
                    self._kept.pop(next(iter(self._kept)))
        return found


def _span(i: slice, length: int) -> tuple[int, int]:
    """(start, stop) of a slice without a step (columns are read in runs)."""
    start, stop, step = i.indices(length)
    if step != 1:
        raise ValueError("slices of columns take no step")
    return start, max(start, stop)


class Texts(Sequence[str]):
    """Strings kept as one UTF-8 buffer and their offsets: a text is decoded when it is read. A big
    blog's million passages then cost their bytes, not a million string objects, and load from the
    cache without being split."""

    __slots__ = ("data", "offsets")

    def __init__(self, data: np.ndarray | CompressedBytes, offsets: np.ndarray) -> None:
        self.data = data  # uint8 (or compressed chunks: a big blog's texts read from the cache)
        self.offsets = offsets  # int64, one more than texts: text i is data[offsets[i]:offsets[i + 1]]

    @classmethod
    def of(cls, texts: Sequence[str]) -> Texts:
        if isinstance(texts, Texts):
            return texts
        encoded = [text.encode("utf-8") for text in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets)

    @classmethod
    def join(cls, parts: Sequence[Texts]) -> Texts:
        """These texts one after the other (their bytes are copied once, nothing is decoded)."""
        if not parts:
            return cls.of(())
        data = np.concatenate([p.data[p.offsets[0]:p.offsets[-1]] for p in parts])
        shifted, at = [np.zeros(1, dtype=np.int64)], 0
        for p in parts:
            shifted.append(p.offsets[1:] - p.offsets[0] + at)
            at += int(p.offsets[-1] - p.offsets[0])
        return cls(data, np.concatenate(shifted))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Texts: ...

    def __getitem__(self, i: int | slice) -> str | Texts:
        if isinstance(i, slice):
            start, stop = _span(i, len(self))
            return Texts(self.data, self.offsets[start : stop + 1])
        if i < 0:
            i += len(self)
        return self.data[self.offsets[i] : self.offsets[i + 1]].tobytes().decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


@dataclass(frozen=True, eq=False)
class PassageColumns:
    """Passages in columns; row i of every column is passage i."""

    kinds: np.ndarray  # uint8, index into KINDS
    positions: np.ndarray  # int32, shape (n, 3)
    lines: np.ndarray  # int32
    section_ids: np.ndarray  # int32, index into `sections`
    sections: tuple[tuple[str, ...], ...]
    texts: Texts
    extras: dict[int, Extras]  # passage → (cells, header, links, fence), only where one is set

    def __len__(self) -> int:
        return len(self.texts)

    def passage(self, i: int) -> Passage:
        cells, header, links, fence = self.extras.get(i, _PLAIN)
        position = self.positions[i]
        return Passage(KINDS[self.kinds[i]], self.texts[i], self.sections[self.section_ids[i]],
                       (int(position[0]), int(position[1]), int(position[2])), cells, header, links,
                       int(self.lines[i]), fence)

    @classmethod
    def pack(cls, passages: Sequence[Passage]) -> PassageColumns:
        sections: dict[tuple[str, ...], int] = {}
        extras: dict[int, Extras] = {}
        for i, p in enumerate(passages):
            if p.cells or p.header or p.links or p.fence:
                extras[i] = (p.cells, p.header, p.links, p.fence)
        return cls(
            np.fromiter((_KIND_CODE[p.kind] for p in passages), dtype=np.uint8, count=len(passages)),
            np.asarray([p.position for p in passages], dtype=np.int32).reshape(-1, 3),
            np.fromiter((p.line for p in passages), dtype=np.int32, count=len(passages)),
            np.fromiter((sections.setdefault(p.section, len(sections)) for p in passages), dtype=np.int32,
                        count=len(passages)),
            tuple(sections),
            Texts.of([p.text for p in passages]),
            extras,
        )

    @classmethod
    def join(cls, lists: Sequence[Sequence[Passage]]) -> PassageColumns:
        """Many notes' passages in one set of columns, in order (slices of columns are copied
        as arrays; only plain tuples of passages are packed one by one)."""
        parts = [(p.columns, p.start, p.stop) if isinstance(p, PassageList) else (cls.pack(p), 0, len(p))
                 for p in lists]
        sections: dict[tuple[str, ...], int] = {}
        kinds, positions, lines, section_ids, texts = [], [], [], [], []
        extras: dict[int, Extras] = {}
        # Notes loaded from the cache share one set of columns: what is worked out per set of
        # columns (section numbers, where the extras are) is worked out once, not once per note.
        renumbered: dict[int, np.ndarray] = {}
        extra_rows: dict[int, list[int]] = {}
        done = 0
        for columns, start, stop in parts:
            key = id(columns)
            if key not in renumbered:
                renumbered[key] = np.asarray([sections.setdefault(s, len(sections)) for s in columns.sections] or [0],
                                             dtype=np.int32)
                extra_rows[key] = sorted(columns.extras)
            kinds.append(columns.kinds[start:stop])
            positions.append(columns.positions[start:stop])
            lines.append(columns.lines[start:stop])
            section_ids.append(renumbered[key][columns.section_ids[start:stop]])
            texts.append(columns.texts[start:stop])
            rows = extra_rows[key]
            for i in rows[bisect.bisect_left(rows, start) : bisect.bisect_left(rows, stop)]:
                extras[done + i - start] = columns.extras[i]
            done += stop - start
        if not parts:
            return cls.pack(())
        return cls(np.concatenate(kinds), np.concatenate(positions), np.concatenate(lines),
                   np.concatenate(section_ids), tuple(sections), Texts.join(texts), extras)

    def split(self, sizes: Sequence[int]) -> list[PassageList]:
        """One PassageList per note, `sizes[k]` passages each, sharing these columns."""
        lists, start = [], 0
        for size in sizes:
            lists.append(PassageList(self, start, start + size))
            start += size
        if start != len(self):
            raise ValueError("passage counts and columns disagree")
        return lists


class PassageList(Sequence[Passage]):
    """One note's passages: a range of shared columns, read as a sequence of `Passage`."""

    __slots__ = ("columns", "start", "stop")

    def __init__(self, columns: PassageColumns, start: int = 0, stop: int | None = None) -> None:
        self.columns = columns
        self.start = start
        self.stop = len(columns) if stop is None else stop

    @classmethod
    def of(cls, passages: Sequence[Passage]) -> PassageList:
        return passages if isinstance(passages, PassageList) else cls(PassageColumns.pack(passages))

    def __len__(self) -> int:
        return self.stop - self.start

    @overload
    def __getitem__(self, i: int) -> Passage: ...
    @overload
    def __getitem__(self, i: slice) -> PassageList: ...

    def __getitem__(self, i: int | slice) -> Passage | PassageList:
        if isinstance(i, slice):
            start, stop = _span(i, len(self))
            return PassageList(self.columns, self.start + start, self.start + stop)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("passage index out of range")
        return self.columns.passage(self.start + i)

    def __iter__(self) -> Iterator[Passage]:
        passage = self.columns.passage
        return (passage(i) for i in range(self.start, self.stop))

    def of_kind(self, kind: str) -> Iterator[Passage]:
        code = _KIND_CODE[kind]
        found = np.flatnonzero(self.columns.kinds[self.start : self.stop] == code)
        return (self.columns.passage(self.start + int(i)) for i in found)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"PassageList({list(self)!r})"


def row_cells(passages: Sequence[Passage]) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(cells, header) of each table row, without reading any text (kept in columns: from the extras)."""
    if not isinstance(passages, PassageList):
        return ((p.cells, p.header) for p in passages if p.kind == "row")
    columns, code = passages.columns, _KIND_CODE["row"]
    found = np.flatnonzero(columns.kinds[passages.start : passages.stop] == code) + passages.start
    return (columns.extras.get(int(i), _PLAIN)[:2] for i in found)


def prose_texts(passages: Sequence[Passage]) -> Iterator[str]:
    """The texts of the items and paragraphs, and the cells of the table rows (not their headers),
    without making a Passage of each when they are kept in columns."""
    if not isinstance(passages, PassageList):
        for p in passages:
            if p.kind == "row":
                yield from p.cells
            elif p.kind in ("item", "paragraph"):
                yield p.text
        return
    columns = passages.columns
    codes = columns.kinds[passages.start : passages.stop]
    row, item, paragraph = _KIND_CODE["row"], _KIND_CODE["item"], _KIND_CODE["paragraph"]
    for i in (np.flatnonzero((codes == item) | (codes == paragraph) | (codes == row)) + passages.start).tolist():
        if columns.kinds[i] == row:
            yield from columns.extras.get(i, _PLAIN)[0]
        else:
            yield columns.texts[i]


def of_kind(passages: Sequence[Passage], kind: str) -> Iterator[Passage]:
    """The passages of one kind, without making the others when they are kept in columns."""
    if isinstance(passages, PassageList):
        return passages.of_kind(kind)
    return (p for p in passages if p.kind == kind)
