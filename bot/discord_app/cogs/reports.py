"""/unanswered and /stats: what the journal says, for the server's admins (same check as /reload).

A server's admins see only that server's questions; the command line
(`python -m bot report`) shows every server's and the DMs'.
"""
from __future__ import annotations

import asyncio
import dataclasses
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from knowledge.i18n import Catalog

from ...catalog import ui_language
from ...journal import reports
from ...journal.chart import bar_chart
from ...journal.store import JournalRow
from ..client import send_replies
from ..reloading.page import pull_failure_field
from ..render import FIELD_VALUE_LIMIT, Field, Page, bullet_list, fit, render_notice
from ..translator import command_text
from .admin import is_admin

if TYPE_CHECKING:
    from ..client import NotesBot

DEFAULT_DAYS = 7
MAX_DAYS = 365
CHART_NAME = "questions-per-day.png"
Days = app_commands.Range[int, 1, MAX_DAYS]


def unanswered_page(groups: list[reports.QuestionGroup], not_sure: list[reports.QuestionGroup], catalog: Catalog,
                    lang: str, days: int) -> Page:
    """The "I don't know"s and down-voted answers, then apart the "not sure"s with the notes they offered."""
    def t(key: str, **fields: object) -> str:
        return catalog.text(lang, key, **fields)

    title = t("report.unanswered_title", days=days)
    if not groups and not not_sure:
        return Page(title=title, body=t("report.unanswered_none", days=days))
    fields = []
    for group in groups:
        name = t("report.group", count=group.count, unanswered=group.unanswered, downvoted=group.downvoted)
        fields.append(_group_field(group, name, t("report.from_notes", notes=_notes(group))))
    for group in not_sure:
        name = t("report.not_sure_group", count=group.count, downvoted=group.downvoted)
        fields.append(_group_field(group, name, t("report.closest_notes", notes=_notes(group))))
    return Page(title=title, body=t("report.unanswered_help"), fields=tuple(fields))


def _group_field(group: reports.QuestionGroup, name: str, notes: str) -> Field:
    """`notes`: the line naming the group's notes, shown when it has any."""
    # Users wrote these: shown as quotes, never as markdown or links.
    lines = [f"> {discord.utils.escape_markdown(discord.utils.escape_mentions(e))}" for e in group.examples]
    if group.notes:
        lines.append(notes)
    return Field(f"{name} · {', '.join(group.languages)}", "\n".join(lines))


def _notes(group: reports.QuestionGroup) -> str:
    return discord.utils.escape_markdown("; ".join(group.notes))


def stats_page(stats: reports.Stats, catalog: Catalog, lang: str, days: int, chart: bool) -> Page:
    def t(key: str, **fields: object) -> str:
        return catalog.text(lang, key, **fields)

    def more(count: int) -> str:
        return t("reload.more", count=count)

    body = t("report.stats_summary", asked=stats.asked, answered=stats.answered,
             rate=f"{stats.answer_rate:.0%}", up=stats.up, down=stats.down)
    if stats.not_sure:
        body += "\n" + t("report.stats_not_sure", count=stats.not_sure)
    if chart:
        body += "\n\n" + t("report.chart_legend")
    fields = []
    if stats.asked:
        per_day = [f"{d.day}: {d.asked} / {d.answered}" for d in reversed(stats.days) if d.asked]
        fields.append(Field(t("report.per_day"), bullet_list(per_day, FIELD_VALUE_LIMIT, more), inline=True))
        languages = [f"{catalog.language_name(code, lang)}: {n}" for code, n in stats.languages]
        fields.append(Field(t("report.languages"), bullet_list(languages, FIELD_VALUE_LIMIT, more), inline=True))
    if stats.top_notes:
        notes = [t("report.note_line", count=n.answers, title=discord.utils.escape_markdown(n.title), up=n.up,
                   down=n.down) for n in stats.top_notes]
        fields.append(Field(t("report.top_notes"), bullet_list(notes, FIELD_VALUE_LIMIT, more)))
    return Page(title=t("report.stats_title", days=days), body=body, fields=tuple(fields))


class ReportsCog(commands.Cog):
    def __init__(self, bot: NotesBot) -> None:
        self.bot = bot

    async def _rows(self, interaction: discord.Interaction[NotesBot], days: int) -> list[JournalRow] | None:
        """The server's questions of the period, or None after telling the user why not."""
        lang = ui_language(interaction.locale)
        if not is_admin(interaction, self.bot.config.discord):
            await send_replies(interaction, [render_notice(self.bot.catalog.text(lang, "report.refused"))],
                               ephemeral=True)
            return None
        journal = self.bot.journal
        if journal is None:
            await send_replies(interaction, [render_notice(self.bot.catalog.text(lang, "report.off"))], ephemeral=True)
            return None
        await interaction.response.defer(ephemeral=True, thinking=True)
        since = reports.period_start(interaction.created_at.timestamp(), days)
        return await asyncio.wrap_future(journal.rows(since, guild_id=interaction.guild_id))

    @app_commands.command(name=command_text("command.unanswered.name"),
                          description=command_text("command.unanswered.description"))
    @app_commands.rename(days=command_text("command.report.days.name"))
    @app_commands.describe(days=command_text("command.report.days.description"))
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def unanswered(self, interaction: discord.Interaction[NotesBot], days: Days = DEFAULT_DAYS) -> None:
        rows = await self._rows(interaction, days)
        if rows is None:
            return
        groups, not_sure = await asyncio.to_thread(lambda: (reports.unanswered_groups(rows),
                                                            reports.not_sure_groups(rows)))
        lang = ui_language(interaction.locale)
        page = unanswered_page(groups, not_sure, self.bot.catalog, lang, days)
        await send_replies(interaction, fit(page, self.bot.catalog, lang), ephemeral=True)

    @app_commands.command(name=command_text("command.stats.name"),
                          description=command_text("command.stats.description"))
    @app_commands.rename(days=command_text("command.report.days.name"))
    @app_commands.describe(days=command_text("command.report.days.description"))
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def stats(self, interaction: discord.Interaction[NotesBot], days: Days = DEFAULT_DAYS) -> None:
        rows = await self._rows(interaction, days)
        if rows is None:
            return
        report = reports.stats(rows, interaction.created_at.timestamp(), days)
        lang = ui_language(interaction.locale)
        # A chart says more than a list only over several days with questions in them.
        chart = days > 1 and report.asked > 0
        page = stats_page(report, self.bot.catalog, lang, days, chart)
        failing = self.bot.pull_failures
        pull = pull_failure_field(failing.message, failing.since, self.bot.catalog, lang)
        if pull is not None:  # the admins who read /stats are the ones who can fix the notes' repository
            page = dataclasses.replace(page, fields=(pull, *page.fields))
        replies = fit(page, self.bot.catalog, lang)
        if not chart:
            await send_replies(interaction, replies, ephemeral=True)
            return
        image = await asyncio.to_thread(bar_chart, [(d.asked, d.answered) for d in report.days])
        embeds = list(replies[0].embeds)
        embeds[-1].set_image(url=f"attachment://{CHART_NAME}")
        await interaction.followup.send(embeds=embeds, file=discord.File(io.BytesIO(image), CHART_NAME), ephemeral=True)
        await send_replies(interaction, replies[1:], ephemeral=True)


async def setup(bot: NotesBot) -> None:
    await bot.add_cog(ReportsCog(bot))
