"""The Discord client: a `commands.Bot` that holds the current engine and loads one cog per feature.

The engine is built before the bot goes online and handed in; `/reload` builds a
new one off the event loop and swaps it in with a single attribute assignment,
so a question always sees one whole index, old or new, never half of each.
"""
from __future__ import annotations

import asyncio
import datetime
import logging
import sys
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from knowledge.engine import Engine
from knowledge.i18n import Catalog
from knowledge.model import Answer

from ..catalog import bot_catalog, ui_language
from ..config import Config, DiscordConfig
from ..journal.store import Journal
from .answer_queue import AnswerQueue, QueueClosed
from .cooldown import UserCooldown
from .markup import without_discord_markup
from .questions import QuestionDetector
from .reloading.gitpull import PullFailures
from .render import Reply, render_notice
from .sync import SyncResult, sync_commands
from .translator import CatalogTranslator

_log = logging.getLogger(__name__)

# Discord drops an interaction not acknowledged within 3 s of its creation: an answer not
# ready this many seconds after the interaction was created is deferred first (0: always
# defer). The rest of the 3 s is for the deferral to reach Discord from a busy bot.
DEFER_AFTER = 1.5

UNKNOWN_INTERACTION = 10062  # Discord's error code for an interaction that expired

_COGS = "bot.discord_app.cogs."
EXTENSIONS = (_COGS + "feedback", _COGS + "ask", _COGS + "channels", _COGS + "admin", _COGS + "help",
              _COGS + "reports", "bot.discord_app.reloading.watching")


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


def describe_error(error: BaseException) -> str:
    """One line for a log: the exception's type and message (a command's wrapped cause first)."""
    error = getattr(error, "original", None) or error
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class NotesTree(app_commands.CommandTree["NotesBot"]):
    async def interaction_check(self, interaction: discord.Interaction[NotesBot], /) -> bool:
        bot = interaction.client
        if bot.accepts(interaction.created_at):
            return True
        # Stopping: no new work, but a notice rather than "The application did not respond".
        if interaction.type is not discord.InteractionType.autocomplete:
            notice = bot.catalog.text(ui_language(interaction.locale), "reply.stopping")
            await notify(interaction, notice, "the stop notice")
        return False

    async def on_error(self, interaction: discord.Interaction[NotesBot], error: app_commands.AppCommandError) -> None:
        # Log with the command name (never the interaction token), then tell the
        # user something went wrong instead of leaving "The application did not respond".
        name = interaction.command.qualified_name if interaction.command else "?"
        bot = interaction.client
        cause = getattr(error, "original", error)
        if isinstance(cause, QueueClosed):
            # The stop's time for answers ran out before this question's turn: "ask again", not silence.
            notice = bot.catalog.text(ui_language(interaction.locale), "reply.stopping")
            await notify(interaction, notice, "the stop notice")
            return
        if bot.stopping or bot.is_closed():
            # The bot stopped under this command (closed session, gateway gone): expected, and nobody to tell.
            _log.warning("Command %s could not finish while stopping: %s", name, describe_error(error))
            return
        if isinstance(cause, discord.NotFound) and cause.code == UNKNOWN_INTERACTION:
            # Too late for Discord (more than 3 s, or the token expired): nobody can be told.
            age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
            _log.warning("Command %s: the interaction expired before the reply (%.1f s after it was created)", name,
                         age)
            return
        _log.error("Command %s failed", name, exc_info=error)
        await notify(interaction, bot.catalog.text(ui_language(interaction.locale), "reply.error"),
                     f"the failure of {name}")


async def notify(interaction: discord.Interaction[NotesBot], text: str, what: str) -> None:
    """A short ephemeral notice; if it cannot be sent (the interaction expired, the bot is
    stopping), one warning line instead, never an exception."""
    try:
        await send_replies(interaction, [render_notice(text)], ephemeral=True)
    except Exception as exc:
        _log.warning("Could not send %s to the user: %s", what, describe_error(exc))


class NotesBot(commands.Bot):
    def __init__(self, config: Config, engine: Engine, *, catalog: Catalog | None = None, **options: Any) -> None:
        # The bot never joins voice: discord.py's class switches for its "PyNaCl / davey is not
        # installed" warnings, which would only make operators look for a missing dependency.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
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
        self.answers = AnswerQueue()
        self.pull_failures = PullFailures()  # notes.git: the pull failing now, shown to admins
        self.stopping = False  # set when a stop begins (bot.runner): no new work from then on…
        self.stopped_at: float | None = None  # …but what was asked before it (time.time()) is in flight

    # -- the engine

    @property
    def engine(self) -> Engine:
        return self._engine

    def swap_engine(self, engine: Engine) -> Engine:
        """Install a new engine; returns the old one. One assignment: atomic for every reader."""
        old, self._engine = self._engine, engine
        return old

    async def answer(self, question: str, locale: discord.Locale | str | None) -> Answer:
        """Ask the current engine off the event loop, behind acknowledgements (see bot.answer_queue)."""
        engine = self._engine  # one index for the whole question, even if a reload swaps meanwhile
        hint = locale.value if isinstance(locale, discord.Locale) else locale
        return await self.answers.ask(engine, without_discord_markup(question), hint)

    # -- lifecycle

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CatalogTranslator(self.catalog))
        for extension in EXTENSIONS:
            if extension not in self.extensions:  # a login retried after a network error runs this again
                await self.load_extension(extension)
        self.last_sync = await sync_commands(self, self.config.discord.guild_ids, self.config.discord.data_dir)

    async def on_ready(self) -> None:
        stats = self.engine.stats()
        _log.info("Ready as %s (ID %s): %s notes, %s guilds", self.user, self.user.id if self.user else "?",
                  stats.get("notes"), len(self.guilds))

    def accepts(self, created_at: datetime.datetime) -> bool:
        """Is a question created at this time ours to answer? Everything, until a stop begins;
        then only what was asked before (it may still be on its way to us from the gateway)."""
        return not self.stopping or (self.stopped_at is not None and created_at.timestamp() <= self.stopped_at)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        if self.stopping or self.is_closed():
            _log.warning("%s could not finish while stopping: %s", event_method,
                         describe_error(sys.exc_info()[1] or Exception()))
            return
        await super().on_error(event_method, *args, **kwargs)

    async def close(self) -> None:
        await super().close()
        self.answers.close()

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
