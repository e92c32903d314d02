"""Reload: the notes as they are on disk now, as a new Engine (the old one answers until it is swapped in).

Only files whose size or modification time changed are read. When few changed, the new index
shares the old one's tables and adds theirs (knowledge.indexing.layers); else it is built again.
"""
from __future__ import annotations

import dataclasses

from ..engine import Engine
from ..model import Note
from ..names import untranslated_names
from ..notes import load_notes
from .cache import SavedVectors
from .layers import affected_groups, apply_changes
from .pipeline import build_engine
from .vectors import embed_changed


def refresh_engine(engine: Engine) -> Engine:
    """The notes as they are on disk now: `engine` with the changed files, or a full build (from the
    cache) when only that can do it right."""
    options = engine.options
    before = {note.path: note for note in engine.notes}
    loaded = load_notes(engine.folders, max_bytes=options.max_note_bytes, known=before, stamps=engine.stamps)
    changed = [note for note in loaded.notes if before.get(note.path) is not note]
    removed = sorted(before.keys() - {note.path for note in loaded.notes})
    if not changed and not removed:
        return dataclasses.replace(engine, problems=loaded.problems, stamps=loaded.stamps)
    updated = with_changes(engine, changed, removed)
    if updated is None:
        dense = engine.index.dense
        known = SavedVectors(engine.vectors, dense.projection) if dense is not None else None
        return build_engine(engine.folders, options, known=known)
    return dataclasses.replace(updated, problems=loaded.problems, stamps=loaded.stamps)


def with_changes(engine: Engine, changed: list[Note], removed: list[str]) -> Engine | None:
    """`engine` with `changed` notes (new or edited, by path) and without the `removed` paths, sharing
    everything else; None when only a full build can do it right."""
    old = engine.index
    index = apply_changes(old, changed, removed)
    if index is None:
        return None
    affected = affected_groups(old, index, changed, removed)
    vectors = engine.vectors
    if index.dense is not None and engine.encoder is not None and affected:
        dense, vectors = embed_changed(engine.encoder, index, affected, vectors, index.dense)
        index = dataclasses.replace(index, dense=dense)
    names = engine.names | untranslated_names(index.groups[g] for g in affected)
    return dataclasses.replace(engine, index=index, choices=engine.choices.with_notes(changed), vectors=vectors,
                               names=names)
