"""Layers: a few notes changed → a new index that shares everything else.

The new notes' passages are indexed on their own and stacked as a layer over the old
posting tables; the passages of replaced or deleted notes are marked dead (they score
zero). Nothing of the old index is modified: it keeps answering until the new one is
swapped in. When the layers grow large, or a change regroups translations in a way only
a full build can (an explicit translation key, a second note in one language), the caller
falls back to a full build. A reload layers the files changed on disk; a start, those
changed since the cache was written.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..index import Index, LayeredTable, typo_candidate
from ..model import Note, NoteGroup
from .grouping import explicit_key
from .postings import tables_of
from .words import Vocabulary, tokenize_note

MAX_LAYERS = 8
MAX_LAYERED_SHARE = 0.1  # past this share of passages in layers, a full build is cheaper to search


def affected_groups(old: Index, new: Index, changed: list[Note], removed: list[str]) -> set[int]:
    """The groups of `new` (apply_changes of `old`) that changed notes joined or removed notes left
    (group ids stay across apply_changes: new groups are appended)."""
    return {int(new.note_group[new.note_ids[note.path]]) for note in changed} | \
        {int(old.note_group[old.note_ids[path]]) for path in removed}


def apply_changes(index: Index, changed: list[Note], removed: list[str]) -> Index | None:
    """The index with `changed` notes (new or edited, by path) and without `removed` paths,
    or None when only a full build can do it right."""
    groups = _regroup(index, changed, removed)
    if groups is None or len(index.postings.layers) >= MAX_LAYERS:
        return None
    # Passages added in layers and passages left dead (removed or replaced notes) both cost every question:
    # a start over a cache of other folders removes most of it, and is a full build.
    gone = sum(int(index.note_sizes[index.note_ids[path]]) for path in removed)
    layered = index.layered_passages + sum(len(n.passages) for n in changed) + index.dead.size + gone
    if layered > MAX_LAYERED_SHARE * max(1, index.passage_count):
        return None
    return _extend(index, groups, changed, removed)


def _regroup(index: Index, changed: list[Note], removed: list[str]) -> list[NoteGroup] | None:
    groups = list(index.groups)
    group_of = {path: int(index.note_group[nid]) for path, nid in index.note_ids.items()}
    by_key = {note.key: g for g, group in enumerate(groups) for note in group.notes}
    for path in removed:
        g = group_of[path]
        groups[g] = NoteGroup(groups[g].key, tuple(n for n in groups[g].notes if n.path != path))
    for note in changed:
        if explicit_key(note) is not None:
            return None  # explicit keys can join or split groups anywhere
        g = group_of.get(note.path)
        if g is not None:  # an edit: same file, same group if key and language stay
            old = next(n for n in groups[g].notes if n.path == note.path)
            if (old.key, old.lang, explicit_key(old)) != (note.key, note.lang, None):
                return None
            groups[g] = NoteGroup(groups[g].key, tuple(note if n.path == note.path else n for n in groups[g].notes))
            continue
        g = by_key.get(note.key)
        if g is None:
            groups.append(NoteGroup(note.key, (note,)))
            by_key[note.key] = len(groups) - 1
        elif any(n.lang == note.lang for n in groups[g].notes):
            return None  # two notes of one language: the full grouping decides which stays
        else:
            groups[g] = NoteGroup(groups[g].key, (*groups[g].notes, note))
    return groups


def _extend(index: Index, groups: list[NoteGroup], changed: list[Note], removed: list[str]) -> Index:
    vocabulary = Vocabulary()  # the layer's own term ids: tables map terms, not ids, across layers
    parts = [tokenize_note(note, vocabulary) for note in changed]
    first_note, first_passage = len(index.notes), index.passage_count
    notes = index.notes + tuple(changed)
    group_index = {note.path: g for g, group in enumerate(groups) for note in group.notes}

    replaced = [index.note_ids[n.path] for n in changed if n.path in index.note_ids]
    gone = replaced + [index.note_ids[path] for path in removed]
    note_group = np.concatenate([index.note_group, np.asarray([group_index[n.path] for n in changed], dtype=np.int32)])
    note_group[gone] = -1
    sizes = np.asarray([len(n.passages) for n in changed], dtype=np.int32)
    starts = first_passage + np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int32) if changed else \
        np.zeros(0, dtype=np.int32)
    dead_ids, _ = index.passages_of(np.asarray(gone, dtype=np.int32))
    note_ids = dict(index.note_ids)
    for path in removed:
        del note_ids[path]
    for i, note in enumerate(changed):
        note_ids[note.path] = first_note + i

    layer = tables_of(parts, list(vocabulary), first_passage, first_note, index.avg_length)
    fresh = [t for t in layer.text.rows if t not in index.postings and typo_candidate(t)]
    alive = [note for group in groups for note in group.notes]
    return dataclasses.replace(
        index,
        groups=tuple(groups),
        notes=notes,
        note_group=note_group,
        passage_note=np.concatenate([index.passage_note,
                                     np.repeat(np.arange(first_note, len(notes), dtype=np.int32), sizes)]),
        passage_local=np.concatenate([index.passage_local] + [np.arange(size, dtype=np.int32) for size in sizes]),
        postings=LayeredTable(index.postings.layers + (layer.text,)),
        title_postings=LayeredTable(index.title_postings.layers + (layer.title,)),
        key_postings=LayeredTable(index.key_postings.layers + (layer.key,)),
        typo_words=index.typo_words.with_words(fresh) if fresh else index.typo_words,
        note_first_passage=np.concatenate([index.note_first_passage, starts]).astype(np.int32),
        note_sizes=np.concatenate([index.note_sizes, sizes]).astype(np.int32),
        note_ids=note_ids,
        languages=frozenset(note.lang for note in alive),
        dead=np.unique(np.concatenate([index.dead, dead_ids])).astype(np.int32),
        layered_passages=index.layered_passages + int(sizes.sum()),
    )
