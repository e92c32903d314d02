"""/ask with autocomplete, and the "Answer from notes" message context menu."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from knowledge.model import Outcome

from ...catalog import ui_language
from ..answer_queue import defer_deadline
from ..client import send_replies
from ..feedback import Origin, after_answer, with_buttons
from ..render import one_line, render_answer, render_notice, shorten
from ..translator import command_text

if TYPE_CHECKING:
    from knowledge.model import Answer

    from ..client import NotesBot

_log = logging.getLogger(__name__)

CHOICE_LIMIT = 100  # characters in an autocomplete choice name or value
MAX_CHOICES = 25


class AskCog(commands.Cog):
    def __init__(self, bot: NotesBot) -> None:
        self.bot = bot
        # Context menus cannot be declared inside a cog with a decorator; build it here.
        self.answer_menu = app_commands.ContextMenu(
            name=command_text("command.answer.name"), callback=self.answer_message
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.answer_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.answer_menu.name, type=self.answer_menu.type)

    @app_commands.command(name=command_text("command.ask.name"), description=command_text("command.ask.description"))
    @app_commands.rename(question=command_text("command.ask.question.name"))
    @app_commands.describe(question=command_text("command.ask.question.description"))
    async def ask(self, interaction: discord.Interaction[NotesBot], question: app_commands.Range[str, 1, 1000]) -> None:
        await self.respond(interaction, question)

    @ask.autocomplete("question")
    async def ask_autocomplete(
        self, interaction: discord.Interaction[NotesBot], current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            titles = self.bot.engine.suggest(current, MAX_CHOICES)
        except Exception:
            # Autocomplete must never fail in the user's face; an empty list is a fine answer.
            _log.warning("Autocomplete failed for %r", current, exc_info=True)
            return []
        choices: list[app_commands.Choice[str]] = []
        seen: set[str] = set()
        for title in titles:
            text = shorten(one_line(title), CHOICE_LIMIT)
            if text and text not in seen:
                seen.add(text)
                choices.append(app_commands.Choice(name=text, value=text))
        return choices[:MAX_CHOICES]

    async def answer_message(self, interaction: discord.Interaction[NotesBot], message: discord.Message) -> None:
        question = message.content.strip()
        if not question:
            lang = ui_language(interaction.locale)
            await send_replies(interaction, [render_notice(self.bot.catalog.text(lang, "reply.no_text"))],
                               ephemeral=True)
            return
        await self.respond(interaction, question, question_url=message.jump_url)

    async def respond(
        self, interaction: discord.Interaction[NotesBot], question: str, *, question_url: str | None = None
    ) -> None:
        retry = self.bot.cooldown.hit(interaction.user.id)
        if retry is not None:
            lang = ui_language(interaction.locale)
            notice = self.bot.catalog.text(lang, "reply.cooldown", seconds=max(1, round(retry)))
            await send_replies(interaction, [render_notice(notice)], ephemeral=True)
            return
        answer = await self._answer(interaction, question)
        replies = render_answer(answer, self.bot.catalog, question_url=question_url)
        view = after_answer(self.bot, Origin.of_interaction(interaction, "menu" if question_url else "slash"), answer)
        # "I don't know" is for the asker only; answers, and the passages a "not sure" offers (others
        # may vote on them), are for everyone in the channel.
        await send_replies(interaction, with_buttons(replies, view), ephemeral=answer.outcome is Outcome.UNKNOWN)

    async def _answer(self, interaction: discord.Interaction[NotesBot], question: str) -> Answer:
        queue = self.bot.answers
        deadline = defer_deadline(interaction.created_at, self.bot.defer_after)
        task = asyncio.ensure_future(self.bot.answer(question, interaction.locale))
        try:
            # Wait for the answer only if it can come before the deadline; a backlog defers at once.
            if self.bot.defer_after > 0 and queue.expected_ready() < deadline:
                await asyncio.wait({task}, timeout=max(0.0, deadline - time.time()))
            if not task.done():
                # Public "thinking…": the answer usually is public. The price is that an
                # "I don't know" after a defer is public too (Discord keeps the defer's
                # visibility for the first followup); only under load or on a slow answer.
                async with queue.deferring():
                    await interaction.response.defer(thinking=True)
            return await task
        finally:
            if not task.done():  # the deferral failed: the answer is nobody's now
                task.cancel()
            # Retrieved either way: an answer that failed after its interaction was lost
            # must not end as "Task exception was never retrieved".
            task.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Future[Answer]) -> None:
    if not task.cancelled():
        task.exception()


async def setup(bot: NotesBot) -> None:
    await bot.add_cog(AskCog(bot))
