"""Watching the notes folders (`notes.watch: true`): a change on disk becomes a reload within seconds.

Events are batched by watchfiles' debounce (an editor's save, a `git pull` or a copied
folder is one reload, not hundreds), then go through the same `reload_engine` as `/reload`:
the same lock, the same atomic swap, the same rule that a note that broke keeps the old
index. watchfiles is the optional extra `notes-bot[watch]`; `missing_watcher()` says so
before the bot starts, instead of a feature that is silently off.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from discord.ext import commands

from knowledge.notes import NOTE_SUFFIXES

from .reload import reload_engine

if TYPE_CHECKING:
    from ..client import NotesBot

_log = logging.getLogger(__name__)

DEBOUNCE_MS = 1000  # changes closer together than this are one batch, one reload
RETRY_SECONDS = 5.0  # the watcher itself failed (a folder vanished): start it again after this


def missing_watcher() -> str | None:
    """Why `notes.watch: true` cannot work here, or None when it can."""
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        return ("notes.watch is true but the watchfiles package is not installed: "
                "pip install 'notes-bot[watch]', or set notes.watch: false and use /reload")
    return None


def is_note_change(change: Any, path: str) -> bool:
    """Markdown files, and deletions of anything (a deleted folder takes its notes with it)."""
    import watchfiles  # the optional extra: imported only when watching

    if not watchfiles.DefaultFilter()(change, path):  # .git, editor swap files, ...
        return False
    return path.lower().endswith(NOTE_SUFFIXES) or change == watchfiles.Change.deleted


class NotesWatcher(commands.Cog):
    """Runs one background task that waits for changes and reloads; stopped with the bot."""

    def __init__(self, bot: NotesBot, debounce_ms: int = DEBOUNCE_MS) -> None:
        self.bot = bot
        self.folders: tuple[Path, ...] = tuple(bot.engine.folders) or bot.config.notes.folders
        self.debounce_ms = debounce_ms
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.reloads = 0  # batches handled, for tests and the curious

    async def cog_load(self) -> None:
        self.task = asyncio.create_task(self.watch(), name="notes-watcher")

    async def cog_unload(self) -> None:
        self.stopping.set()
        if self.task is not None:
            await self.task

    async def watch(self) -> None:
        import watchfiles

        _log.info("Watching %s for changed notes", ", ".join(map(str, self.folders)))
        while not self.stopping.is_set():
            try:
                async for changes in watchfiles.awatch(
                    *self.folders, watch_filter=is_note_change, debounce=self.debounce_ms,
                    stop_event=self.stopping, ignore_permission_denied=True,
                ):
                    await self.reload(len(changes))
            except Exception as exc:  # never a dead task nobody hears about: one line, then again
                _log.warning("Watching the notes folders failed (%s); trying again in %.0f s", exc, RETRY_SECONDS)
                try:
                    await asyncio.wait_for(self.stopping.wait(), RETRY_SECONDS)
                except TimeoutError:
                    pass

    async def reload(self, count: int) -> None:
        # reload_engine logs the outcome in one line (reloaded, cancelled or failed).
        _log.debug("Notes changed (%d file events): reloading", count)
        await reload_engine(self.bot)
        self.reloads += 1


async def setup(bot: NotesBot) -> None:
    if not bot.config.notes.watch:
        return
    problem = missing_watcher()
    if problem is not None:  # `run` refuses to start first; this is for bots built by hand
        _log.warning("%s", problem)
        return
    await bot.add_cog(NotesWatcher(bot))
