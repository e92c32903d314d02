"""The on-disk cache: notes parsed and tokenized once, and their sentence rows, kept in the bot's state folder.

It is the last full build: its notes and the posting tables of exactly those notes. A start
reads it and, as a reload does, layers over it the notes whose files changed since; no note's
terms are kept apart from the tables (a start that finds too much changed builds afresh).

Format, safe to load whatever the folder holds (plain numpy arrays, never pickle), one file
`index.npz` replaced atomically, so a reader never sees parts of two different saves:
    document    UTF-8 JSON {"version", "stamps", "avg_length", "names", "group_keys", "notes" (without passages),
                "sections", "extras" (cells, headers, links and fence languages of the passages that have them)}
    vocabulary  the terms, NUL-separated UTF-8, in id order
    p_*         the passages in columns (kind, position, line, section; texts as one UTF-8 buffer in
                zlib chunks of 1 MB, p_text with the chunks' bounds in p_text_chunks, and each
                text's offsets in the buffer, p_text_offsets)
    typo_*      the words typos are looked up among, NUL-separated by first letter and length (groups in
                "typo_keys", bounds in typo_offsets), and their alphabetical order (typo_sorted)
    g_*         the translation groups: each group's notes (positions in "notes"), one group after the other
    t_*, i_*, k_*  the posting tables of an index of exactly these notes, in this order
A cache from another version, or one that cannot be read, is ignored (and rewritten).

Beside it, `vectors.npz`: each embedded note's projected rows (float16) by content hash, and the
projection they were made with (see knowledge.indexing.projection).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import tempfile
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..casing import Casing
from ..columns import KINDS, CompressedBytes, PassageColumns, Texts
from ..dense import NoteVectors, Projection
from ..encoder import Encoder, encoder_package_version
from ..index import Index, PostingTable, SavedTables, TypoWords
from ..model import Note, NoteGroup
from ..openers import Openers
from .rows import RECIPE
from .words import Vocabulary

_log = logging.getLogger(__name__)

CACHE_VERSION = 8
CACHE_FILE = "index.npz"
VECTORS_FILE = "vectors.npz"


def _code_digest(files: tuple[str, ...], seed: str = "") -> str:
    """A short hash of these files of the package (what a kept result was made by), after `seed`."""
    digest = hashlib.sha256(seed.encode())
    package = Path(__file__).parents[1]
    for name in files:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def cache_version() -> str:
    """Changes with the cache format, the parser or the tokenizer (stale notes or term ids are useless)."""
    return _code_digest(("model.py", "columns.py", "notes.py", "markdown.py", "text.py", "index.py",
                         "indexing/words.py", "data/stopwords.yaml"), seed=str(CACHE_VERSION))


@lru_cache(maxsize=1)
def learned_version() -> str:
    """Changes with the code that learns from the notes what the cache keeps of it (their names' case,
    framing sentences, untranslated names): stale, those are learned again, the notes themselves stay."""
    return _code_digest(("casing.py", "openers.py", "names.py"))


@dataclass(frozen=True)
class Cache:
    """The last full build: its notes, in index order, and the posting tables of exactly those notes.
    A start layers the notes changed since over it (knowledge.indexing.layers)."""

    vocabulary: dict[str, int]
    notes: dict[str, Note]  # path → note, in the order of the index
    stamps: dict[str, tuple[int, int]]  # path → (size, mtime_ns) of the file when it was read
    tables: SavedTables | None = None
    names: frozenset[str] = frozenset()  # the names learned from these notes (knowledge.names)
    groups: tuple[NoteGroup, ...] = ()  # these notes' translation groups
    typo_words: TypoWords | None = None  # the words of the tables that typos are looked up among
    casing: Casing = Casing()  # the usual case of these notes' names (knowledge.casing)
    openers: Openers = Openers(frozenset())  # their framing sentences (knowledge.openers)
    learned: bool = False  # names, casing and openers come from today's learners (else learn them again)


def empty() -> Cache:
    return Cache(Vocabulary(), {}, {})


def load_cache(folder: Path) -> Cache:
    """The cache in `folder`, or an empty one (missing, other version, damaged)."""
    try:
        path = folder / CACHE_FILE
        with zipfile.ZipFile(path) as archive:
            document = _member(path, archive, "document").tobytes().decode("utf-8")
            if f'"version": "{cache_version()}"' not in document[:100]:
                return empty()  # before reading the arrays: a stale cache is not worth loading
            names = [info.filename.removesuffix(".npy") for info in archive.infolist()]
            # The members inflate in threads (zlib lets go of the GIL) while this one decodes the JSON.
            with ThreadPoolExecutor(2, thread_name_prefix="index-cache-read") as pool:
                reading = {name: pool.submit(_member, path, archive, name) for name in names if name != "document"}
                data = json.loads(document)
                arrays = {name: future.result() for name, future in reading.items()}
        if not isinstance(data, dict) or data.get("version") != cache_version():
            return empty()
        return _decode(data, arrays)
    except FileNotFoundError:
        return empty()
    except (OSError, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError, zipfile.BadZipFile,
            struct.error) as error:
        _log.warning("Ignoring the index cache in %s: %s", folder, error)
        return empty()


def _member(path: Path, archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """One array of the archive: mapped in place when it is stored uncompressed, else read."""
    info = archive.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        with archive.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    with open(path, "rb") as raw:
        raw.seek(info.header_offset)
        local = raw.read(30)  # the member's local header: its name and extra field come next
        if local[:4] != b"PK\x03\x04":
            raise ValueError(f"{name}: not a zip member")
        name_length, extra_length = struct.unpack("<HH", local[26:30])
        raw.seek(info.header_offset + 30 + name_length + extra_length)
        if np.lib.format.read_magic(raw) != (1, 0):
            raise ValueError(f"{name}: unknown array format")
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(raw)
        if fortran or dtype.hasobject:
            raise ValueError(f"{name}: not a plain array")
        offset = raw.tell()
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype=dtype)
    if offset + int(np.prod(shape)) * dtype.itemsize > info.header_offset + 30 + name_length + extra_length + \
            info.file_size:
        raise ValueError(f"{name}: shorter than its header says")
    # A plain array over the mapping: slicing a memmap costs a Python call per slice (26k slices at start).
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape).view(np.ndarray)


def _decode(data: dict, arrays: dict[str, np.ndarray]) -> Cache:
    words = _split(arrays["vocabulary"])
    vocabulary = Vocabulary(zip(words, range(len(words))))
    notes = _notes(data, arrays)
    stamps = {path: (int(size), int(mtime)) for path, (size, mtime) in data["stamps"].items()}
    tables = SavedTables(
        PostingTable(vocabulary, arrays["t_offsets"], arrays["t_items"], arrays["t_weights"]),
        PostingTable(vocabulary, arrays["i_offsets"], arrays["i_items"]),
        PostingTable(vocabulary, arrays["k_offsets"], arrays["k_items"]),
        float(data["avg_length"]),
    )
    if any(len(t.offsets) != len(vocabulary) + 1 for t in (tables.text, tables.title, tables.key)):
        raise ValueError("tables and vocabulary disagree")
    if tables.text.items.size != tables.text.weights.size or int(tables.text.offsets[-1]) != tables.text.items.size:
        raise ValueError("the text table's items and weights disagree")
    members, bounds = arrays["g_members"].tolist(), arrays["g_offsets"].tolist()
    if len(bounds) != len(data["group_keys"]) + 1 or (members and max(members) >= len(notes)):
        raise ValueError("groups and notes disagree")
    groups = tuple(NoteGroup(key, tuple(notes[m] for m in members[a:b]))
                   for key, a, b in zip(data["group_keys"], bounds, bounds[1:]))
    typo = _split(arrays["typo_words"])
    order = arrays["typo_sorted"]
    bounds = arrays["typo_offsets"].tolist()
    if len(bounds) != len(data["typo_keys"]) + 1 or bounds[-1] != len(typo) or len(order) != len(typo):
        raise ValueError("typo words and their groups disagree")
    typo_words = TypoWords(tuple(typo), {(first, length): (a, b) for (first, length), a, b in
                                         zip(data["typo_keys"], bounds, bounds[1:])},
                           tuple(typo[i] for i in order.tolist()))
    casing = Casing({str(k): str(v) for k, v in data["casing"].items()})
    openers = Openers(frozenset(map(str, data["openers"])))
    return Cache(vocabulary, {note.path: note for note in notes}, stamps, tables, frozenset(data["names"]), groups,
                 typo_words, casing, openers, data.get("learned") == learned_version())


def _split(joined: np.ndarray) -> list[str]:
    """Strings saved NUL-separated (terms never hold a NUL: a note with one is refused as binary)."""
    return joined.tobytes().decode("utf-8").split("\0") if joined.size else []


def _joined(strings) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.frombuffer("\0".join(strings).encode("utf-8"), dtype=np.uint8)


def save_cache(folder: Path, vocabulary: dict[str, int], notes: tuple[Note, ...], groups: tuple[NoteGroup, ...],
               stamps: dict[str, tuple[int, int]], tables: SavedTables, names: frozenset[str],
               typo_words: TypoWords, casing: Casing, openers: Openers) -> None:
    """Write the cache atomically (a reader sees the old file or the new one, never half).
    `tables` must come from indexing exactly `notes`, in this order, over `vocabulary`."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray | Pieces] = {}
    document = {"version": cache_version(), "stamps": {path: list(stamp) for path, stamp in stamps.items()},
                "avg_length": tables.avg_length, "names": sorted(names), "group_keys": [g.key for g in groups],
                "casing": casing.forms, "openers": sorted(openers.leads), "learned": learned_version()}
    position = {note.path: i for i, note in enumerate(notes)}
    arrays["g_members"] = np.asarray([position[n.path] for g in groups for n in g.notes], dtype=np.int32)
    arrays["g_offsets"] = np.cumsum([0, *(len(g.notes) for g in groups)], dtype=np.int64)
    arrays["vocabulary"] = _joined(vocabulary)
    arrays["typo_words"] = _joined(typo_words.words)
    document["typo_keys"] = [list(key) for key in typo_words.buckets]
    arrays["typo_offsets"] = np.asarray([0, *(b for _, b in typo_words.buckets.values())], dtype=np.int64)
    position = {word: i for i, word in enumerate(typo_words.words)}
    arrays["typo_sorted"] = np.asarray([position[w] for w in typo_words.sorted_words], dtype=np.int32)
    _encode_notes(list(notes), document, arrays)
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


# Read in place (memory-mapped), never copied into memory: a question reads a few postings of them.
MAPPED = frozenset({"t_items", "t_weights", "i_items", "k_items", "p_text", "rows"})


def write_npz(file, arrays: dict[str, np.ndarray | Pieces]) -> None:
    """What np.savez writes (np.load reads it back), arrays in pieces included; every array but the
    MAPPED ones compressed (fast deflate: text and small integers shrink a lot, postings little)."""
    with zipfile.ZipFile(file, "w", allowZip64=True) as archive:
        for name, value in arrays.items():
            if isinstance(value, Pieces):
                dtype, pieces, shape = value.dtype, value.pieces, (sum(piece.size for piece in value.pieces),)
            else:
                dtype, pieces, shape = value.dtype, [value], value.shape
            header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
            member = zipfile.ZipInfo(f"{name}.npy")
            member.compress_type = zipfile.ZIP_STORED if name in MAPPED else zipfile.ZIP_DEFLATED
            # Fast deflate (level 1): the name of that slot changed in Python 3.13.
            setattr(member, "compress_level" if hasattr(member, "compress_level") else "_compresslevel", 1)
            with archive.open(member, "w", force_zip64=True) as out:
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


def _encode_notes(notes: list[Note], document: dict, arrays: dict[str, np.ndarray | Pieces]) -> None:
    """Notes in columns: one JSON object per note without its passages, and the passages as
    arrays (all texts in one UTF-8 buffer), which load without one object each."""
    columns = PassageColumns.join([note.passages for note in notes])
    document["notes"] = [
        {"path": n.path, "rel_path": n.rel_path, "title": n.title, "lang": n.lang, "key": n.key, "date": n.date,
         "meta": n.meta, "links": list(n.links), "table_shapes": [list(t) for t in n.table_shapes],
         "content_hash": n.content_hash, "passages": len(n.passages)}
        for n in notes
    ]
    document["sections"] = [list(section) for section in columns.sections]
    document["extras"] = {str(i): [list(cells), list(header), list(links), fence]
                          for i, (cells, header, links, fence) in columns.extras.items()}
    arrays["p_kind"] = columns.kinds
    arrays["p_position"] = columns.positions
    arrays["p_line"] = columns.lines
    arrays["p_section"] = columns.section_ids
    packed = CompressedBytes.of(np.asarray(columns.texts.data[columns.texts.offsets[0]:columns.texts.offsets[-1]]))
    arrays["p_text"] = packed.chunks
    arrays["p_text_chunks"] = packed.bounds
    arrays["p_text_offsets"] = columns.texts.offsets - columns.texts.offsets[0]


def _notes(data: dict, arrays: dict[str, np.ndarray]) -> list[Note]:
    raw_notes = data["notes"]
    kinds = arrays["p_kind"]
    offsets, bounds = arrays["p_text_offsets"], arrays["p_text_chunks"]
    size = int(offsets[-1]) if offsets.size else 0
    if bounds.size != -(-size // CompressedBytes.CHUNK) + 1 or int(bounds[-1]) != arrays["p_text"].size:
        raise ValueError("passage texts and their chunks disagree")
    if offsets.size != kinds.size + 1 or (offsets.size and (offsets[0] != 0
                                                             or np.any(np.diff(offsets) < 0))):
        raise ValueError("passage texts and columns disagree")
    texts = Texts(CompressedBytes(arrays["p_text"], bounds, size), offsets)
    columns = PassageColumns(
        kinds, arrays["p_position"].reshape(-1, 3), arrays["p_line"], arrays["p_section"],
        tuple(tuple(section) for section in data["sections"]), texts,
        {int(i): (tuple(cells), tuple(header), tuple(links), str(fence))
         for i, (cells, header, links, fence) in data["extras"].items()},
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
    """The rows kept in `folder`, or none (missing, another encoder or recipe, damaged). The rows
    are mapped in place, not read: a start copies them once, into the index's matrix."""
    path = folder / VECTORS_FILE
    try:
        with zipfile.ZipFile(path) as archive:
            if str(_member(path, archive, "version")) != version:
                return SavedVectors({})
            hashes, counts, rows, passages = (_member(path, archive, name)
                                              for name in ("hashes", "counts", "rows", "passages"))
            projection = Projection(_member(path, archive, "mean"), _member(path, archive, "basis"),
                                    int(_member(path, archive, "projection_rows")))
        if counts.sum() != len(rows) or len(rows) != len(passages) or len(hashes) != len(counts):
            raise ValueError("rows and counts disagree")
        if rows.ndim != 2 or rows.shape[1] != projection.basis.shape[1]:
            raise ValueError("the rows do not fit the projection")
        ends = np.cumsum(counts)
        return SavedVectors({str(h): NoteVectors(rows[e - c:e], passages[e - c:e])
                             for h, c, e in zip(hashes.tolist(), counts.tolist(), ends.tolist())}, projection)
    except FileNotFoundError:
        return SavedVectors({})
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, struct.error) as error:
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


# What the sentence rows are made from: the parser (rows follow the passages), the text the encoder reads,
# which note of a translation group is embedded, and the rows' recipe. Not the tokenizer nor the index's
# format: a change there re-reads the notes (a minute at 45k), it does not embed them again (ten).
ROW_SOURCES = ("model.py", "columns.py", "notes.py", "markdown.py", "inline.py", "languages.py", "dense.py",
               "indexing/rows.py", "indexing/grouping.py")


@lru_cache(maxsize=1)
def rows_version() -> str:
    return _code_digest(ROW_SOURCES)


def vectors_version(encoder: Encoder) -> str:
    """The encoder, its package, the rows' recipe and what the rows are made from (ROW_SOURCES)."""
    return f"{encoder.name}/{encoder_package_version()}/{RECIPE}/{rows_version()}"


def start_saving(folder: Path, index: Index | None, stamps: dict[str, tuple[int, int]], names: frozenset[str],
                 encoder: Encoder | None, vectors: dict[str, NoteVectors], projection: Projection | None
                 ) -> threading.Thread:
    """Write the cache in a thread of its own: nobody waits for it, and on a big blog it takes a while.
    Started last, because it holds the GIL much of the time; not a daemon, so that a process that
    exits still finishes writing. `index`: a full build's, saved as the new base (None: the base on
    disk stays); `encoder`: the vectors are saved too (they changed)."""

    def save() -> None:
        try:
            if encoder is not None and projection is not None:
                save_vectors(folder, vectors_version(encoder), vectors, projection)
            if index is not None:
                tables = SavedTables(index.postings.layers[0], index.title_postings.layers[0],
                                     index.key_postings.layers[0], index.avg_length)
                save_cache(folder, index.postings.layers[0].rows, index.notes, index.groups, stamps, tables, names,
                           index.typo_words, index.casing, index.openers)
        except (OSError, ValueError) as error:  # a read-only state folder costs speed, never answers
            _log.warning("Could not save the index cache in %s: %s", folder, error)

    thread = threading.Thread(target=save, name="index-cache")
    thread.start()
    return thread
