"""The on-disk cache: notes parsed and tokenized once, and their sentence rows, kept in the bot's state folder.

A restart or a reload reads the cache, re-parses and re-tokenizes only the notes whose
bytes changed (sha256 of the file), and assembles the index from the rest with numpy.

Format, safe to load whatever the folder holds (plain numpy arrays, never pickle), one file
`index.npz` replaced atomically, so a reader never sees parts of two different saves:
    document    UTF-8 JSON {"version", "vocabulary", "stamps", "notes" (without passages),
                "sections", "extras" (cells, headers and links of the passages that have them)}
    p_*         the passages in columns (kind, position, line, section; texts NUL-separated,
                in pieces of 4096 texts whose byte lengths are p_text_pieces)
    term_ids …  every note's NoteTerms arrays, concatenated in the order of "notes"
    t_*, i_*, k_*  the posting tables of an index of exactly these notes, when saved with one
A cache from another version, or one that cannot be read, is ignored (and rewritten).

Beside it, `vectors.npz`: each embedded note's projected rows (float16) by content hash, and the
projection they were made with (see knowledge.build.projection).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..columns import KINDS, PassageColumns
from ..dense import NoteVectors, Projection
from ..encoder import Encoder, encoder_package_version
from ..index import Index, PostingTable, SavedTables
from ..model import Note
from .rows import RECIPE
from .words import NOTE_TERMS_ARRAYS, NoteTerms, Vocabulary, split_terms

_log = logging.getLogger(__name__)

CACHE_VERSION = 5
CACHE_FILE = "index.npz"
VECTORS_FILE = "vectors.npz"
_TEXTS_PER_PIECE = 4096


@lru_cache(maxsize=1)
def cache_version() -> str:
    """Changes with the cache format, the parser or the tokenizer (stale notes or term ids are useless)."""
    digest = hashlib.sha256(str(CACHE_VERSION).encode())
    package = Path(__file__).parents[1]
    for name in ("model.py", "columns.py", "notes.py", "markdown.py", "text.py", "index.py", "build/words.py",
                 "data/stopwords.yaml"):
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Cache:
    vocabulary: dict[str, int]
    notes: dict[str, Note]  # path → note
    terms: dict[str, NoteTerms]  # path → its tokens
    stamps: dict[str, tuple[int, int]]  # path → (size, mtime_ns) of the file when it was read
    tables: SavedTables | None = None  # the index's posting tables, for exactly these notes…
    index_paths: tuple[str, ...] = ()  # …in this order
    names: frozenset[str] | None = None  # the names learned from exactly these notes (knowledge.names)


def empty() -> Cache:
    return Cache(Vocabulary(), {}, {}, {})


def load_cache(folder: Path) -> Cache:
    """The cache in `folder`, or an empty one (missing, other version, damaged)."""
    try:
        with np.load(folder / CACHE_FILE, allow_pickle=False) as npz:
            data = json.loads(npz["document"].tobytes().decode("utf-8"))
            if not isinstance(data, dict) or data.get("version") != cache_version():
                return empty()  # before reading the arrays: a stale cache is not worth loading
            arrays = {name: npz[name] for name in npz.files if name != "document"}
        return _decode(data, arrays)
    except FileNotFoundError:
        return empty()
    except (OSError, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as error:
        _log.warning("Ignoring the index cache in %s: %s", folder, error)
        return empty()


def _decode(data: dict, arrays: dict[str, np.ndarray]) -> Cache:
    vocabulary = Vocabulary((term, i) for i, term in enumerate(data["vocabulary"]))
    notes = _notes(data, arrays)
    sizes = {name: arrays[f"{name}_sizes"].tolist() for name in NOTE_TERMS_ARRAYS}
    parts = split_terms(arrays, sizes, [note.content_hash for note in notes])
    terms = {note.path: part for note, part in zip(notes, parts)}
    stamps = {path: (int(size), int(mtime)) for path, (size, mtime) in data.get("stamps", {}).items()}
    tables = None
    if "t_offsets" in arrays:
        # Shared with the vocabulary: these tables serve only if no note changed, and then
        # nothing is added to it (tens of MB on a big blog, not copied).
        rows = vocabulary
        tables = SavedTables(
            PostingTable(rows, arrays["t_offsets"], arrays["t_items"], arrays["t_weights"]),
            PostingTable(rows, arrays["i_offsets"], arrays["i_items"]),
            PostingTable(rows, arrays["k_offsets"], arrays["k_items"]),
            float(data["avg_length"]),
        )
        if any(len(t.offsets) != len(rows) + 1 for t in (tables.text, tables.title, tables.key)):
            raise ValueError("tables and vocabulary disagree")
    names = frozenset(data["names"]) if "names" in data else None
    return Cache(vocabulary, {note.path: note for note in notes}, terms, stamps, tables,
                 tuple(data.get("index_paths", ())), names)


def save_cache(folder: Path, vocabulary: dict[str, int], notes: tuple[Note, ...], terms: dict[str, NoteTerms],
               stamps: dict[str, tuple[int, int]] | None = None, tables: SavedTables | None = None,
               names: frozenset[str] | None = None) -> None:
    """Write the cache atomically (a reader sees the old file or the new one, never half).
    `tables`, when given, must come from indexing exactly `notes`, in this order, over `vocabulary`."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = [note for note in notes if note.path in terms]
    arrays: dict[str, np.ndarray | Pieces] = {}
    for name in NOTE_TERMS_ARRAYS:
        parts = [getattr(terms[note.path], name) for note in kept]
        arrays[name] = Pieces(np.dtype(np.float32 if name == "tfs" else np.int32), parts)
        arrays[f"{name}_sizes"] = np.asarray([part.size for part in parts], dtype=np.int64)
    document = {"version": cache_version(), "vocabulary": list(vocabulary),
                "stamps": {path: list(stamp) for path, stamp in (stamps or {}).items()}}
    _encode_notes(kept, document, arrays)
    if tables is not None and len(kept) == len(notes):
        document["index_paths"] = [note.path for note in kept]
        document["avg_length"] = tables.avg_length
        if names is not None:
            document["names"] = sorted(names)
        for prefix, table in (("t", tables.text), ("i", tables.title), ("k", tables.key)):
            arrays[f"{prefix}_offsets"] = table.offsets
            arrays[f"{prefix}_items"] = table.items
        arrays["t_weights"] = tables.text.weights
    arrays["document"] = np.frombuffer(json.dumps(document, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    _replace(folder / CACHE_FILE, lambda f: write_npz(f, arrays))


@dataclass(frozen=True)
class Pieces:
    """A 1-D array given as pieces, written one after the other: a big blog's arrays are
    never joined in memory just to be saved."""

    dtype: np.dtype
    pieces: list[np.ndarray]


def write_npz(file, arrays: dict[str, "np.ndarray | Pieces"]) -> None:
    """What np.savez writes (np.load reads it back), arrays in pieces included."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, value in arrays.items():
            if isinstance(value, Pieces):
                dtype, pieces, shape = value.dtype, value.pieces, (sum(piece.size for piece in value.pieces),)
            else:
                dtype, pieces, shape = value.dtype, [value], value.shape
            header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
            with archive.open(f"{name}.npy", "w", force_zip64=True) as out:
                np.lib.format.write_array_header_1_0(out, header)
                for piece in pieces:
                    out.write(np.ascontiguousarray(piece, dtype=dtype).data)


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete the temporary files of saves that never finished (the process was killed while
    writing); returns them. Call it only while no save to `folder` runs."""
    removed = []
    for tmp in [*folder.glob(f"{CACHE_FILE}*.tmp"), *folder.glob(f"{VECTORS_FILE}*.tmp")]:
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _replace(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _encode_notes(notes: list[Note], document: dict, arrays: dict[str, "np.ndarray | Pieces"]) -> None:
    """Notes in columns: one JSON object per note without its passages, and the passages as
    arrays (all texts in one NUL-separated string), which load without one object each."""
    columns = PassageColumns.join([note.passages for note in notes])
    if any("\0" in text for text in columns.texts):
        raise ValueError("a passage text holds a NUL character")  # the loader rejects those files
    document["notes"] = [
        {"path": n.path, "rel_path": n.rel_path, "title": n.title, "lang": n.lang, "key": n.key, "date": n.date,
         "meta": n.meta, "links": list(n.links), "table_shapes": [list(t) for t in n.table_shapes],
         "content_hash": n.content_hash, "passages": len(n.passages)}
        for n in notes
    ]
    document["sections"] = [list(section) for section in columns.sections]
    document["extras"] = {str(i): [list(part) for part in extra] for i, extra in columns.extras.items()}
    arrays["p_kind"] = columns.kinds
    arrays["p_position"] = columns.positions
    arrays["p_line"] = columns.lines
    arrays["p_section"] = columns.section_ids
    # In pieces: one string of every text would take up to 4 bytes a character (one emoji will do).
    pieces = []
    for start in range(0, len(columns.texts), _TEXTS_PER_PIECE):
        chunk = "\0".join(columns.texts[start : start + _TEXTS_PER_PIECE]).encode("utf-8")
        pieces.append(np.frombuffer(chunk, dtype=np.uint8))
    arrays["p_text"] = Pieces(np.dtype(np.uint8), pieces)
    arrays["p_text_pieces"] = np.asarray([piece.size for piece in pieces], dtype=np.int64)


def _notes(data: dict, arrays: dict[str, np.ndarray]) -> list[Note]:
    raw_notes = data["notes"]
    kinds = arrays["p_kind"]
    texts: list[str] = []
    start = 0
    for size in arrays["p_text_pieces"].tolist():  # piece by piece, as written
        texts.extend(arrays["p_text"][start : start + size].tobytes().decode("utf-8").split("\0"))
        start += size
    if len(texts) != kinds.size:
        raise ValueError("passage texts and columns disagree")
    columns = PassageColumns(
        kinds, arrays["p_position"].reshape(-1, 3), arrays["p_line"], arrays["p_section"],
        tuple(tuple(section) for section in data["sections"]), tuple(texts),
        {int(i): (tuple(cells), tuple(header), tuple(links)) for i, (cells, header, links) in data["extras"].items()},
    )
    # Passages are made when read, long after this: a damaged file must fail here, not then.
    if {len(columns.positions), columns.lines.size, columns.section_ids.size} != {kinds.size}:
        raise ValueError("passage columns disagree in length")
    if kinds.size and (int(kinds.max()) >= len(KINDS) or int(columns.section_ids.min()) < 0
                       or int(columns.section_ids.max()) >= len(columns.sections)):
        raise ValueError("passage kinds or sections out of range")
    passages = columns.split([raw["passages"] for raw in raw_notes])
    return [
        Note(path=raw["path"], rel_path=raw["rel_path"], title=raw["title"], lang=raw["lang"], key=raw["key"],
             passages=own, date=raw["date"], meta=raw["meta"], links=tuple(raw["links"]),
             table_shapes=tuple(tuple(shape) for shape in raw["table_shapes"]), content_hash=raw["content_hash"])
        for raw, own in zip(raw_notes, passages)
    ]


# ---------------------------------------------------------------- sentence rows

@dataclass(frozen=True)
class SavedVectors:
    vectors: dict[str, NoteVectors]  # by content hash
    projection: Projection | None = None  # what they were projected with


def load_vectors(folder: Path, version: str) -> SavedVectors:
    """The rows kept in `folder`, or none (missing, another encoder or recipe, damaged)."""
    try:
        with np.load(folder / VECTORS_FILE, allow_pickle=False) as npz:
            if str(npz["version"]) != version:
                return SavedVectors({})
            hashes, counts, rows, passages = npz["hashes"], npz["counts"], npz["rows"], npz["passages"]
            projection = Projection(npz["mean"], npz["basis"], int(npz["projection_rows"]))
        if counts.sum() != len(rows) or len(rows) != len(passages) or len(hashes) != len(counts):
            raise ValueError("rows and counts disagree")
        if rows.ndim != 2 or rows.shape[1] != projection.basis.shape[1]:
            raise ValueError("the rows do not fit the projection")
        ends = np.cumsum(counts)
        return SavedVectors({str(h): NoteVectors(rows[e - c:e], passages[e - c:e])
                             for h, c, e in zip(hashes.tolist(), counts.tolist(), ends.tolist())}, projection)
    except FileNotFoundError:
        return SavedVectors({})
    except (OSError, ValueError, KeyError, TypeError) as error:
        _log.warning("Ignoring the vectors cache in %s: %s", folder, error)
        return SavedVectors({})


def save_vectors(folder: Path, version: str, vectors: dict[str, NoteVectors], projection: Projection) -> None:
    """Write atomically (a temporary file renamed over the old one)."""
    keys = sorted(vectors)
    width = projection.basis.shape[1]
    arrays: dict[str, np.ndarray | Pieces] = {
        "version": np.asarray(version),
        "mean": projection.mean, "basis": projection.basis, "projection_rows": np.asarray(projection.rows),
        "hashes": np.asarray(keys, dtype=str) if keys else np.zeros(0, dtype="<U1"),
        "counts": np.asarray([len(vectors[k].passages) for k in keys], dtype=np.int64),
        "passages": Pieces(np.dtype(np.int32), [vectors[k].passages for k in keys]),
    }
    rows = np.empty((int(arrays["counts"].sum()), width), dtype=np.float16)  # type: ignore[union-attr]
    at = 0
    for k in keys:
        n = len(vectors[k].passages)
        rows[at:at + n] = vectors[k].rows
        at += n
    arrays["rows"] = rows
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder / VECTORS_FILE, lambda f: write_npz(f, arrays))


def vectors_version(encoder: Encoder) -> str:
    """The encoder, its package, the rows' recipe and the parser (rows follow the passages)."""
    return f"{encoder.name}/{encoder_package_version()}/{RECIPE}/{cache_version()}"


def start_saving(folder: Path, vocabulary: dict[str, int], index: Index, parts: list[NoteTerms],
                 stamps: dict[str, tuple[int, int]], names: frozenset[str], encoder: Encoder | None,
                 vectors: dict[str, NoteVectors], save_index: bool = True) -> threading.Thread:
    """Write the cache in a thread of its own: nobody waits for it, and on a big blog it takes a while.
    Started last, because it holds the GIL much of the time; not a daemon, so that a process that
    exits still finishes writing. `encoder`: the vectors are saved too (they changed)."""
    tables = SavedTables(index.postings.layers[0], index.title_postings.layers[0], index.key_postings.layers[0],
                         index.avg_length)
    notes = index.notes
    projection = index.dense.projection if index.dense is not None else None

    def save() -> None:
        try:
            if encoder is not None and projection is not None:
                save_vectors(folder, vectors_version(encoder), vectors, projection)
            if save_index:
                save_cache(folder, vocabulary, notes, {note.path: part for note, part in zip(notes, parts)}, stamps,
                           tables, names)
        except (OSError, ValueError) as error:  # a read-only state folder costs speed, never answers
            _log.warning("Could not save the index cache in %s: %s", folder, error)

    thread = threading.Thread(target=save, name="index-cache")
    thread.start()
    return thread
