"""The journal's lifecycle and the answer buttons' registration (no commands of its own).

Loaded first, so the journal is open before any question arrives; unloaded by
`Bot.close()`, which writes what is queued and closes SQLite.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from discord.ext import commands

from ...journal import open_journal
from ...journal.store import JournalError
from ..views import DYNAMIC_ITEMS

if TYPE_CHECKING:
    from ..client import NotesBot

_log = logging.getLogger(__name__)


class FeedbackCog(commands.Cog):
    def __init__(self, bot: NotesBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        # Registered once for the bot's life: a click on a button sent before a restart is
        # matched by its custom ID against these templates.
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        config = self.bot.config
        if not config.journal.enabled:
            return
        try:
            self.bot.journal = await asyncio.to_thread(open_journal, config)
        except JournalError as error:
            # Answering is the bot's job; the journal is not worth refusing to start for.
            _log.warning("Journal off: %s", error)
            return
        _log.info("Journal at %s (question text kept %d days, user IDs %s)", config.journal_path,
                  config.journal.retention_days, "stored" if config.journal.store_user_ids else "not stored")

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        journal, self.bot.journal = self.bot.journal, None
        if journal is not None:
            await asyncio.to_thread(journal.close)


async def setup(bot: NotesBot) -> None:
    await bot.add_cog(FeedbackCog(bot))
