"""/reload: re-read the notes (admins only) and report what changed."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ...catalog import ui_language
from ...config import DiscordConfig
from ..client import send_replies
from ..reloading.page import render_reload
from ..reloading.reload import reload_engine
from ..render import render_notice
from ..translator import command_text

if TYPE_CHECKING:
    from ..client import NotesBot


def is_admin(interaction: discord.Interaction, config: DiscordConfig) -> bool:
    """Administrator or Manage Server, or a configured admin user or role."""
    user = interaction.user
    if user.id in config.admin_user_ids:
        return True
    # interaction.permissions comes with the interaction itself: no member cache needed.
    perms = interaction.permissions
    if perms.administrator or perms.manage_guild:
        return True
    if isinstance(user, discord.Member):
        return any(user.get_role(role_id) is not None for role_id in config.admin_role_ids)
    return False


class AdminCog(commands.Cog):
    def __init__(self, bot: NotesBot) -> None:
        self.bot = bot

    @app_commands.command(name=command_text("command.reload.name"),
                          description=command_text("command.reload.description"))
    # Hidden from members without Manage Server (server admins can grant it to
    # other roles in Server Settings → Integrations); checked again below
    # because that setting belongs to the server, not to us.
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reload(self, interaction: discord.Interaction[NotesBot]) -> None:
        lang = ui_language(interaction.locale)
        if not is_admin(interaction, self.bot.config.discord):
            await send_replies(interaction, [render_notice(self.bot.catalog.text(lang, "reload.refused"))],
                               ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await reload_engine(self.bot)
        await send_replies(interaction, render_reload(report, self.bot.catalog, lang), ephemeral=True)


async def setup(bot: NotesBot) -> None:
    await bot.add_cog(AdminCog(bot))
