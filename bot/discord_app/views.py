"""The buttons under an answer: 👍 / 👎, "Show in <language>", and "Delete" (the asker only).

They are `DynamicItem`s: everything a click needs is in the button's custom ID
(the journal entry, the vote, the language, the asker), and the bot registers
the three templates at start (`bot.add_dynamic_items`), so buttons on answers
sent before a restart keep working, with no view object kept in memory.

    nb:vote:<entry>:up|down     nb:show:<entry>:<language>     nb:del:<asker>

<entry> is the ID of the interaction or message the question came in, which is
also the question's journal key. Votes and "Show in" read the journal, so they
are offered only while it is on; "Delete" needs nothing but the asker's ID.
"""
from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from knowledge.i18n import Catalog
from knowledge.model import Answer, Outcome

from ..catalog import ui_language
from ..journal.store import JournalError, JournalRow
from .client import send_replies
from .markup import without_discord_markup
from .render import render_answer, render_notice

if TYPE_CHECKING:
    from .client import NotesBot

_log = logging.getLogger(__name__)
T = TypeVar("T")

BUTTONS_PER_ROW = 5
MAX_SHOW_BUTTONS = 15  # rows 1-3; row 0 holds the votes and Delete
LABEL_LIMIT = 80  # Discord's limit on a button label


async def _notice(interaction: discord.Interaction[NotesBot], key: str) -> None:
    """A notice only the clicker sees: the first response, or the followup after a deferral."""
    text = interaction.client.catalog.text(ui_language(interaction.locale), key)
    await send_replies(interaction, [render_notice(text)], ephemeral=True)


async def _acknowledge(interaction: discord.Interaction[NotesBot]) -> None:
    # Before any work that can take time (the journal's queue, an answer): Discord drops a click
    # not acknowledged within 3 s of its creation, and a click can reach us late already.
    await interaction.response.defer(ephemeral=True, thinking=True)


_FAILED = object()


async def _journal(interaction: discord.Interaction[NotesBot], future: Future[T]) -> T | object:
    """The journal's answer, or _FAILED after one logged line and a notice to the user (a broken
    disk must not turn a click into "This interaction failed" and a traceback)."""
    try:
        return await asyncio.wrap_future(future)
    except (sqlite3.Error, JournalError) as error:
        _log.warning("Journal unavailable for a button click: %s", error)
        await _notice(interaction, "reply.error")
        return _FAILED


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"nb:vote:(?P<entry>\d+):(?P<value>up|down)"):
    def __init__(self, entry: int, value: str) -> None:
        self.entry, self.value = entry, value
        super().__init__(discord.ui.Button(
            emoji="👍" if value == "up" else "👎", style=discord.ButtonStyle.secondary,
            custom_id=f"nb:vote:{entry}:{value}", row=0,
        ))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> VoteButton:
        return cls(int(match["entry"]), match["value"])

    async def callback(self, interaction: discord.Interaction[NotesBot]) -> None:  # type: ignore[override]
        journal = interaction.client.journal
        if journal is None:
            await _notice(interaction, "feedback.off")
            return
        await _acknowledge(interaction)
        vote = journal.vote(self.entry, interaction.user.id, 1 if self.value == "up" else -1)
        known = await _journal(interaction, vote)
        if known is _FAILED:
            return
        await _notice(interaction, ("feedback.thanks_up" if self.value == "up" else "feedback.thanks_down")
                      if known else "feedback.gone")


class ShowButton(discord.ui.DynamicItem[discord.ui.Button],
                 template=r"nb:show:(?P<entry>\d+):(?P<lang>[a-z]{2,3}(?:-[a-z]{2,4})?)"):
    def __init__(self, entry: int, lang: str, label: str = "…", row: int = 1) -> None:
        self.entry, self.lang = entry, lang
        super().__init__(discord.ui.Button(
            label=label[:LABEL_LIMIT], style=discord.ButtonStyle.secondary, custom_id=f"nb:show:{entry}:{lang}",
            row=row,
        ))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> ShowButton:
        return cls(int(match["entry"]), match["lang"])

    async def callback(self, interaction: discord.Interaction[NotesBot]) -> None:  # type: ignore[override]
        bot = interaction.client
        if bot.journal is None:
            await _notice(interaction, "feedback.off")
            return
        await _acknowledge(interaction)
        row = await _journal(interaction, bot.journal.entry(self.entry))
        if row is _FAILED:
            return
        # Unknown, or its text is past retention.
        if not isinstance(row, JournalRow) or not row.question or not row.source_path:
            await _notice(interaction, "feedback.gone")
            return
        engine = bot.engine
        answer = await asyncio.to_thread(engine.ask_in, without_discord_markup(row.question), row.source_path,
                                         self.lang)
        if answer is None:  # that translation was removed since
            await _notice(interaction, "feedback.gone")
            return
        await send_replies(interaction, render_answer(answer, bot.catalog), ephemeral=True)


class DeleteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"nb:del:(?P<asker>\d+)"):
    def __init__(self, asker: int, label: str = "…") -> None:
        self.asker = asker
        super().__init__(discord.ui.Button(
            label=label[:LABEL_LIMIT], emoji="🗑️", style=discord.ButtonStyle.secondary, custom_id=f"nb:del:{asker}",
                row=0,
        ))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> DeleteButton:
        return cls(int(match["asker"]))

    async def callback(self, interaction: discord.Interaction[NotesBot]) -> None:  # type: ignore[override]
        if interaction.user.id != self.asker:
            await _notice(interaction, "feedback.delete_refused")
            return
        await interaction.response.defer()  # acknowledged without a new message: the answer just goes
        if interaction.message is not None:
            try:
                await interaction.message.delete()
            except discord.NotFound:  # deleted already (two quick clicks)
                pass
            except discord.HTTPException as error:  # e.g. a thread archived meanwhile
                _log.warning("Could not delete answer %s: %s", interaction.message.id, error)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (VoteButton, ShowButton, DeleteButton)


def answer_view(answer: Answer, catalog: Catalog, *, entry: int, asker: int, languages: tuple[str, ...],
                journal: bool) -> discord.ui.View | None:
    """The buttons for one answer; for "not sure", the votes and Delete (was the passage offered the
    answer after all?); None for "I don't know" (nothing to vote on, show or keep)."""
    if answer.outcome is Outcome.UNKNOWN:
        return None
    ui = answer.language
    view = discord.ui.View(timeout=None)
    if journal:
        view.add_item(VoteButton(entry, "up"))
        view.add_item(VoteButton(entry, "down"))
    view.add_item(DeleteButton(asker, catalog.text(ui, "feedback.delete")))
    if journal and answer.answered:
        others = [lang for lang in languages if lang != answer.answer_language][:MAX_SHOW_BUTTONS]
        for i, lang in enumerate(others):
            label = catalog.text(ui, "feedback.show_in", language=catalog.language_name(lang, ui))
            view.add_item(ShowButton(entry, lang, label, row=1 + i // BUTTONS_PER_ROW))
    return view
