"""Loading notes from folders: front matter, language, key, passages; broken files become problems.

Nothing here raises on a bad note: every file is either a `Note` or a `LoadProblem` that names
the path (and the line where there is one), so one broken file never hides the others.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from .columns import PassageList
from .languages import canonical_language
from .markdown import parse_body
from .model import NINE_LANGUAGES, OTHER_LANGUAGES, LoadProblem, LoadResult, Note

__all__ = ["load_notes", "load_note", "parse_note", "read_note", "read_notes", "ReadJob", "note_key", "MAX_BYTES"]

MAX_BYTES = 2_000_000
NOTE_SUFFIXES = (".md", ".markdown")
OUTSIDE = "skipped: symlink leads outside the notes folders"

# Same rule as note_key in shared/eval/score.py: the eval compares keys, so they must agree.
_LANG_SUFFIX = re.compile(r"-(en|zh|ja|es|fr|de|hi|ar|hant|pt|it|ru|ko|cn|tw)$")
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})-")
_EXTENSION = re.compile(r"\.(md|markdown|txt)$")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FM_FENCE = re.compile(r"^-{3,}[ \t]*$", re.M)  # python-frontmatter's YAML boundary, minus \s* greed
_KNOWN_LANGS = frozenset(NINE_LANGUAGES) | frozenset(OTHER_LANGUAGES)
_YAML = YAMLHandler()

_detector: Callable[..., str] | None = None
_detector_missing = False


def note_key(path: str | os.PathLike[str]) -> str:
    """File name without folders, `YYYY-MM-DD-` prefix, language suffix and extension."""
    name = _EXTENSION.sub("", os.path.basename(os.fspath(path)))
    return _LANG_SUFFIX.sub("", _DATE_PREFIX.sub("", name))


class _Bad(Exception):
    """A reason to skip one note, with the file line when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# ---------------------------------------------------------------- one file
@dataclass(frozen=True)
class ReadJob:
    """A file to read and parse (plain data: it crosses to worker processes)."""

    path: str  # absolute
    rel_path: str
    folder_name: str
    max_bytes: int
    known_hash: str | None = None  # content hash of the note parsed before, if any
    size: int = 0  # bytes, when known: how work is shared out


def read_note(job: ReadJob) -> Note | LoadProblem | None:
    """The note in the job's file, a LoadProblem, or None when its bytes still hash to `known_hash`."""
    try:
        data = _read(job.path, job.max_bytes)
    except _Bad as bad:
        return LoadProblem(job.path, bad.message, bad.line)
    if job.known_hash is not None and job.known_hash == hashlib.sha256(data).hexdigest():
        return None
    return parse_note(data, job.path, job.rel_path, job.folder_name)


def read_notes(jobs: list[ReadJob]) -> list[Note | LoadProblem | None]:
    return [read_note(job) for job in jobs]


def load_note(path: str | os.PathLike[str], root: str | os.PathLike[str], max_bytes: int = MAX_BYTES,
              roots: Sequence[str | os.PathLike[str]] | None = None) -> Note | LoadProblem:
    """Load one file found under `root` (e.g. after a change on disk). `roots` are all notes
    folders a symlink may lead into (default: just `root`)."""
    path_s = os.path.abspath(os.fspath(path))
    allowed = tuple(os.path.realpath(r) for r in (roots or (root,)))
    real = os.path.realpath(path_s)
    if not _inside(real, allowed):
        return LoadProblem(path_s, OUTSIDE)
    rel = Path(os.path.relpath(path_s, os.path.abspath(os.fspath(root)))).as_posix()
    folder_name = os.path.basename(os.path.abspath(os.fspath(root)))
    return read_note(ReadJob(path_s, rel, folder_name, max_bytes))  # type: ignore[return-value]


def _read(path: str, max_bytes: int) -> bytes:
    try:
        if os.stat(path).st_size > max_bytes:  # decided before reading: a huge file is never read whole
            raise _Bad(f"skipped: file is larger than {max_bytes} bytes")
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise _Bad("skipped: file not found (broken symlink?)") from None
    except PermissionError as e:
        raise _Bad(f"unreadable: {e.strerror or e}") from None
    except IsADirectoryError:
        raise _Bad("skipped: not a file") from None
    except OSError as e:
        raise _Bad(f"unreadable: {e.strerror or e}") from None
    if len(data) > max_bytes:  # grew since stat
        raise _Bad(f"skipped: file is larger than {max_bytes} bytes")
    return data


def parse_note(data: bytes, path: str, rel_path: str, folder_name: str = "") -> Note | LoadProblem:
    """Bytes of one markdown file → Note, or LoadProblem saying why not. Pure (apart from the
    language detector), so tests and the incremental reloader can call it directly."""
    try:
        return _parse(data, path, rel_path, folder_name)
    except _Bad as bad:
        return LoadProblem(path, bad.message, bad.line)


def _parse(data: bytes, path: str, rel_path: str, folder_name: str) -> Note:
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise _Bad("skipped: empty file")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _Bad("skipped: binary file (NUL byte)", data.count(b"\n", 0, nul) + 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _Bad("skipped: not UTF-8 text", data.count(b"\n", 0, e.start) + 1) from None
    text = text.replace("\r\n", "\n")
    meta, body, body_line = _split_front_matter(text)
    if not body.strip():
        raise _Bad("skipped: empty body (front matter only)")
    parsed = parse_body(body, body_line)
    meta = {str(k): _plain_value(v) for k, v in meta.items()}
    name = os.path.basename(path)
    title = _text_value(meta.get("title"))
    if not title:
        title = next((p.text for p in parsed.passages if p.kind == "heading"), "") or _EXTENSION.sub("", name)
    lang = _language(meta, name, rel_path, folder_name, title, parsed.passages)
    return Note(
        path=path,
        rel_path=rel_path,
        title=title,
        lang=lang,
        key=note_key(name),
        passages=PassageList.of(parsed.passages),
        date=_date(meta.get("date"), name),
        meta=meta,
        links=parsed.links,
        table_shapes=parsed.table_shapes,
        content_hash=digest,
    )


def _split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """(metadata, body, file line of the body's first line). Split by line ourselves (python-
    frontmatter's `loads` strips the body, so its line numbers are lost, and it silently drops
    front matter that is not a mapping); the YAML itself goes through python-frontmatter's handler."""
    stripped = text.lstrip()
    lead = text.count("\n", 0, len(text) - len(stripped))  # python-frontmatter also allows leading blanks
    opening = _FM_FENCE.match(stripped)
    if not opening:
        return {}, text, 1
    closing = _FM_FENCE.search(stripped, opening.end() + 1)
    open_line = lead + 1
    if closing is None:
        raise _Bad("invalid front matter: no closing '---' line", open_line)
    fm = stripped[opening.end() + 1:closing.start()]
    try:
        value = _YAML.load(fm)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        context = getattr(e, "context_mark", None)
        # A problem found only at the end of the front matter (an unclosed quote or bracket) began where
        # its context did: that is the line to fix.
        if context is not None and (mark is None or mark.index >= len(fm.rstrip())):
            mark = context
        line = open_line + 1 + mark.line if mark is not None else open_line
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise _Bad(f"invalid YAML front matter: {problem}", line) from None
    except (ValueError, TypeError, OverflowError) as e:  # e.g. a date like 2025-02-30
        raise _Bad(f"invalid YAML front matter: {e}", open_line) from None
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _Bad(f"invalid front matter: expected a mapping of keys, got {type(value).__name__}", open_line)
    body_start = closing.end() + 1
    body_line = open_line + stripped.count("\n", opening.start(), min(body_start, len(stripped)))
    return value, stripped[body_start:], body_line


def _plain_value(value: Any) -> Any:
    """Front matter value → JSON/YAML-safe value (dates become ISO strings)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain_value(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


ALIAS_KEYS = ("aliases", "questions")  # front matter lists of the questions a note answers


def note_aliases(meta: dict[str, Any]) -> tuple[str, ...]:
    """The note's `aliases:` and `questions:` (a list, or one string), as plain texts: the
    index counts them as title text, so an author can teach a note the questions it answers."""
    found: list[str] = []
    for key in ALIAS_KEYS:
        value = meta.get(key)
        for item in value if isinstance(value, list) else [value]:
            text = _text_value(item)
            if text:
                found.append(text)
    return tuple(found)


def _text_value(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())


def _date(value: Any, name: str) -> str | None:
    if value is not None and str(value).strip():
        text = str(value).strip()
        m = _ISO_DATE.match(text)
        return m.group(0) if m else text
    m = _DATE_PREFIX.match(name)
    return m.group(1) if m else None


def _language(meta: dict[str, Any], name: str, rel_path: str, folder_name: str, title: str,
              passages: Sequence[Any]) -> str:
    lang = canonical_language(meta.get("lang"))
    if lang:
        return lang
    m = _LANG_SUFFIX.search(_EXTENSION.sub("", name))
    if m:
        return canonical_language(m.group(1)) or "en"
    folders = [p for p in rel_path.split("/")[:-1]][::-1] + [folder_name]
    for folder in folders:  # nearest folder first: _posts/es/x.md → "es"
        lang = canonical_language(folder)
        if lang in _KNOWN_LANGS:
            return lang
    sample = " ".join([title] + [p.text for p in passages[:12]])[:2000]
    return _detect(sample)


def _detect(text: str) -> str:
    # Imported lazily: knowledge.detect is written in parallel and may be heavy to import.
    global _detector, _detector_missing
    if _detector is None and not _detector_missing:
        try:
            from knowledge.detect import detect_language
        except ImportError:
            _detector_missing = True
        else:
            _detector = detect_language
    if _detector is None:
        return "en"
    try:
        return canonical_language(_detector(text, hint=None)) or "en"
    except Exception:  # a detector bug must not stop loading
        return "en"


# ---------------------------------------------------------------- folders
def _inside(real: str, roots: Sequence[str]) -> bool:
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _is_note(name: str) -> bool:
    return name.lower().endswith(NOTE_SUFFIXES)


def _links_in(folder: str) -> frozenset[str]:
    try:
        with os.scandir(folder) as entries:
            return frozenset(entry.name for entry in entries if entry.is_symlink())
    except OSError:
        return frozenset()


def _walk(folder: str, roots: tuple[str, ...], problems: list[LoadProblem]) -> Iterator[tuple[str, str, bool]]:
    """Yield (path, rel_path, reached_through_a_symlink) for every note file under `folder`.

    Symlinked folders are followed only when they lead inside a notes folder, and each real
    folder is entered once through a link, so symlink loops end."""
    real_root = os.path.realpath(folder)
    visited = {real_root}

    def on_error(e: OSError) -> None:
        problems.append(LoadProblem(os.path.abspath(e.filename or folder), f"unreadable folder: {e.strerror or e}"))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=on_error, followlinks=True):
        real_dir = os.path.realpath(dirpath)
        visited.add(real_dir)
        rel_dir = os.path.relpath(dirpath, folder)
        rel_prefix = Path(rel_dir).as_posix()
        via_link = real_dir != os.path.normpath(os.path.join(real_root, rel_dir))
        keep = []
        for name in sorted(dirnames):
            if name.startswith("."):  # .git, .github, editor folders: not notes
                continue
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                target = os.path.realpath(full)
                if not _inside(target, roots):
                    problems.append(LoadProblem(os.path.abspath(full), OUTSIDE))
                    continue
                if target in visited:  # a loop, or a folder already walked
                    continue
                visited.add(target)
            keep.append(name)
        dirnames[:] = keep
        notes_here = sorted(name for name in filenames if _is_note(name))
        # One directory listing says which entries are links (no lstat per file).
        links_here = _links_in(dirpath) if notes_here else frozenset()
        for name in notes_here:
            full = os.path.join(dirpath, name)
            linked = name in links_here
            if linked and not _inside(os.path.realpath(full), roots):
                problems.append(LoadProblem(os.path.abspath(full), OUTSIDE))
                continue
            # String joins, not relpath: this runs for every note of a big blog on every reload.
            rel = name if rel_dir == "." else f"{rel_prefix}/{name}"
            yield full, rel, via_link or linked


def load_notes(folders: Sequence[str | os.PathLike[str]], max_bytes: int = MAX_BYTES,
               known: Mapping[str, Note] | None = None,
               stamps: Mapping[str, tuple[int, int]] | None = None,
               read_many: Callable[[list[ReadJob]], list[Note | LoadProblem | None]] | None = None) -> LoadResult:
    """Load every *.md / *.markdown under the folders (recursively, in sorted order).

    `known` maps paths to notes parsed before (a cache): a file whose size and modification
    time are still those in `stamps` is not even read, and one whose bytes hash the same is
    not parsed again. `read_many` reads the files that must be read, in order (default: one
    after the other, here; knowledge.parallel spreads them over processes).
    """
    read_many = read_many or read_notes
    problems: list[LoadProblem] = []
    roots = tuple(os.path.realpath(os.fspath(f)) for f in folders if os.path.isdir(f))
    found: list[tuple[str, str, str, bool]] = []  # (path, rel_path, folder, via_link)
    best: dict[str, int] = {}  # real path → index in `found`: each real file loads once
    for folder in folders:
        folder_s = os.path.abspath(os.fspath(folder))
        if not os.path.isdir(folder_s):
            what = "not a folder" if os.path.exists(folder_s) else "notes folder not found"
            problems.append(LoadProblem(folder_s, what))
            continue
        real_folder = os.path.realpath(folder_s)
        for path, rel, via_link in _walk(folder_s, roots, problems):
            # Only a path through a symlink needs resolving; the rest lie under the real folder.
            real = os.path.realpath(path) if via_link else os.path.join(real_folder, rel)
            seen = best.get(real)
            if seen is None or (found[seen][3] and not via_link):  # prefer the real path to a link
                best[real] = len(found)
            found.append((path, rel, folder_s, via_link))
    kept: dict[int, Note] = {}  # position in `order` → note not read again
    jobs: list[ReadJob] = []
    order = sorted(best.values())
    seen_stamps: dict[str, tuple[int, int]] = {}
    for position, index in enumerate(order):
        path, rel, folder_s, _ = found[index]  # path is absolute: the folders were made absolute
        before = known.get(path) if known else None
        if before is not None and before.rel_path != rel:
            before = None
        try:
            status = os.stat(path)
            stamp: tuple[int, int] | None = (status.st_size, status.st_mtime_ns)
        except OSError:
            stamp = None
        if stamp is not None:
            seen_stamps[path] = stamp
        if before is not None and stamp is not None and stamps and stamps.get(path) == stamp:
            kept[position] = before  # unchanged since it was read: not even opened
        else:
            jobs.append(ReadJob(path, rel, os.path.basename(folder_s), max_bytes,
                                before.content_hash if before is not None else None, stamp[0] if stamp else 0))
    results = iter(read_many(jobs))
    notes: list[Note] = []
    for position, index in enumerate(order):
        note = kept.get(position)
        if note is None:
            result = next(results)
            path = found[index][0]
            if isinstance(result, LoadProblem):
                seen_stamps.pop(path, None)  # read again next time, whatever happened
                problems.append(result)
                continue
            note = result if result is not None else known[path]  # type: ignore[index]
        notes.append(note)
    return LoadResult(tuple(notes), tuple(problems), seen_stamps)
