"""Words: each note's passages become weighted terms, interned into a shared vocabulary.

The word-index stage of the build (knowledge.indexing.postings) sorts these into posting tables;
a note whose bytes did not change keeps its NoteTerms from one build (and one run) to the next.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..columns import KINDS, PassageList
from ..model import Note
from ..notes import note_aliases
from ..text import terms

SECTION_WEIGHT = 0.4  # heading terms count a little towards every passage below them
HEADER_WEIGHT = 0.3
CODE_WEIGHT = 0.5  # code finds its note (a script may be all a note has) but counts less than prose

def passage_terms(kind: str, text: str, section: tuple[str, ...], cells: tuple[str, ...] = (),
                  header: tuple[str, ...] = ()) -> dict[str, float]:
    """Weighted term frequencies of one passage: its own words, plus a share of its headings'.

    A table row counts its cells, and its header only a little, since every row of the
    table repeats it (the row's subject, its first cell, is boosted at search time).
    """
    if kind == "row" and cells:
        freq: dict[str, float] = Counter(terms(" \n ".join(cells)))
        shared = _shared_terms(tuple(header), section[-2:])
    else:
        freq = Counter(terms(text))
        if kind == "code":
            freq = {term: CODE_WEIGHT * tf for term, tf in freq.items()}
        shared = _shared_terms((), section[-2:])
    for term, weight in shared:
        freq[term] = freq.get(term, 0.0) + weight
    return freq


@lru_cache(maxsize=1 << 14)
def _shared_terms(header: tuple[str, ...], headings: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """(term, weight) that a table header and the nearest headings add to every passage under them."""
    weights: dict[str, float] = {}
    for labels, weight in ((header, HEADER_WEIGHT), (headings, SECTION_WEIGHT)):
        for label in labels:
            for term in terms(label):
                weights[term] = weights.get(term, 0.0) + weight
    return tuple(weights.items())


@dataclass(frozen=True)
class NoteTerms:
    """One note tokenized: every passage's (term id, frequency) pairs, its title's and its
    row subjects' term ids. Ids point into a shared, append-only vocabulary, so a note that
    did not change keeps its NoteTerms from one build (and one run) to the next."""

    content_hash: str
    term_ids: np.ndarray  # int32, the passages' pairs one after the other
    tfs: np.ndarray  # float32, parallel to term_ids
    counts: np.ndarray  # int32 per passage: how many pairs it has
    title_ids: np.ndarray  # int32
    key_ids: np.ndarray  # int32, row subjects' terms one after the other
    key_counts: np.ndarray  # int32 per passage (0 for passages that are not rows)


NOTE_TERMS_ARRAYS = ("term_ids", "tfs", "counts", "title_ids", "key_ids", "key_counts")  # NoteTerms' arrays
_TERM_ID_ARRAYS = ("term_ids", "title_ids", "key_ids")


def split_terms(arrays: Mapping[str, np.ndarray], sizes: Mapping[str, Sequence[int]], hashes: Sequence[str],
                ids: np.ndarray | None = None) -> list[NoteTerms]:
    """Notes' NoteTerms from their arrays one after the other (`sizes[name][k]`: note k's
    share of array `name`), as views; `ids`, when given, maps the term ids first."""
    if ids is not None:
        arrays = {**arrays, **{name: ids[arrays[name]] for name in _TERM_ID_ARRAYS}}
    bounds = {name: np.cumsum([0, *sizes[name]]).tolist() for name in NOTE_TERMS_ARRAYS}
    if any(len(bound) != len(hashes) + 1 for bound in bounds.values()):
        raise ValueError("notes and arrays disagree")
    return [NoteTerms(content_hash, **{name: arrays[name][bounds[name][k] : bounds[name][k + 1]]
                                       for name in NOTE_TERMS_ARRAYS})
            for k, content_hash in enumerate(hashes)]


def tokenize_note(note: Note, vocabulary: dict[str, int]) -> NoteTerms:
    """Terms of a note, interned into `vocabulary` (new terms are appended). Reads the
    passages' columns directly: making a Passage object per passage would cost more."""
    passages = PassageList.of(note.passages)
    columns, first = passages.columns, passages.start
    texts, sections, extras = columns.texts, columns.sections, columns.extras
    term_ids: list[int] = []
    tfs: list[float] = []
    counts: list[int] = []
    key_ids: list[int] = []
    key_counts: list[int] = []
    plain: tuple = ((), (), (), "")
    # The questions an author taught the note (front matter aliases/questions) count like its
    # title: in the title table, and like a heading over every passage, so that their words
    # are known to the search even where the body never uses them.
    aliases = note_aliases(note.meta)
    taught = _shared_terms((), aliases) if aliases else ()
    kinds = columns.kinds[first : passages.stop].tolist()
    section_ids = columns.section_ids[first : passages.stop].tolist()
    for i, (kind, section) in enumerate(zip(kinds, section_ids), start=first):
        cells, header, _, _ = extras.get(i, plain)
        freq = passage_terms(KINDS[kind], texts[i], sections[section], cells, header)
        for term, weight in taught:
            freq[term] = freq.get(term, 0.0) + weight
        term_ids.extend(interned(freq, vocabulary))
        tfs.extend(freq.values())
        counts.append(len(freq))
        if cells:
            subject = set(terms(cells[0]))
            key_ids.extend(interned(subject, vocabulary))
            key_counts.append(len(subject))
        else:
            key_counts.append(0)
    title_ids = interned(set(terms(" ".join((note.title, *aliases)))), vocabulary)
    return NoteTerms(
        note.content_hash,
        np.asarray(term_ids, dtype=np.int32),
        np.asarray(tfs, dtype=np.float32),
        np.asarray(counts, dtype=np.int32),
        np.asarray(title_ids, dtype=np.int32),
        np.asarray(key_ids, dtype=np.int32),
        np.asarray(key_counts, dtype=np.int32),
    )


class Vocabulary(dict):
    """term → id, shared by the notes of an index; looking up a new term appends it."""

    def __missing__(self, term: str) -> int:
        self[term] = new = len(self)
        return new


def interned(words, vocabulary: dict[str, int]) -> list[int]:
    """Ids of the words, new ones appended to the vocabulary (a Vocabulary does it in C)."""
    if isinstance(vocabulary, Vocabulary):
        return list(map(vocabulary.__getitem__, words))
    return [vocabulary.setdefault(word, len(vocabulary)) for word in words]


def tokenize_notes(notes: tuple[Note, ...], tokenized: Mapping[str, NoteTerms] | None,
                   vocabulary: dict[str, int]) -> list[NoteTerms]:
    """Each note's NoteTerms: from `tokenized` when its content hash matches, else freshly made."""
    parts: list[NoteTerms] = []
    for note in notes:
        cached = tokenized.get(note.path) if tokenized else None
        parts.append(cached if cached is not None and cached.content_hash == note.content_hash
                     else tokenize_note(note, vocabulary))
    return parts
