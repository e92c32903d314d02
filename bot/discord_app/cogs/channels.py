"""Questions in messages: mentions anywhere, typed questions in configured channels, DMs.

Never answers bots (itself included), answers each message at most once, and
in configured channels stays quiet (or reacts) when the notes do not know, so a
busy channel is not flooded with "I don't know".
"""
from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import discord
from discord.ext import commands

from ..feedback import Origin, after_answer, record_answer, with_buttons
from ..render import one_line, render_answer, shorten

if TYPE_CHECKING:
    from ..client import NotesBot

_log = logging.getLogger(__name__)

UNKNOWN_REACTION = "🤷"
COOLDOWN_REACTION = "⏳"
THREAD_NAME_LIMIT = 100
Mode = Literal["mention", "channel", "dm"]


@dataclass
class SeenMessages:
    """The IDs of recently handled messages: a resumed gateway session can deliver a message twice."""

    capacity: int = 4096
    _ids: OrderedDict[int, None] = field(default_factory=OrderedDict, repr=False)

    def first_time(self, message_id: int) -> bool:
        if message_id in self._ids:
            return False
        self._ids[message_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True


@dataclass(frozen=True)
class Question:
    text: str
    mode: Mode


class ChannelsCog(commands.Cog):
    def __init__(self, bot: NotesBot) -> None:
        self.bot = bot
        self.seen = SeenMessages()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if not self.bot.accepts(message.created_at):  # asked after a stop began
            return
        question = self.question_in(message)
        if question is None:
            return
        retry = self.bot.cooldown.hit(message.author.id)
        if retry is not None:
            # A channel has no "only you can see this": a reaction is the quietest notice.
            await self._react(message, COOLDOWN_REACTION)
            return
        locale = message.guild.preferred_locale if message.guild else None
        answer = await self.bot.answer(question.text, locale)
        origin = Origin.of_message(message, question.mode)
        # Typed questions nobody addressed to the bot get answers only: an offer ("not sure") in a busy
        # channel is noise, as "I don't know" is; mentions and DMs get all three. Nothing was offered,
        # so the journal keeps it as "I don't know".
        if not answer.answered and question.mode == "channel":
            record_answer(self.bot, origin, replace(answer, closest=None))
            if self.bot.config.discord.unknown_in_channels == "react":
                await self._react(message, UNKNOWN_REACTION)
            return
        view = after_answer(self.bot, origin, answer)
        replies = render_answer(answer, self.bot.catalog, embeds=self._can_embed(message))
        await self._send(message, question.text, [r.kwargs() for r in with_buttons(replies, view)])

    # -- deciding

    def question_in(self, message: discord.Message) -> Question | None:
        me = self.bot.user
        if me is None or message.author.bot or message.webhook_id is not None or message.author.id == me.id:
            return None
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return None
        if not self.seen.first_time(message.id):
            return None
        config = self.bot.config.discord
        if message.guild is None:
            return Question(self._strip_mentions(message), "dm") if config.dms else None
        if self._mentions_me(message):
            return Question(self._strip_mentions(message), "mention")
        if self._in_configured_channel(message):
            text = message.content.strip()
            if text and (config.trigger == "every" or self.bot.questions.looks_like_question(text)):
                return Question(text, "channel")
        return None

    def _mentions_me(self, message: discord.Message) -> bool:
        me = self.bot.user
        assert me is not None
        if any(user.id == me.id for user in message.mentions):
            return True
        # People often pick the bot's own role from the @ menu instead of the bot user.
        my_role = self._my_role(message.guild)
        return my_role is not None and my_role.id in message.raw_role_mentions

    @staticmethod
    def _my_role(guild: discord.Guild | None) -> discord.Role | None:
        return guild.self_role if guild is not None else None

    def _strip_mentions(self, message: discord.Message) -> str:
        me = self.bot.user
        assert me is not None
        text = re.sub(rf"<@!?{me.id}>", " ", message.content)
        role = self._my_role(message.guild)
        if role is not None:
            text = text.replace(f"<@&{role.id}>", " ")
        return " ".join(text.split())

    def _in_configured_channel(self, message: discord.Message) -> bool:
        channels = self.bot.config.discord.channels
        channel = message.channel
        parent_id = getattr(channel, "parent_id", None)  # threads inside a configured channel count too
        return channel.id in channels or (parent_id is not None and parent_id in channels)

    # -- answering

    def _can_embed(self, message: discord.Message) -> bool:
        guild = message.guild
        if guild is None or guild.me is None:
            return True
        return message.channel.permissions_for(guild.me).embed_links

    async def _send(self, message: discord.Message, question: str, replies: list[dict]) -> None:
        if not replies:
            return
        try:
            target = await self._thread_for(message, question)
            if target is not None:
                await target.send(**replies[0])
            elif self._can_reply(message):
                await message.reply(**replies[0], mention_author=False)
                target = message.channel
            else:  # a reply needs Read Message History; a plain message does not
                target = message.channel
                await target.send(**replies[0])
            for reply in replies[1:]:
                await target.send(**reply)
        except discord.Forbidden:
            _log.warning("Missing permission to answer in channel %s", message.channel.id)

    @staticmethod
    def _can_reply(message: discord.Message) -> bool:
        guild = message.guild
        if guild is None or guild.me is None:
            return True
        return message.channel.permissions_for(guild.me).read_message_history

    async def _thread_for(self, message: discord.Message, question: str) -> discord.Thread | None:
        if not self.bot.config.discord.reply_in_thread or not isinstance(message.channel, discord.TextChannel):
            return None
        name = shorten(one_line(question), THREAD_NAME_LIMIT) or "…"
        try:
            return await message.create_thread(name=name)
        except discord.HTTPException as exc:
            # No permission to create threads: answer in the channel instead.
            _log.warning("Could not open a thread in channel %s (%s); replying in the channel", message.channel.id, exc)
            return None

    @staticmethod
    async def _react(message: discord.Message, emoji: str) -> None:
        try:
            await message.add_reaction(emoji)
        except discord.HTTPException as exc:
            _log.warning("Could not react in channel %s: %s", message.channel.id, exc)


async def setup(bot: NotesBot) -> None:
    await bot.add_cog(ChannelsCog(bot))
