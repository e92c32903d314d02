"""Projection: the blog's own principal directions, learned once from a sample of its rows.

Learned at the first build and kept with the vectors from then on (new rows are projected
with it), so that the raw 512-wide vectors never need to be kept: a blog that grows keeps
its directions, which describe the encoder's space more than any one note.
"""
from __future__ import annotations

import numpy as np

from ..dense import Projection

DIMENSIONS = 128  # kept after projection (fused ranking on the dev questions: 128 ≈ 512, 64 loses)
SAMPLE_ROWS = 20_000  # rows the projection is learned from
MIN_ROWS = 2 * DIMENSIONS  # below this a corpus is too small to learn directions from


def fit_projection(vectors: np.ndarray, dimensions: int = DIMENSIONS) -> Projection:
    sample = vectors
    if len(vectors) > SAMPLE_ROWS:  # evenly spread rows: deterministic, and enough for 128 directions
        sample = vectors[np.linspace(0, len(vectors) - 1, SAMPLE_ROWS).astype(np.int64)]
    sample = np.asarray(sample, dtype=np.float32)
    if len(sample) < MIN_ROWS:  # too few rows to tell directions apart: keep the encoder's own
        return Projection(np.zeros(sample.shape[1], np.float32), np.eye(sample.shape[1], dtype=np.float32),
                          len(vectors))
    mean = sample.mean(axis=0)
    _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
    return Projection(mean.astype(np.float32), np.ascontiguousarray(vt[:dimensions].T, dtype=np.float32), len(vectors))
