"""Reading, parsing and tokenizing many notes on every core.

A cold build of a big blog is pure-Python work per line and per word: one process can use
one core. Worker processes each read, parse and tokenize a share of the files into a
vocabulary of their own; the parent maps their term ids into the shared vocabulary with
one numpy gather per share. Notes cross back cheaply because their passages are columns
(knowledge.columns), not one object each.

Workers are forked (Linux), so a script or the bot's entry point is never imported again
in them; elsewhere, or when the pool cannot start, the files are read here, one by one.
"""
from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np

from ..columns import PassageColumns
from ..index import PostingTable
from ..model import LoadProblem, Note
from ..notes import ReadJob, read_notes
from .postings import SortedPairs, merge_sorted
from .words import NOTE_TERMS_ARRAYS, NoteTerms, Vocabulary, interned, split_terms, tokenize_note

_log = logging.getLogger(__name__)

MIN_FILES = 400  # below this, starting processes costs more than it saves
SHARES_PER_WORKER = 8  # smaller shares balance the workers (notes differ in size)
PROGRESS_STEP = 100  # files read here between two progress reports


def default_workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


@dataclass
class ParallelReader:
    """A `read_many` for knowledge.notes.load_notes that also tokenizes what it reads:
    `terms` collects the NoteTerms of every note it parsed, ids in `vocabulary`, without their
    (term, frequency) pairs: `text_table` merges those, sorted by the workers."""

    vocabulary: dict[str, int]
    workers: int = field(default_factory=default_workers)
    terms: dict[str, NoteTerms] = field(default_factory=dict)
    # Each share's sorted pairs, the map of its term ids to the vocabulary's, and its notes' paths.
    blocks: list[tuple[SortedPairs, np.ndarray, list[str]]] = field(default_factory=list)
    progress: Callable[[int, int], None] | None = None  # (files read, files to read), now and then

    def __call__(self, jobs: list[ReadJob]) -> list[Note | LoadProblem | None]:
        if self.workers < 2 or len(jobs) < MIN_FILES or not sys.platform.startswith("linux"):
            return self._here(jobs)  # the caller tokenizes what it needs
        try:
            return self._in_workers(jobs)
        except (OSError, BrokenProcessPool) as error:
            _log.warning("Reading notes in %d processes failed (%s); reading them in this one", self.workers, error)
            self.terms.clear()
            self.blocks.clear()
            return self._here(jobs)

    def _here(self, jobs: list[ReadJob]) -> list[Note | LoadProblem | None]:
        if self.progress is None:
            return read_notes(jobs)
        results: list[Note | LoadProblem | None] = []
        for start in range(0, len(jobs), PROGRESS_STEP):
            results.extend(read_notes(jobs[start : start + PROGRESS_STEP]))
            self.progress(len(results), len(jobs))
        return results

    def text_table(self, notes: tuple[Note, ...]) -> tuple[PostingTable, float] | None:
        """The text table of an index of exactly `notes`, in this order, from the workers'
        sorted shares (once: they are freed); None unless the workers read all of them, in order."""
        paths = [path for _, _, share_paths in self.blocks for path in share_paths]
        if not self.blocks or paths != [note.path for note in notes]:
            return None
        blocks, ids = [b for b, _, _ in self.blocks], [ids for _, ids, _ in self.blocks]
        self.blocks.clear()  # merge_sorted frees each block once it is copied
        return merge_sorted(blocks, ids, len(self.vocabulary))

    def _in_workers(self, jobs: list[ReadJob]) -> list[Note | LoadProblem | None]:
        results: list[Note | LoadProblem | None] = []
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            for share in pool.map(read_and_tokenize, _shares(jobs, self.workers)):
                ids = self._intern(share.words)
                self.terms.update(share.split(ids))
                self.blocks.append((share.pairs, ids, [r.path for r in share.results if isinstance(r, Note)]))
                results.extend(share.results)
                if self.progress is not None:
                    self.progress(len(results), len(jobs))
        return results

    def _intern(self, words: list[str]) -> np.ndarray:
        """The shared ids of a share's words (new ones appended to the vocabulary)."""
        return np.asarray(interned(words, self.vocabulary), dtype=np.int32)


@dataclass(frozen=True)
class Share:
    """What a worker sends back: few big objects, because pickling many small ones is slow."""

    results: list[Note | LoadProblem | None]  # notes' passages share one PassageColumns
    words: list[str]  # the share's vocabulary, in id order
    # The share's notes' NoteTerms one after the other (content_hash unused), without their
    # (term, frequency) pairs: those travel once, sorted by term, in `pairs`.
    terms: NoteTerms
    sizes: dict[str, list[int]]  # per NoteTerms array, its length in each note, in order
    pairs: SortedPairs  # the same pairs sorted by term: the sort is done here, on every core

    def split(self, ids: np.ndarray) -> dict[str, NoteTerms]:
        """Each note's NoteTerms, term ids mapped through `ids` (share id → shared id)."""
        notes = [r for r in self.results if isinstance(r, Note)]
        arrays = {name: getattr(self.terms, name) for name in NOTE_TERMS_ARRAYS}
        parts = split_terms(arrays, self.sizes, [note.content_hash for note in notes], ids)
        return {note.path: part for note, part in zip(notes, parts)}


def read_and_tokenize(jobs: list[ReadJob]) -> Share:
    """One worker's share: the notes as load_notes expects them, tokenized into a vocabulary
    of the share's own."""
    vocabulary = Vocabulary()
    results = read_notes(jobs)
    notes = [result for result in results if isinstance(result, Note)]
    parts = [tokenize_note(note, vocabulary) for note in notes]
    shared = PassageColumns.join([note.passages for note in notes]).split([len(note.passages) for note in notes])
    by_path = {note.path: dataclasses.replace(note, passages=own) for note, own in zip(notes, shared)}
    results = [by_path[r.path] if isinstance(r, Note) else r for r in results]
    joined = NoteTerms("", **{name: np.concatenate([getattr(p, name) for p in parts]) if parts
                              else np.zeros(0, np.int32) for name in NOTE_TERMS_ARRAYS})
    pairs = SortedPairs.of([joined])
    joined = dataclasses.replace(joined, term_ids=np.zeros(0, np.int32), tfs=np.zeros(0, np.float32))
    sizes = {name: [0 if name in ("term_ids", "tfs") else getattr(p, name).size for p in parts]
             for name in NOTE_TERMS_ARRAYS}
    return Share(results, list(vocabulary), joined, sizes, pairs)


def _shares(jobs: list[ReadJob], workers: int) -> list[list[ReadJob]]:
    """Consecutive runs of jobs (the index numbers notes in this order) of about equal bytes:
    equal work, so that no worker is left finishing a big share alone."""
    count = min(len(jobs), workers * SHARES_PER_WORKER)
    ends = np.cumsum([max(job.size, 1) for job in jobs])
    cuts = np.searchsorted(ends, ends[-1] * np.arange(1, count) / count, side="right").tolist()
    bounds = [0, *sorted(set(cuts) - {0, len(jobs)}), len(jobs)]
    return [jobs[a:b] for a, b in zip(bounds, bounds[1:])]
