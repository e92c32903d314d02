"""The search index: an inverted index over normalized terms of every passage of every note.

Built once from note groups (knowledge.indexing), then read-only (safe to share between threads and to swap
atomically on reload). Postings are numpy arrays so that a question scores only the
passages that share a term with it, without a Python loop per passage.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .casing import Casing
from .dense import DenseIndex
from .model import Note, NoteGroup, Passage
from .openers import Openers
from .text import PREFIX_MARK


@dataclass(frozen=True)
class Postings:
    passages: np.ndarray  # int32 ids (passages, or notes for titles), ascending
    weights: np.ndarray | None = None  # float32 BM25 term-frequency part (idf applied at query time)

    @property
    def df(self) -> int:
        return int(self.passages.size)


class _Lookup:
    """`table[term]` for tables that define `get(term)`."""

    def get(self, term: str) -> Postings | None:
        raise NotImplementedError

    def __getitem__(self, term: str) -> Postings:
        found = self.get(term)
        if found is None:
            raise KeyError(term)
        return found


@dataclass(frozen=True)
class PostingTable(_Lookup):
    """term → ids (and weights), stored as three flat arrays: compact, and fast to save and load."""

    rows: dict[str, int]  # term → row
    offsets: np.ndarray  # int64, one more than rows: row r spans items[offsets[r]:offsets[r + 1]]
    items: np.ndarray  # int32 ids, ascending within a row
    weights: np.ndarray | None = None  # float16, parallel to items

    def __contains__(self, term: object) -> bool:
        row = self.rows.get(term)  # type: ignore[call-overload]
        return row is not None and self.offsets[row + 1] > self.offsets[row]

    def __iter__(self):
        """Terms with at least one posting (the vocabulary also keeps terms of deleted notes)."""
        live = (np.diff(self.offsets) > 0).tolist()  # a list: numpy scalars per term are slow
        return (term for term, row in self.rows.items() if live[row])

    def get(self, term: str) -> Postings | None:
        row = self.rows.get(term)
        if row is None or self.offsets[row + 1] == self.offsets[row]:
            return None
        lo, hi = int(self.offsets[row]), int(self.offsets[row + 1])
        # Weights are kept as float16 (half the memory and disk; 3 significant digits is plenty to rank).
        return Postings(self.items[lo:hi], None if self.weights is None else self.weights[lo:hi].astype(np.float32))

    def df(self, term: str) -> int:
        row = self.rows.get(term)
        return 0 if row is None else int(self.offsets[row + 1] - self.offsets[row])

    @classmethod
    def from_pairs(cls, rows: Mapping[str, int], term_ids: np.ndarray, items: np.ndarray) -> PostingTable:
        """Group (term id, item) pairs by term, `rows` mapping each term to its id (titles and
        row subjects; the text table, with its weights, comes from merge_sorted)."""
        counts = np.bincount(term_ids, minlength=len(rows))
        order = np.argsort(term_ids, kind="stable")  # stable: items stay ascending in each row
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(rows, offsets, np.ascontiguousarray(items[order], dtype=np.int32))


@dataclass(frozen=True)
class LayeredTable(_Lookup):
    """Posting tables stacked: a big base and small layers added by incremental reloads.
    Each layer's ids are above the previous layer's, so a term's ids stay ascending."""

    layers: tuple[PostingTable, ...]

    def __contains__(self, term: object) -> bool:
        return any(term in layer for layer in self.layers)

    def __iter__(self):
        seen: set[str] = set()
        for layer in self.layers:
            for term in layer:
                if term not in seen:
                    seen.add(term)
                    yield term

    def get(self, term: str) -> Postings | None:
        found = [p for p in (layer.get(term) for layer in self.layers) if p is not None]
        if len(found) <= 1:
            return found[0] if found else None
        weights = None if found[0].weights is None else np.concatenate([p.weights for p in found])
        return Postings(np.concatenate([p.passages for p in found]), weights)

    def df(self, term: str) -> int:
        return sum(layer.df(term) for layer in self.layers)


@dataclass(frozen=True)
class TypoWords:
    """The vocabulary words typos are looked up among (plain ASCII words of 4 letters or more): grouped
    by first letter and length (in term order inside a group), and sorted, to complete a word cut short."""

    words: tuple[str, ...]
    buckets: dict[tuple[str, int], tuple[int, int]]  # (first letter, length) → words[start:stop]
    sorted_words: tuple[str, ...]

    @classmethod
    def of(cls, terms: Iterable[str]) -> TypoWords:
        grouped: dict[tuple[str, int], list[str]] = {}
        for term in terms:
            if typo_candidate(term):
                grouped.setdefault((term[0], len(term)), []).append(term)
        return cls.grouped(grouped)

    @classmethod
    def grouped(cls, grouped: dict[tuple[str, int], list[str]]) -> TypoWords:
        words: list[str] = []
        buckets: dict[tuple[str, int], tuple[int, int]] = {}
        for key, group in grouped.items():
            buckets[key] = (len(words), len(words) + len(group))
            words.extend(group)
        return cls(tuple(words), buckets, tuple(sorted(words)))

    def with_words(self, fresh: list[str]) -> TypoWords:
        """These words and `fresh` ones (a reload's), each group's new words after its old ones."""
        grouped = {key: list(self.words[a:b]) for key, (a, b) in self.buckets.items()}
        for term in fresh:
            grouped.setdefault((term[0], len(term)), []).append(term)
        return TypoWords.grouped(grouped)

    def similar(self, word: str) -> list[str]:
        """Words of about the same length and first letter: where typo look-ups search."""
        found: list[str] = []
        reach = 3 if len(word) >= 7 else 2
        for length in range(len(word) - reach, len(word) + reach + 1):
            a, b = self.buckets.get((word[0], length), (0, 0))
            found.extend(self.words[a:b])
        return found


@dataclass
class Index:
    groups: tuple[NoteGroup, ...]
    notes: tuple[Note, ...]  # flat, every note of every group
    note_group: np.ndarray  # note id → group id
    passage_note: np.ndarray  # passage id → note id
    passage_local: np.ndarray  # passage id → index in note.passages
    postings: LayeredTable  # term → passages (with BM25 weights)
    title_postings: LayeredTable  # term → note ids whose title has it
    key_postings: LayeredTable  # term → ids of table rows whose first cell (the row's subject) has it
    typo_words: TypoWords = field(default_factory=lambda: TypoWords((), {}, ()))
    note_first_passage: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    note_sizes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # passages per note
    note_ids: dict[str, int] = field(default_factory=dict)  # note path → note id
    languages: frozenset[str] = frozenset()
    avg_length: float = 1.0  # mean passage length, for BM25 of passages added later
    dead: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # passages of replaced notes
    layered_passages: int = 0  # passages indexed in layers over the base (incremental reloads)
    dense: DenseIndex | None = None  # sentence vectors of the notes' sections (None: lexical search only)
    # Learned from the notes by a full build (knowledge.indexing.pipeline) and kept in its cache; a start
    # or a reload that layers a few changed notes keeps them.
    casing: Casing = field(default_factory=Casing)  # the usual case of the notes' names (knowledge.casing)
    openers: Openers = field(default_factory=lambda: Openers(frozenset()))  # framing sentences (knowledge.openers)

    @property
    def passage_count(self) -> int:
        return int(self.passage_note.size)

    def passage(self, pid: int) -> Passage:
        return self.notes[int(self.passage_note[pid])].passages[int(self.passage_local[pid])]

    def passage_range(self, note: Note) -> range:
        """Passage ids of one note (they are consecutive)."""
        first = int(self.note_first_passage[self.note_ids[note.path]])
        return range(first, first + len(note.passages))

    def passages_of(self, note_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(passage ids of these notes, the position in `note_ids` each passage came from)."""
        sizes = self.note_sizes[note_ids]
        owner = np.repeat(np.arange(note_ids.size), sizes)
        starts = np.repeat(self.note_first_passage[note_ids] - np.cumsum(sizes) + sizes, sizes)
        return starts + np.arange(owner.size), owner

    def note_of(self, pid: int) -> Note:
        return self.notes[int(self.passage_note[pid])]

    def knows(self, term: str) -> bool:
        """True when a passage or a note's title has the term."""
        return term in self.postings or term in self.title_postings

    @property
    def unseen_idf(self) -> float:
        """The idf of a word in no passage: the rarest there can be."""
        return self.idf("\0")

    def idf(self, term: str) -> float:
        df = self.postings.df(term)
        n = max(1, self.passage_count)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def title_idf(self, term: str) -> float:
        df = self.title_postings.df(term)
        n = max(1, len(self.notes))
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def similar_words(self, word: str) -> list[str]:
        """Vocabulary words of about the same length and first letter: where typo look-ups search."""
        return self.typo_words.similar(word)

    def completions(self, start: str, limit: int = 3) -> list[str]:
        """The most frequent vocabulary words that begin with `start` ("jav" → "java")."""
        words = self.typo_words.sorted_words
        i = bisect.bisect_left(words, start)
        found = []
        while i < len(words) and words[i].startswith(start) and len(found) < 50:
            found.append(words[i])
            i += 1
        found.sort(key=lambda w: -self.postings.df(w))
        return found[:limit]


@dataclass(frozen=True)
class SavedTables:
    """The base posting tables of an index (all three share one term → row mapping)."""

    text: PostingTable
    title: PostingTable
    key: PostingTable
    avg_length: float


def typo_candidate(term: str) -> bool:
    """Vocabulary words that typos are looked up among: plain ASCII words of 4 letters or more."""
    return len(term) >= 4 and term[0].isalpha() and term.isascii() and not term.startswith(PREFIX_MARK)
