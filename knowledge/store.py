"""The persistent index cache: notes parsed and tokenized once, kept in the bot's state folder.

A restart or a reload reads the cache, re-parses and re-tokenizes only the notes whose
bytes changed (sha256 of the file), and assembles the index from the rest with numpy.

Format, safe to load whatever the folder holds (plain numpy arrays, never pickle), one file
`index.npz` replaced atomically, so a reader never sees parts of two different saves:
    document    UTF-8 JSON {"version", "vocabulary": [term, ...], "notes": [note, ...]}
    term_ids …  every note's NoteTerms arrays, concatenated in the order of "notes"
A cache from another version, or one that cannot be read, is ignored (and rewritten).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .index import NoteTerms
from .model import Note, Passage

_log = logging.getLogger(__name__)

CACHE_VERSION = 2
CACHE_FILE = "index.npz"
_ARRAYS = ("term_ids", "tfs", "counts", "title_ids", "key_ids", "key_counts")


def _version() -> str:
    """Changes when the cache format or the tokenizer's inputs change (stale term ids are useless)."""
    digest = hashlib.sha256(str(CACHE_VERSION).encode())
    for name in ("text.py", "index.py", "markdown.py", "data/stopwords.yaml"):
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Cache:
    vocabulary: dict[str, int]
    notes: dict[str, Note]  # path → note
    terms: dict[str, NoteTerms]  # path → its tokens
    stamps: dict[str, tuple[int, int]]  # path → (size, mtime_ns) of the file when it was read


def empty() -> Cache:
    return Cache({}, {}, {}, {})


def load_cache(folder: Path) -> Cache:
    """The cache in `folder`, or an empty one (missing, other version, damaged)."""
    try:
        with np.load(folder / CACHE_FILE, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        data = json.loads(arrays.pop("document").tobytes().decode("utf-8"))
        if not isinstance(data, dict) or data.get("version") != _version():
            return empty()
        return _decode(data, arrays)
    except FileNotFoundError:
        return empty()
    except (OSError, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as error:
        _log.warning("Ignoring the index cache in %s: %s", folder, error)
        return empty()


def _decode(data: dict, arrays: dict[str, np.ndarray]) -> Cache:
    vocabulary = {term: i for i, term in enumerate(data["vocabulary"])}
    notes = [_note(raw) for raw in data["notes"]]
    cuts = {name: np.cumsum(np.concatenate([[0], arrays[f"{name}_sizes"]])) for name in _ARRAYS}
    terms: dict[str, NoteTerms] = {}
    for i, note in enumerate(notes):
        parts = {name: arrays[name][cuts[name][i] : cuts[name][i + 1]] for name in _ARRAYS}
        terms[note.path] = NoteTerms(note.content_hash, **parts)
    if any(len(cut) != len(notes) + 1 for cut in cuts.values()):
        raise ValueError("notes and arrays disagree")
    stamps = {path: (int(size), int(mtime)) for path, (size, mtime) in data.get("stamps", {}).items()}
    return Cache(vocabulary, {note.path: note for note in notes}, terms, stamps)


def save_cache(folder: Path, vocabulary: dict[str, int], notes: tuple[Note, ...], terms: dict[str, NoteTerms],
               stamps: dict[str, tuple[int, int]] | None = None) -> None:
    """Write the cache atomically (a reader sees the old files or the new ones, never half)."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = [note for note in notes if note.path in terms]
    arrays: dict[str, np.ndarray] = {}
    for name in _ARRAYS:
        parts = [getattr(terms[note.path], name) for note in kept]
        arrays[name] = np.concatenate(parts) if parts else np.zeros(0)
        arrays[f"{name}_sizes"] = np.asarray([part.size for part in parts], dtype=np.int64)
    document = {"version": _version(), "vocabulary": list(vocabulary), "notes": [_raw(note) for note in kept],
                "stamps": {path: list(stamp) for path, stamp in (stamps or {}).items()}}
    arrays["document"] = np.frombuffer(json.dumps(document, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    _replace(folder / CACHE_FILE, lambda f: np.savez(f, **arrays))


def _replace(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _raw(note: Note) -> dict:
    return {
        "path": note.path, "rel_path": note.rel_path, "title": note.title, "lang": note.lang, "key": note.key,
        "date": note.date, "meta": note.meta, "links": list(note.links),
        "table_shapes": [list(shape) for shape in note.table_shapes], "content_hash": note.content_hash,
        "passages": [[p.kind, p.text, list(p.section), list(p.position), list(p.cells), list(p.header),
                      list(p.links), p.line] for p in note.passages],
    }


def _note(raw: dict) -> Note:
    passages = tuple(
        Passage(kind, text, tuple(section), tuple(position), tuple(cells), tuple(header), tuple(links), line)
        for kind, text, section, position, cells, header, links, line in raw["passages"]
    )
    return Note(
        path=raw["path"], rel_path=raw["rel_path"], title=raw["title"], lang=raw["lang"], key=raw["key"],
        passages=passages, date=raw["date"], meta=raw["meta"], links=tuple(raw["links"]),
        table_shapes=tuple(tuple(shape) for shape in raw["table_shapes"]), content_hash=raw["content_hash"],
    )
