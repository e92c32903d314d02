"""Group a note with its translations: explicit key, else file key, else shared structure.

Everything is bucketing by hashable signatures (dicts), never pairwise comparison, so it is
O(n log n) in the number of notes (the log is the final sort).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ..model import NINE_LANGUAGES, OTHER_LANGUAGES, Note, NoteGroup

__all__ = ["group_translations", "explicit_key", "structure_signature"]

EXPLICIT_KEYS = ("translation_key", "ref", "lang_ref", "lang-ref")
MIN_SHARED_LINKS = 2
# A signature shared by more clusters than this is boilerplate (a common footer of links),
# not a fingerprint of one text; skipping it also keeps the first-fit merge linear.
MAX_SIGNATURE_CLUSTERS = 32
_LANG_ORDER = {lang: i for i, lang in enumerate(NINE_LANGUAGES + OTHER_LANGUAGES)}


def explicit_key(note: Note) -> str | None:
    """The front matter value that names a note's translation group, if the note has one."""
    for name in EXPLICIT_KEYS:
        value = note.meta.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def structure_signature(note: Note) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]] | None:
    """Link set + table shapes: what a translation keeps when its title and file name change."""
    links = tuple(sorted({url.rstrip("/") for url in note.links}))
    if len(links) < MIN_SHARED_LINKS:
        return None  # too little to be sure two notes are the same text
    return links, note.table_shapes


class _Cluster:
    __slots__ = ("members", "langs")

    def __init__(self, members: list[int], langs: set[str]) -> None:
        self.members = members
        self.langs = langs


def _split_by_language(indices: list[int], notes: Sequence[Note]) -> list[_Cluster]:
    """One cluster per bucket; a second note in a language already present (later by path)
    becomes its own cluster: two notes in one language are never translations of each other."""
    main = _Cluster([], set())
    extra: list[_Cluster] = []
    for i in sorted(indices, key=lambda i: notes[i].path):
        lang = notes[i].lang
        if lang in main.langs:
            extra.append(_Cluster([i], {lang}))
        else:
            main.members.append(i)
            main.langs.add(lang)
    return [main] + extra


def group_translations(notes: Sequence[Note]) -> tuple[NoteGroup, ...]:
    """One NoteGroup per note across languages, sorted by key (then path)."""
    # 1 + 2: explicit front matter key where there is one, else the file key.
    buckets: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, note in enumerate(notes):
        explicit = explicit_key(note)
        buckets[("explicit", explicit) if explicit else ("file", note.key)].append(i)
    clusters: list[_Cluster] = []
    for bucket in buckets.values():
        clusters.extend(_split_by_language(bucket, notes))

    # 3: clusters whose notes share a structure signature merge when their languages don't overlap.
    by_signature: dict[object, list[int]] = defaultdict(list)  # signature → cluster indices
    for c, cluster in enumerate(clusters):
        for sig in {structure_signature(notes[i]) for i in cluster.members} - {None}:
            by_signature[sig].append(c)
    owner = list(range(len(clusters)))  # merged cluster → the cluster it joined

    def find(c: int) -> int:
        while owner[c] != c:
            owner[c] = owner[owner[c]]
            c = owner[c]
        return c

    shared = [sig for sig, cs in by_signature.items() if 1 < len(cs) <= MAX_SIGNATURE_CLUSTERS]
    for sig in sorted(shared, key=lambda s: min(_first_path(clusters[c], notes) for c in by_signature[s])):
        targets: list[int] = []  # first fit: join the first target without a shared language
        for c in sorted({find(c) for c in by_signature[sig]}, key=lambda c: _first_path(clusters[c], notes)):
            for t in targets:
                t = find(t)
                if t != c and not (clusters[t].langs & clusters[c].langs):
                    clusters[t].members.extend(clusters[c].members)
                    clusters[t].langs |= clusters[c].langs
                    owner[c] = t
                    break
            else:
                targets.append(c)

    groups = [_group(clusters[c], notes) for c in range(len(clusters)) if find(c) == c and clusters[c].members]
    groups.sort(key=lambda g: (g.key, min(n.path for n in g.notes)))
    return _unique_keys(groups)


def _first_path(cluster: _Cluster, notes: Sequence[Note]) -> str:
    return min(notes[i].path for i in cluster.members)


def _group(cluster: _Cluster, notes: Sequence[Note]) -> NoteGroup:
    members = sorted((notes[i] for i in cluster.members),
                     key=lambda n: (_LANG_ORDER.get(n.lang, len(_LANG_ORDER)), n.lang, n.path))
    draft = NoteGroup(key="", notes=tuple(members))
    return NoteGroup(key=draft.original.key, notes=draft.notes)


def _unique_keys(groups: list[NoteGroup]) -> tuple[NoteGroup, ...]:
    # Two groups can share an original's file key (same file name in two folders, or a
    # same-language duplicate split off); later ones get "~2", "~3" so keys stay unique.
    seen: dict[str, int] = {}
    out: list[NoteGroup] = []
    for group in groups:
        count = seen.get(group.key, 0) + 1
        seen[group.key] = count
        out.append(group if count == 1 else NoteGroup(key=f"{group.key}~{count}", notes=group.notes))
    return tuple(out)
