"""The search index: an inverted index over normalized terms of every passage of every note.

Built once from note groups, then read-only (safe to share between threads and to swap
atomically on reload). Postings are numpy arrays so that a question scores only the
passages that share a term with it, without a Python loop per passage.
"""
from __future__ import annotations

import bisect
import dataclasses
import math
from collections import Counter, defaultdict
from functools import lru_cache
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from .columns import KINDS, PassageList
from .model import Note, NoteGroup, Passage
from .notes import note_aliases
from .text import PREFIX_MARK, terms

if TYPE_CHECKING:
    from .semantic import DenseIndex

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
    weights: np.ndarray | None = None  # float32, parallel to items

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
        return Postings(self.items[lo:hi], None if self.weights is None else self.weights[lo:hi])

    def df(self, term: str) -> int:
        row = self.rows.get(term)
        return 0 if row is None else int(self.offsets[row + 1] - self.offsets[row])

    @classmethod
    def from_pairs(cls, rows: Mapping[str, int], term_ids: np.ndarray, items: np.ndarray) -> "PostingTable":
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
    vocabulary: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (first char, length) → words
    sorted_words: tuple[str, ...] = ()  # the same words, sorted: completes a word cut short
    note_first_passage: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    note_sizes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # passages per note
    note_ids: dict[str, int] = field(default_factory=dict)  # note path → note id
    languages: frozenset[str] = frozenset()
    avg_length: float = 1.0  # mean passage length, for BM25 of passages added later
    dead: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # passages of replaced notes
    layered_passages: int = 0  # passages indexed in layers over the base (incremental reloads)
    dense: DenseIndex | None = None  # sentence vectors of the notes' sections (None: lexical search only)

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
    plain: tuple = ((), (), ())
    # The questions an author taught the note (front matter aliases/questions) count like its
    # title: in the title table, and like a heading over every passage, so that their words
    # are known to the search even where the body never uses them.
    aliases = note_aliases(note.meta)
    taught = _shared_terms((), aliases) if aliases else ()
    kinds = columns.kinds[first : passages.stop].tolist()
    section_ids = columns.section_ids[first : passages.stop].tolist()
    for i, (kind, section) in enumerate(zip(kinds, section_ids), start=first):
        cells, header, _ = extras.get(i, plain)
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


@dataclass(frozen=True)
class SavedTables:
    """The base posting tables of an index (all three share one term → row mapping)."""

    text: PostingTable
    title: PostingTable
    key: PostingTable
    avg_length: float


def _joined(parts: list[NoteTerms], name: str, dtype: type) -> np.ndarray:
    arrays = [getattr(part, name) for part in parts]
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)


def tables_of(parts: list[NoteTerms], terms_of: list[str], first_passage: int = 0, first_note: int = 0,
              avg_length: float | None = None, text: "tuple[PostingTable, float] | None" = None,
              rows: Mapping[str, int] | None = None) -> SavedTables:
    """Posting tables of tokenized notes whose passages and notes are numbered from
    `first_passage` and `first_note` (a whole index from 0, a reload's layer after the old
    index). `avg_length` is the mean passage length BM25 normalises by (default: theirs).
    `text`: their text table and mean passage length, already made (see merge_sorted).
    `rows`: term → id, the inverse of `terms_of`, when the caller has it (a big blog's takes
    tens of MB) and no one will add to it."""
    counts = _joined(parts, "counts", np.int64)
    if rows is None:
        rows = {term: i for i, term in enumerate(terms_of)}
    if text is None:  # one block, sorted here (workers sort several, see knowledge.parallel)
        text = merge_sorted([SortedPairs.of(parts)], [np.arange(len(terms_of), dtype=np.int32)], len(terms_of),
                            first_passage, avg_length)
    table, avg_length = dataclasses.replace(text[0], rows=rows), text[1]
    title_notes = np.repeat(np.arange(first_note, first_note + len(parts), dtype=np.int32),
                            [p.title_ids.size for p in parts])
    title = PostingTable.from_pairs(rows, _joined(parts, "title_ids", np.int32), title_notes)
    passage_ids = np.arange(first_passage, first_passage + counts.size, dtype=np.int32)
    key_pids = np.repeat(passage_ids, _joined(parts, "key_counts", np.int64))
    key = PostingTable.from_pairs(rows, _joined(parts, "key_ids", np.int32), key_pids)
    return SavedTables(table, title, key, avg_length)


def passage_lengths(pids: np.ndarray, tfs: np.ndarray, count: int) -> np.ndarray:
    """Each passage's length for BM25: the sum of its term frequencies."""
    return np.bincount(pids, weights=tfs, minlength=count).astype(np.float32)


@dataclass(frozen=True)
class SortedPairs:
    """A block of consecutive passages' (term, passage, tf) pairs, sorted by term then passage:
    a worker sorts its own block, so that the index only merges blocks (see merge_sorted)."""

    terms: np.ndarray  # int32 term ids (the block's own vocabulary) that occur, ascending
    sizes: np.ndarray  # int64 pairs of each of those terms
    passages: np.ndarray  # int32 passage number inside the block, per pair
    tfs: np.ndarray  # float32 per pair
    lengths: np.ndarray  # float32 per passage of the block

    @classmethod
    def of(cls, parts: list[NoteTerms]) -> "SortedPairs":
        counts = _joined(parts, "counts", np.int64)
        pids = np.repeat(np.arange(counts.size, dtype=np.int32), counts)
        term_ids = _joined(parts, "term_ids", np.int32)
        tfs = _joined(parts, "tfs", np.float32)
        order = np.argsort(term_ids, kind="stable")
        per_term = np.bincount(term_ids)
        terms = np.flatnonzero(per_term)
        return cls(terms.astype(np.int32), per_term[terms].astype(np.int64), pids[order], tfs[order],
                   passage_lengths(pids, tfs, counts.size))


def merge_sorted(blocks: list[SortedPairs], term_ids: list[np.ndarray], term_count: int, first_passage: int = 0,
                 avg_length: float | None = None) -> tuple[PostingTable, float]:
    """The text table of blocks of passages numbered one block after the other from
    `first_passage`, and the mean passage length BM25 normalised by (default: theirs).
    `term_ids[b]` maps block b's term ids to the index's. A sort of one entry per
    (block, term), not per pair: each term's rows are its blocks' rows, block by block.
    Empties `blocks`, each as soon as its pairs are placed: millions of pairs must not be
    copied all at once."""
    terms = np.concatenate([ids[block.terms] for block, ids in zip(blocks, term_ids)])
    sizes = np.concatenate([block.sizes for block in blocks])
    which = np.concatenate([np.full(block.terms.size, b, dtype=np.int32) for b, block in enumerate(blocks)])
    offsets = np.zeros(term_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, weights=sizes, minlength=term_count).astype(np.int64), out=offsets[1:])
    order = np.lexsort((which, terms))  # by term, then block
    placed = np.empty(sizes.size, dtype=np.int64)  # where each (block, term) run starts in the table
    placed[order] = np.cumsum(sizes[order]) - sizes[order]
    del terms, which, order
    total = int(sizes.sum())
    passages = np.empty(total, dtype=np.int32)
    tfs = np.empty(total, dtype=np.float32)
    lengths = np.concatenate([block.lengths for block in blocks])
    run, done = 0, 0  # (block, term) runs and passages placed so far
    while blocks:
        block = blocks.pop(0)
        runs = block.terms.size
        inside = np.arange(block.passages.size, dtype=np.int64) - np.repeat(np.cumsum(block.sizes) - block.sizes,
                                                                             block.sizes)
        to = np.repeat(placed[run : run + runs], block.sizes) + inside
        passages[to] = block.passages + np.int32(done)
        tfs[to] = block.tfs
        run, done = run + runs, done + block.lengths.size
        del block, inside, to
    if avg_length is None:
        avg_length = float(lengths.mean()) if lengths.size else 1.0
    weights = bm25_weights(tfs, lengths, passages, avg_length)
    if first_passage:
        passages += np.int32(first_passage)
    return PostingTable({}, offsets, passages, weights), avg_length


def typo_candidate(term: str) -> bool:
    """Vocabulary words that typos are looked up among: plain ASCII words of 4 letters or more."""
    return len(term) >= 4 and term[0].isalpha() and term.isascii() and not term.startswith(PREFIX_MARK)


def bm25_weights(tfs: np.ndarray, lengths: np.ndarray, passages: np.ndarray, avg_length: float) -> np.ndarray:
    """BM25's term-frequency part for each (term, passage) pair; idf is applied per question.
    `lengths` are the passages' lengths, `passages` each pair's passage. Written over `tfs`
    (float32, owned by the caller): with millions of pairs, every temporary array counts."""
    norm = np.divide(lengths, max(avg_length, 1e-9), dtype=np.float32)  # per passage, then per pair
    norm *= B
    norm += 1.0 - B
    norm *= K1
    norm = norm[passages]
    norm += tfs
    tfs *= np.float32(K1 + 1.0)
    tfs /= norm
    return tfs


def tokenize_notes(notes: tuple[Note, ...], tokenized: Mapping[str, NoteTerms] | None,
                   vocabulary: dict[str, int]) -> list[NoteTerms]:
    """Each note's NoteTerms: from `tokenized` when its content hash matches, else freshly made."""
    parts: list[NoteTerms] = []
    for note in notes:
        cached = tokenized.get(note.path) if tokenized else None
        parts.append(cached if cached is not None and cached.content_hash == note.content_hash
                     else tokenize_note(note, vocabulary))
    return parts


def assemble_index(groups: tuple[NoteGroup, ...], notes: tuple[Note, ...], parts: list[NoteTerms],
                   vocabulary: dict[str, int], saved: "SavedTables | None" = None,
                   text: "tuple[PostingTable, float] | None" = None) -> Index:
    """Posting tables from tokenized notes (in any order): concatenation and one sort, no Python
    loop per term (or the tables saved with the cache, when they were made from these very
    notes; or `text`, their text table that workers sorted, see merge_sorted)."""
    group_of = {note.path: g for g, group in enumerate(groups) for note in group.notes}
    note_group = np.fromiter((group_of[note.path] for note in notes), dtype=np.int32, count=len(notes))
    sizes = np.asarray([len(n.passages) for n in notes], dtype=np.int64)
    passage_note = np.repeat(np.arange(len(notes), dtype=np.int32), sizes)
    first = np.zeros(len(notes), dtype=np.int64)
    if len(notes) > 1:
        np.cumsum(sizes[:-1], out=first[1:])
    passage_local = (np.arange(passage_note.size, dtype=np.int64) - first[passage_note]).astype(np.int32)
    # The vocabulary is this index's own from here on: nothing is tokenized into it any more
    # (an incremental reload tokenizes into a vocabulary of its own), so its rows are the tables'.
    tables = saved or tables_of(parts, list(vocabulary), text=text, rows=vocabulary)
    postings = LayeredTable((tables.text,))
    vocabulary_buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
    for term in tables.text:
        if typo_candidate(term):
            vocabulary_buckets[(term[0], len(term))].append(term)
    return Index(
        groups=groups,
        notes=notes,
        note_group=note_group,
        passage_note=passage_note,
        passage_local=passage_local,
        postings=postings,
        title_postings=LayeredTable((tables.title,)),
        key_postings=LayeredTable((tables.key,)),
        vocabulary=dict(vocabulary_buckets),
        sorted_words=tuple(sorted(w for words in vocabulary_buckets.values() for w in words)),
        languages=frozenset(note.lang for note in notes),
        note_first_passage=first.astype(np.int32),
        note_sizes=sizes.astype(np.int32),
        note_ids={note.path: nid for nid, note in enumerate(notes)},
        avg_length=tables.avg_length,
    )

