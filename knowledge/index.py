"""The search index: an inverted index over normalized terms of every passage of every note.

Built once from note groups, then read-only (safe to share between threads and to swap
atomically on reload). Postings are numpy arrays so that a question scores only the
passages that share a term with it, without a Python loop per passage.
"""
from __future__ import annotations

import bisect
import math
from array import array
from collections import Counter, defaultdict
from functools import lru_cache
from dataclasses import dataclass, field

import numpy as np

from .model import Note, NoteGroup, Passage
from .text import terms

K1 = 1.2
B = 0.5  # passages are short and similar in length: mild length normalisation
SECTION_WEIGHT = 0.4  # heading terms count a little towards every passage below them
HEADER_WEIGHT = 0.3
CODE_WEIGHT = 0.5  # code finds its note (a script may be all a note has) but counts less than prose


@dataclass(frozen=True)
class Postings:
    passages: np.ndarray  # int32 ids (passages, or notes for titles), ascending
    weights: np.ndarray | None = None  # float32 BM25 term-frequency part (idf applied at query time)

    @property
    def df(self) -> int:
        return int(self.passages.size)


@dataclass(frozen=True)
class PostingTable:
    """term → ids (and weights), stored as three flat arrays: compact, and fast to save and load."""

    rows: dict[str, int]  # term → row
    offsets: np.ndarray  # int64, one more than rows: row r spans items[offsets[r]:offsets[r + 1]]
    items: np.ndarray  # int32 ids, ascending within a row
    weights: np.ndarray | None = None  # float32, parallel to items

    def __contains__(self, term: object) -> bool:
        return term in self.rows

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, term: str) -> Postings | None:
        row = self.rows.get(term)
        if row is None:
            return None
        lo, hi = int(self.offsets[row]), int(self.offsets[row + 1])
        return Postings(self.items[lo:hi], None if self.weights is None else self.weights[lo:hi])

    def __getitem__(self, term: str) -> Postings:
        found = self.get(term)
        if found is None:
            raise KeyError(term)
        return found

    def df(self, term: str) -> int:
        row = self.rows.get(term)
        return 0 if row is None else int(self.offsets[row + 1] - self.offsets[row])

    @classmethod
    def from_pairs(cls, terms_of: list[str], term_ids: np.ndarray, items: np.ndarray,
                   weights: np.ndarray | None = None) -> "PostingTable":
        """Group (term id, item[, weight]) triples by term; `terms_of[i]` names term id i."""
        order = np.argsort(term_ids, kind="stable")  # stable: items stay ascending in each row
        counts = np.bincount(term_ids, minlength=len(terms_of))
        offsets = np.zeros(len(terms_of) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(
            {term: i for i, term in enumerate(terms_of)},
            offsets,
            np.ascontiguousarray(items[order], dtype=np.int32),
            None if weights is None else np.ascontiguousarray(weights[order], dtype=np.float32),
        )


@dataclass
class Index:
    groups: tuple[NoteGroup, ...]
    notes: tuple[Note, ...]  # flat, every note of every group
    note_group: np.ndarray  # note id → group id
    passage_note: np.ndarray  # passage id → note id
    passage_local: np.ndarray  # passage id → index in note.passages
    postings: PostingTable  # term → passages (with BM25 weights)
    title_postings: PostingTable  # term → note ids whose title has it
    key_postings: PostingTable  # term → ids of table rows whose first cell (the row's subject) has it
    vocabulary: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (first char, length) → words
    sorted_words: tuple[str, ...] = ()  # the same words, sorted: completes a word cut short
    note_first_passage: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    note_ids: dict[str, int] = field(default_factory=dict)  # note path → note id
    languages: frozenset[str] = frozenset()

    @property
    def passage_count(self) -> int:
        return int(self.passage_note.size)

    def passage(self, pid: int) -> Passage:
        return self.notes[int(self.passage_note[pid])].passages[int(self.passage_local[pid])]

    def passage_range(self, note: Note) -> range:
        """Passage ids of one note (they are consecutive)."""
        first = int(self.note_first_passage[self.note_ids[note.path]])
        return range(first, first + len(note.passages))

    def note_of(self, pid: int) -> Note:
        return self.notes[int(self.passage_note[pid])]

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
        found: list[str] = []
        reach = 3 if len(word) >= 7 else 2
        for length in range(len(word) - reach, len(word) + reach + 1):
            found.extend(self.vocabulary.get((word[0], length), ()))
        return found


    def completions(self, start: str, limit: int = 3) -> list[str]:
        """The most frequent vocabulary words that begin with `start` ("jav" → "java")."""
        i = bisect.bisect_left(self.sorted_words, start)
        found = []
        while i < len(self.sorted_words) and self.sorted_words[i].startswith(start) and len(found) < 50:
            found.append(self.sorted_words[i])
            i += 1
        found.sort(key=lambda w: -self.postings.df(w))
        return found[:limit]


def passage_terms(note: Note, passage: Passage) -> dict[str, float]:
    """Weighted term frequencies of one passage: its own words, plus a share of its headings'.

    A table row counts its cells, and its header only a little, since every row of the
    table repeats it (the row's subject, its first cell, is boosted at search time).
    """
    if passage.kind == "row" and passage.cells:
        freq: dict[str, float] = dict(Counter(term for cell in passage.cells for term in terms(cell)))
        extras = [(label, HEADER_WEIGHT) for label in passage.header]
    else:
        freq = dict(Counter(terms(passage.text)))
        if passage.kind == "code":
            freq = {term: CODE_WEIGHT * tf for term, tf in freq.items()}
        extras = []
    extras += [(heading, SECTION_WEIGHT) for heading in passage.section[-2:]]
    for text, weight in extras:
        for term in _repeated_terms(text):
            freq[term] = freq.get(term, 0.0) + weight
    return freq


@lru_cache(maxsize=1 << 14)
def _repeated_terms(text: str) -> tuple[str, ...]:
    """Terms of headings and table headers, which repeat over every passage below them."""
    return tuple(terms(text))


class _Pairs:
    """(term id, item, weight) triples collected in flat arrays, terms interned once."""

    def __init__(self, vocabulary: dict[str, int]) -> None:
        self.vocabulary = vocabulary
        self.term_ids = array("i")
        self.items = array("i")
        self.weights = array("f")

    def add(self, item: int, freq: dict[str, float] | set[str]) -> None:
        intern = self.vocabulary.setdefault
        vocabulary = self.vocabulary
        self.term_ids.extend([intern(term, len(vocabulary)) for term in freq])
        self.items.extend([item] * len(freq))
        if isinstance(freq, dict):
            self.weights.extend(freq.values())

    def table(self, bm25_lengths: np.ndarray | None = None) -> PostingTable:
        terms_of = list(self.vocabulary)
        term_ids = np.frombuffer(self.term_ids, dtype=np.int32)
        items = np.frombuffer(self.items, dtype=np.int32)
        weights = None
        if bm25_lengths is not None:
            tf = np.frombuffer(self.weights, dtype=np.float32)
            avg = float(bm25_lengths.mean()) if bm25_lengths.size else 1.0
            norm = K1 * (1.0 - B + B * bm25_lengths[items] / max(avg, 1e-9))
            weights = (tf * (K1 + 1.0) / (tf + norm)).astype(np.float32)
        return PostingTable.from_pairs(terms_of, term_ids, items, weights)


def build_index(groups: tuple[NoteGroup, ...]) -> Index:
    notes = tuple(note for group in groups for note in group.notes)
    note_group = np.fromiter(
        (g for g, group in enumerate(groups) for _ in group.notes), dtype=np.int32, count=len(notes)
    )
    passage_count = sum(len(note.passages) for note in notes)
    passage_note = np.repeat(np.arange(len(notes), dtype=np.int32), [len(n.passages) for n in notes])
    passage_local = np.concatenate([np.arange(len(n.passages), dtype=np.int32) for n in notes]) if notes else \
        np.zeros(0, dtype=np.int32)
    lengths = np.zeros(passage_count, dtype=np.float32)
    text_pairs, title_pairs, key_pairs = _Pairs({}), _Pairs({}), _Pairs({})
    pid = 0
    for nid, note in enumerate(notes):
        title_pairs.add(nid, set(terms(note.title)))
        for passage in note.passages:
            freq = passage_terms(note, passage)
            if passage.kind == "row" and passage.cells:
                key_pairs.add(pid, set(terms(passage.cells[0])))
            lengths[pid] = sum(freq.values())
            text_pairs.add(pid, freq)
            pid += 1
    postings = text_pairs.table(lengths)
    vocabulary: dict[tuple[str, int], list[str]] = defaultdict(list)
    for term in postings:
        if len(term) >= 4 and term[0].isalpha() and term.isascii() and not term.startswith("~"):
            vocabulary[(term[0], len(term))].append(term)
    return Index(
        groups=groups,
        notes=notes,
        note_group=note_group,
        passage_note=passage_note,
        passage_local=passage_local,
        postings=postings,
        title_postings=title_pairs.table(),
        key_postings=key_pairs.table(),
        vocabulary=dict(vocabulary),
        sorted_words=tuple(sorted(w for words in vocabulary.values() for w in words)),
        languages=frozenset(note.lang for note in notes),
        note_first_passage=np.cumsum([0] + [len(n.passages) for n in notes[:-1]], dtype=np.int64).astype(np.int32)
        if notes else np.zeros(0, dtype=np.int32),
        note_ids={note.path: nid for nid, note in enumerate(notes)},
    )
