"""The search index: an inverted index over normalized terms of every passage of every note.

Built once from note groups, then read-only (safe to share between threads and to swap
atomically on reload). Postings are numpy arrays so that a question scores only the
passages that share a term with it, without a Python loop per passage.
"""
from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .model import Note, NoteGroup, Passage
from .text import terms

K1 = 1.2
B = 0.5  # passages are short and similar in length: mild length normalisation
SECTION_WEIGHT = 0.4
HEADER_WEIGHT = 0.3
CODE_WEIGHT = 0.5  # code finds its note (a script may be all a note has) but counts less than prose  # heading terms count a little towards every passage below them


@dataclass(frozen=True)
class Postings:
    passages: np.ndarray  # int32 passage ids, ascending
    weights: np.ndarray  # float32 BM25 term-frequency part (idf applied at query time)

    @property
    def df(self) -> int:
        return int(self.passages.size)


@dataclass
class Index:
    groups: tuple[NoteGroup, ...]
    notes: tuple[Note, ...]  # flat, every note of every group
    note_group: np.ndarray  # note id → group id
    passage_note: np.ndarray  # passage id → note id
    passage_local: np.ndarray  # passage id → index in note.passages
    postings: dict[str, Postings]
    title_postings: dict[str, np.ndarray]  # term → note ids whose title has it
    key_postings: dict[str, np.ndarray]  # term → ids of table rows whose first cell (the row's subject) has it
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
        posting = self.postings.get(term)
        df = posting.df if posting is not None else 0
        n = max(1, self.passage_count)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def title_idf(self, term: str) -> float:
        ids = self.title_postings.get(term)
        df = 0 if ids is None else int(ids.size)
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
        found.sort(key=lambda w: -self.postings[w].df)
        return found[:limit]


def passage_terms(note: Note, passage: Passage) -> dict[str, float]:
    """Weighted term frequencies of one passage: its own words, plus a share of its headings'.

    A table row counts its cells, and its header only a little, since every row of the
    table repeats it (the row's subject, its first cell, is boosted at search time).
    """
    freq: dict[str, float] = defaultdict(float)
    if passage.kind == "row" and passage.cells:
        parts = [(cell, 1.0) for cell in passage.cells]
        parts += [(label, HEADER_WEIGHT) for label in passage.header]
    else:
        parts = [(passage.text, CODE_WEIGHT if passage.kind == "code" else 1.0)]
    parts += [(heading, SECTION_WEIGHT) for heading in passage.section[-2:]]
    for text, weight in parts:
        for term in terms(text):
            freq[term] += weight
    return freq


def build_index(groups: tuple[NoteGroup, ...]) -> Index:
    notes = tuple(note for group in groups for note in group.notes)
    note_group = np.fromiter(
        (g for g, group in enumerate(groups) for _ in group.notes), dtype=np.int32, count=len(notes)
    )
    raw: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    lengths: list[float] = []
    passage_note: list[int] = []
    passage_local: list[int] = []
    title_raw: dict[str, list[int]] = defaultdict(list)
    key_raw: dict[str, list[int]] = defaultdict(list)
    for nid, note in enumerate(notes):
        for term in set(terms(note.title)):
            title_raw[term].append(nid)
        for local, passage in enumerate(note.passages):
            pid = len(passage_note)
            passage_note.append(nid)
            passage_local.append(local)
            freq = passage_terms(note, passage)
            if passage.kind == "row" and passage.cells:
                for term in set(terms(passage.cells[0])):
                    key_raw[term].append(pid)
            lengths.append(sum(freq.values()))
            for term, tf in freq.items():
                ids, tfs = raw[term]
                ids.append(pid)
                tfs.append(tf)
    avg = (sum(lengths) / len(lengths)) if lengths else 1.0
    length_arr = np.asarray(lengths, dtype=np.float32)
    postings: dict[str, Postings] = {}
    for term, (ids, tfs) in raw.items():
        pids = np.asarray(ids, dtype=np.int32)
        tf = np.asarray(tfs, dtype=np.float32)
        norm = K1 * (1.0 - B + B * length_arr[pids] / avg)
        postings[term] = Postings(pids, (tf * (K1 + 1.0) / (tf + norm)).astype(np.float32))
    vocabulary: dict[tuple[str, int], list[str]] = defaultdict(list)
    for term in postings:
        if len(term) >= 4 and term[0].isalpha() and term.isascii() and not term.startswith("~"):
            vocabulary[(term[0], len(term))].append(term)
    return Index(
        groups=groups,
        notes=notes,
        note_group=note_group,
        passage_note=np.asarray(passage_note, dtype=np.int32),
        passage_local=np.asarray(passage_local, dtype=np.int32),
        postings=postings,
        title_postings={t: np.asarray(ids, dtype=np.int32) for t, ids in title_raw.items()},
        key_postings={t: np.asarray(ids, dtype=np.int32) for t, ids in key_raw.items()},
        vocabulary=dict(vocabulary),
        sorted_words=tuple(sorted(w for words in vocabulary.values() for w in words)),
        languages=frozenset(note.lang for note in notes),
        note_first_passage=np.cumsum([0] + [len(n.passages) for n in notes[:-1]], dtype=np.int64).astype(np.int32)
        if notes else np.zeros(0, dtype=np.int32),
        note_ids={note.path: nid for nid, note in enumerate(notes)},
    )
