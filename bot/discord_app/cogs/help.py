"""/help: what the bot does and how to ask, in the user's language."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from knowledge.model import NINE_LANGUAGES

from ...catalog import packaged_catalog, ui_language
from ..client import send_replies
from ..render import Page, fit
from ..translator import command_text

if TYPE_CHECKING:
    from knowledge.i18n import Catalog

    from ...config import DiscordConfig
    from ..client import NotesBot

# Each language is offered under its own name ("Español"), whatever the reader's locale.
LANGUAGE_CHOICES = [
    app_commands.Choice(name=packaged_catalog().text(lang, "language.native"), value=lang) for lang in NINE_LANGUAGES
]


def help_page(catalog: Catalog, lang: str, command_lang: str, config: DiscordConfig) -> Page:
    """The help text in `lang`; command names as Discord shows them to this user (`command_lang`)."""

    def t(key: str, **fields: object) -> str:
        return catalog.text(lang, key, **fields)

    def name(key: str) -> str:
        return catalog.text(command_lang, key)

    lines = [
        t("help.intro"),
        t("help.ask", command=name("command.ask.name"), option=name("command.ask.question.name")),
        t("help.mention"),
    ]
    if config.channels:
        lines.append(t("help.channels", channels=", ".join(f"<#{c}>" for c in config.channels)))
    if config.dms:
        lines.append(t("help.dms"))
    lines += [
        t("help.context", command=name("command.answer.name")),
        t("help.reload", command=name("command.reload.name")),
        t("help.languages"),
    ]
    return Page(title=t("help.title"), body="\n\n".join(lines))


class HelpCog(commands.Cog):
    def __init__(self, bot: NotesBot) -> None:
        self.bot = bot

    @app_commands.command(name=command_text("command.help.name"), description=command_text("command.help.description"))
    @app_commands.rename(language=command_text("command.help.language.name"))
    @app_commands.describe(language=command_text("command.help.language.description"))
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def help(self, interaction: discord.Interaction[NotesBot], language: str | None = None) -> None:
        # Discord has no Arabic client locale: the language option lets anyone pick.
        command_lang = ui_language(interaction.locale)
        lang = language if language in NINE_LANGUAGES else command_lang
        page = help_page(self.bot.catalog, lang, command_lang, self.bot.config.discord)
        await send_replies(interaction, fit(page, self.bot.catalog, lang), ephemeral=True)


async def setup(bot: NotesBot) -> None:
    await bot.add_cog(HelpCog(bot))
