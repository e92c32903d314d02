"""Embedding: row texts → sentence vectors, on every core.

The encoder is pure numpy and compute-bound (~60 tokens a row, about 350 rows a second on one
core), so a big blog's rows are shared out between forked worker processes, one BLAS thread
each (knowledge.encoder): they inherit the loaded model from the parent instead of loading it
again, and send back float16 vectors in chunks, which the parent writes into one preallocated
array. Elsewhere than Linux, or for a few rows, the parent embeds them itself.
"""
from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from ..encoder import WIDTH, Encoder

_log = logging.getLogger(__name__)

CHUNK_ROWS = 256  # rows a worker embeds between two reports: progress every second or so
MIN_PARALLEL_ROWS = 2_000  # below this, forking costs more than it saves

Progress = Callable[[str, int, int], None]  # (phase, done, total)

_worker_encoder: Encoder | None = None  # in a worker process only: the parent's, inherited by the fork


def embed_texts(encoder: Encoder, texts: Sequence[str], workers: int = 1,
                progress: Progress | None = None) -> np.ndarray:
    """(len(texts), WIDTH) float16 vectors."""
    out = np.empty((len(texts), WIDTH), dtype=np.float16)
    chunks = [(start, texts[start:start + CHUNK_ROWS]) for start in range(0, len(texts), CHUNK_ROWS)]
    done = 0
    if progress is not None and texts:
        progress("embed", 0, len(texts))  # the phase starts: a rate can be told from the first chunk on
    if workers > 1 and len(texts) >= MIN_PARALLEL_ROWS and sys.platform.startswith("linux"):
        try:
            for start, vectors in _in_workers(encoder, chunks, workers):
                out[start:start + len(vectors)] = vectors
                done += len(vectors)
                if progress is not None:
                    progress("embed", done, len(texts))
            return out
        except (OSError, BrokenProcessPool) as error:
            _log.warning("Embedding in %d processes failed (%s); embedding in this one", workers, error)
            done = 0
    for start, chunk in chunks:
        out[start:start + len(chunk)] = encoder.encode(chunk)
        done += len(chunk)
        if progress is not None:
            progress("embed", done, len(texts))
    return out


def _in_workers(encoder: Encoder, chunks: list[tuple[int, Sequence[str]]], workers: int):
    load = getattr(encoder, "load", None)
    if load is not None:
        load()  # loaded once, here: the workers share its pages
    # Forked: the initializer's argument is the parent's encoder itself, never pickled.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_adopt, initargs=(encoder,)) as pool:
        yield from pool.map(_embed_chunk, chunks)


def _adopt(encoder: Encoder) -> None:
    global _worker_encoder
    _worker_encoder = encoder


def _embed_chunk(chunk: tuple[int, Sequence[str]]) -> tuple[int, np.ndarray]:
    start, texts = chunk
    assert _worker_encoder is not None
    return start, _worker_encoder.encode(list(texts)).astype(np.float16)
