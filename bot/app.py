"""The Discord client: a `commands.Bot` that holds the current engine and loads one cog per feature.

The engine is built before the bot goes online and handed in; `/reload` builds a
new one off the event loop and swaps it in with a single attribute assignment,
so a question always sees one whole index, old or new, never half of each.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from knowledge.engine import Engine
from knowledge.i18n import Catalog
from knowledge.model import Answer

from .config import Config, DiscordConfig
from .cooldown import UserCooldown
from .i18n import bot_catalog, ui_language
from .journal import Journal
from .questions import QuestionDetector
from .render import Reply, render_notice
from .sync import SyncResult, sync_commands
from .translator import CatalogTranslator

_log = logging.getLogger(__name__)

# Discord drops an interaction not acknowledged within 3 s: an answer not ready
# after this many seconds is deferred first (0: always defer).
DEFER_AFTER = 2.0

EXTENSIONS = ("bot.cogs.feedback", "bot.cogs.ask", "bot.cogs.channels", "bot.cogs.admin", "bot.cogs.help",
              "bot.cogs.reports", "bot.watching")


def intents_for(config: DiscordConfig) -> discord.Intents:
    """The fewest intents the configuration needs.

    A mention of the bot carries its content even without the privileged
    message content intent, so that intent is requested only when the bot must
    read messages that do not mention it (configured channels, DMs).
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = config.typed_questions
    intents.dm_messages = config.dms
    return intents


class NotesTree(app_commands.CommandTree["NotesBot"]):
    async def on_error(self, interaction: discord.Interaction["NotesBot"], error: app_commands.AppCommandError) -> None:
        # Log with the command name (never the interaction token), then tell the
        # user something went wrong instead of leaving "The application did not respond".
        name = interaction.command.qualified_name if interaction.command else "?"
        _log.error("Command %s failed", name, exc_info=error)
        lang = ui_language(interaction.locale)
        try:
            await send_replies(interaction, [render_notice(interaction.client.catalog.text(lang, "reply.error"))], ephemeral=True)
        except discord.HTTPException as exc:  # e.g. the interaction expired: nobody is left to tell
            _log.warning("Could not report the failure of %s to the user: %s", name, exc)


class NotesBot(commands.Bot):
    def __init__(self, config: Config, engine: Engine, *, catalog: Catalog | None = None, **options: Any) -> None:
        super().__init__(
            # Prefix commands are not used; a prefix is required by commands.Bot and
            # on_message below never processes them.
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents_for(config.discord),
            # Bot-wide: neither an answer nor an echoed question can ever ping
            # @everyone, a role or a user.
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=NotesTree,
            **options,
        )
        self.config = config
        self.catalog = catalog or bot_catalog()
        self._engine = engine
        self.reload_lock = asyncio.Lock()  # two reloads run one after the other
        self.cooldown = UserCooldown(config.discord.cooldown.rate, config.discord.cooldown.per_seconds)
        self.questions = QuestionDetector.from_catalog(self.catalog)
        self.last_sync: SyncResult | None = None
        self.defer_after = DEFER_AFTER
        self.journal: Journal | None = None  # opened and closed by the feedback cog

    # -- the engine

    @property
    def engine(self) -> Engine:
        return self._engine

    def swap_engine(self, engine: Engine) -> Engine:
        """Install a new engine; returns the old one. One assignment: atomic for every reader."""
        old, self._engine = self._engine, engine
        return old

    async def answer(self, question: str, locale: discord.Locale | str | None) -> Answer:
        """Ask the current engine off the event loop (answers are fast, but the loop must never stall)."""
        engine = self._engine  # one index for the whole question, even if a reload swaps meanwhile
        hint = locale.value if isinstance(locale, discord.Locale) else locale
        return await asyncio.to_thread(engine.ask, question, hint)

    # -- lifecycle

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CatalogTranslator(self.catalog))
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.last_sync = await sync_commands(self, self.config.discord.guild_ids, self.config.discord.data_dir)

    async def on_ready(self) -> None:
        stats = self.engine.stats()
        _log.info("Ready as %s (ID %s): %s notes, %s guilds", self.user, self.user.id if self.user else "?",
                  stats.get("notes"), len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        # Replaces commands.Bot.on_message: there are no prefix commands, and
        # processing them would answer "command not found" to every mention.
        # Messages are handled by the channels cog.
        return


async def send_replies(
    interaction: discord.Interaction[Any], replies: list[Reply], *, ephemeral: bool
) -> None:
    """Send replies to an interaction, whether or not it was answered or deferred already."""
    for reply in replies:
        if not interaction.response.is_done():
            await interaction.response.send_message(**reply.kwargs(), ephemeral=ephemeral)
        else:
            await interaction.followup.send(**reply.kwargs(), ephemeral=ephemeral)
