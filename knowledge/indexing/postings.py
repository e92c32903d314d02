"""The word index: tokenized notes → posting tables (term → passages with BM25 weights,
term → notes whose title has it, term → table rows whose subject has it) and the Index.

Workers sort their own share of the pairs (SortedPairs, knowledge.indexing.reading); the index
only merges the shares (merge_sorted), with no Python loop per term or per pair.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..index import Index, LayeredTable, PostingTable, SavedTables, TypoWords
from ..model import Note, NoteGroup
from .words import NoteTerms

K1 = 1.2
B = 0.5  # passages are short and similar in length: mild length normalisation

def _joined(parts: list[NoteTerms], name: str, dtype: type) -> np.ndarray:
    arrays = [getattr(part, name) for part in parts]
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)


def tables_of(parts: list[NoteTerms], terms_of: list[str], first_passage: int = 0, first_note: int = 0,
              avg_length: float | None = None, text: tuple[PostingTable, float] | None = None,
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
    def of(cls, parts: list[NoteTerms]) -> SortedPairs:
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
    weights = bm25_weights(tfs, lengths, passages, avg_length).astype(np.float16)
    if first_passage:
        passages += np.int32(first_passage)
    return PostingTable({}, offsets, passages, weights), avg_length


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


def assemble_index(groups: tuple[NoteGroup, ...], notes: tuple[Note, ...], parts: list[NoteTerms],
                   vocabulary: dict[str, int], saved: SavedTables | None = None,
                   text: tuple[PostingTable, float] | None = None, typo_words: TypoWords | None = None) -> Index:
    """Posting tables from tokenized notes (in any order): concatenation and one sort, no Python
    loop per term (or the tables saved with the cache, when they were made from these very
    notes, with their typo words; or `text`, their text table that workers sorted, see merge_sorted)."""
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
    return Index(
        groups=groups,
        notes=notes,
        note_group=note_group,
        passage_note=passage_note,
        passage_local=passage_local,
        postings=postings,
        title_postings=LayeredTable((tables.title,)),
        key_postings=LayeredTable((tables.key,)),
        typo_words=typo_words if typo_words is not None else TypoWords.of(tables.text),
        languages=frozenset(note.lang for note in notes),
        note_first_passage=first.astype(np.int32),
        note_sizes=sizes.astype(np.int32),
        note_ids={note.path: nid for nid, note in enumerate(notes)},
        avg_length=tables.avg_length,
    )
