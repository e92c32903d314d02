"""Rebuild the engine from the notes folders and swap it in, or keep the old one and say why.

A note that answered questions before and is broken now (or a folder that held
such notes and is gone) cancels the whole reload: the old index (with the note's last good
version) keeps answering until the note is fixed. A broken note that is new, or was already broken, is only
reported. Reloads run one at a time (the bot's reload lock), so two admins
clicking at once get two consistent reports.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.engine import Engine
from knowledge.indexing import refresh_engine
from knowledge.model import LoadProblem, Note

from .gitpull import pull_notes

if TYPE_CHECKING:
    from ..client import NotesBot

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class ReloadReport:
    installed: bool  # True: the new index answers from now on
    seconds: float
    notes: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    changes: Changes = field(default_factory=Changes)
    problems: tuple[str, ...] = ()  # every broken note of the new build, "path:line: message"
    regressions: tuple[str, ...] = ()  # broken notes that loaded before: why the reload was cancelled
    error: str | None = None  # the build itself failed
    pull_error: str | None = None  # `git pull` of the notes is failing: the notes on disk were reloaded as they are
    pull_failing_since: float | None = None  # time.time() of the first failed pull in a row


def _resolved_path(note: Note) -> str:
    return str(Path(note.path).resolve())


def diff_notes(old: tuple[Note, ...], new: tuple[Note, ...]) -> Changes:
    before = {_resolved_path(n): n for n in old}
    after = {_resolved_path(n): n for n in new}
    return Changes(
        added=tuple(sorted(after[k].rel_path for k in after.keys() - before.keys())),
        updated=tuple(sorted(after[k].rel_path for k in after.keys() & before.keys()
                             if after[k].content_hash != before[k].content_hash)),
        removed=tuple(sorted(before[k].rel_path for k in before.keys() - after.keys())),
    )


def regressions(old: tuple[Note, ...], problems: tuple[LoadProblem, ...]) -> tuple[LoadProblem, ...]:
    """Problems that lose notes the old index had: a note that broke, or a folder
    (missing, unreadable) that held loaded notes. Reporting them and keeping the
    old index beats silently answering from fewer notes."""
    loaded = [Path(n.path).resolve() for n in old]
    lost = []
    for problem in problems:
        where = Path(problem.path).resolve()
        if any(path == where or where in path.parents for path in loaded):
            lost.append(problem)
    return tuple(lost)


def describe(problem: LoadProblem, folders: tuple[Path, ...]) -> str:
    """"path:line: message" with the path relative to its notes folder (absolute paths say little in Discord)."""
    path = Path(problem.path)
    for folder in folders:
        try:
            relative = path.resolve().relative_to(folder)
        except ValueError:
            continue
        if relative.parts:  # a folder's own problem keeps its full path
            path = relative
        break
    where = f"{path.as_posix()}:{problem.line}" if problem.line else path.as_posix()
    return f"{where}: {problem.message}"


def _languages(engine: Engine) -> dict[str, int]:
    return dict(sorted(engine.stats()["languages"].items()))  # type: ignore[union-attr]


async def reload_engine(bot: NotesBot) -> ReloadReport:
    async with bot.reload_lock:
        old = bot.engine
        config = bot.config
        started = time.perf_counter()
        pull_error = await _pull(bot)
        pulls = {"pull_error": pull_error, "pull_failing_since": bot.pull_failures.since if pull_error else None}
        try:
            # Off the event loop. refresh_engine() reads only the files that changed and layers them
            # over the current index (the engine was built from this config's folders and options).
            new = await asyncio.to_thread(refresh_engine, old)
        except Exception as exc:  # any failure keeps the old index answering
            # One line: a watcher that retries every few seconds must not fill the log with tracebacks.
            _log.warning("Reload failed; keeping the previous notes: %s", exc)
            _log.debug("Reload failure", exc_info=True)
            return ReloadReport(
                installed=False, seconds=time.perf_counter() - started, notes=len(old.notes),
                languages=_languages(old), error=str(exc) or type(exc).__name__, **pulls,
            )
        seconds = time.perf_counter() - started
        broken = regressions(old.notes, new.problems)
        report = ReloadReport(
            installed=not broken, seconds=seconds, notes=len(new.notes), languages=_languages(new),
            changes=diff_notes(old.notes, new.notes),
            problems=tuple(describe(p, config.notes.folders) for p in new.problems),
            regressions=tuple(describe(p, config.notes.folders) for p in broken), **pulls,
        )
        if broken:
            _log.warning("Reload cancelled, %d note(s) broke: %s", len(broken), "; ".join(map(str, broken)))
            return report
        bot.swap_engine(new)
        _log.info("Reloaded %d notes in %.2f s (%d broken)", report.notes, seconds, len(report.problems))
        return report


async def _pull(bot: NotesBot) -> str | None:
    """`git pull` of the notes when configured; git's words when it fails (logged once per new failure).
    A failed pull never stops a reload: what changed on disk (a local edit) still loads."""
    git = bot.config.notes.git
    if git.repository is None:
        return None
    pulled = await asyncio.to_thread(pull_notes, git.repository, git.remote, git.branch)
    was_failing = bot.pull_failures.message is not None
    if bot.pull_failures.record(pulled, time.time()):
        _log.warning("git pull of %s failed; reloading the notes as they are on disk: %s", git.repository,
                     pulled.message)
    elif pulled.ok:
        _log.info("git pull of %s%s: %s", git.repository, " works again" if was_failing else "", pulled.describe())
    return None if pulled.ok else pulled.message
